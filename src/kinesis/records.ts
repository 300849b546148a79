import { randomBytes } from 'node:crypto';
import { AwsError, InvalidArgumentException } from '../protocol/errors.js';
import { blob, lengthAtMost, NOT_NULL } from '../protocol/shape.js';
import { validationError, violation } from '../protocol/validate.js';
import { valueText } from '../protocol/value-text.js';
import type { AppendResult, RecordInput, StoredRecord } from '../storage/types.js';
import { HASH_KEY_MAX, hashKeyBytes, partitionKeyHashBytes } from '../util/hash-key.js';
import { sealForShard } from './at-rest.js';
import type { ShardLimits } from './limits/index.js';
import type { KinesisContext } from './context.js';
import type { Shard } from './shard.js';
import { appendToShard } from './shard-writes.js';
import type { Stream } from './stream.js';

/** A record of a put request, after decoding. */
export interface PutEntry {
  Data: Buffer;
  PartitionKey?: string;
  ExplicitHashKey?: string;
  /** Data and partition key bytes, once checkRecordSize has measured them. */
  size?: number;
}

export interface PutResult {
  shard: Shard;
  sequenceNumber: string;
  /**
   * Set when the shard's write throughput refused the record (see ./limits): nothing was written
   * for it and `sequenceNumber` is empty.
   */
  throttled?: true;
  /**
   * Set, to the storage engine's error, when the shard's log failed the append (an I/O error, a
   * full disk, a publish that timed out): `sequenceNumber` is empty and the record must be reported
   * as failed. The log may or may not hold it; a producer that retries may store it twice, which
   * Kinesis allows, but an acknowledged record is never one the log did not take.
   */
  fault?: unknown;
}

/** The most a PutRecords request may carry, data and partition keys together. */
export const PUT_RECORDS_MAX_BYTES = 10 * 1024 * 1024;

/** The 16-byte hash key that routes an entry. */
export function routingKey(entry: PutEntry, stream: Stream): Buffer {
  // AUTO streams spread records evenly, whatever key the producer gave.
  if (stream.meta.recordDistribution === 'AUTO') return randomBytes(16);
  if (entry.ExplicitHashKey !== undefined) {
    const value = BigInt(entry.ExplicitHashKey);
    if (value > HASH_KEY_MAX) {
      throw new InvalidArgumentException(
        `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${entry.ExplicitHashKey}`,
      );
    }
    return hashKeyBytes(value);
  }
  if (entry.PartitionKey === undefined) {
    throw validationError([violation(null, 'partitionKey', NOT_NULL)]);
  }
  return partitionKeyHashBytes(entry.PartitionKey);
}

/** How record data prints in a size violation. */
const BLOB = blob();

/** Data and partition-key bytes of a record, as size limits and write budgets count them; measured once. */
export function recordBytes(entry: PutEntry): number {
  return (entry.size ??= entry.Data.length + (entry.PartitionKey ? Buffer.byteLength(entry.PartitionKey, 'utf8') : 0));
}

/** Checks one record against the stream's maximum record size (data and partition key). */
export function checkRecordSize(stream: Stream, entry: PutEntry, path: string): number {
  const size = recordBytes(entry);
  const max = stream.meta.maxRecordSizeKiB * 1024;
  if (size > max) {
    throw validationError([violation(valueText(entry.Data, BLOB), path, lengthAtMost(max))]);
  }
  return size;
}

/**
 * Writes entries to their shards: one append per shard, all shards in parallel, and returns each
 * entry's shard and sequence number in request order. Entries routed to a shard that closed
 * meanwhile (resharding) are routed again, to its children. A shard whose log fails the append
 * marks its entries with the fault (see PutResult) and the other shards' appends stand; errors
 * that concern the request itself (AWS errors: the stream is gone) reject the whole call.
 */
export async function putEntries(k: KinesisContext, stream: Stream, entries: readonly PutEntry[]): Promise<PutResult[]> {
  const now = k.now;
  const limits = k.limits.enabled ? k.limits : undefined;
  const shardOf: Shard[] = new Array(entries.length);
  const groups = new Map<
    Shard,
    { inputs: RecordInput[]; positions: number[]; limits: ShardLimits | undefined; bytes: number; throttled: number }
  >();
  let throttled: number[] | undefined;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const shard = stream.route(routingKey(e, stream));
    shardOf[i] = shard;
    let g = groups.get(shard);
    if (!g) {
      g = { inputs: [], positions: [], limits: limits?.shard(stream, shard, now), bytes: 0, throttled: 0 };
      groups.set(shard, g);
    }
    const bytes = recordBytes(e);
    // Each record is admitted or refused by its shard's write limits on its own.
    if (g.limits !== undefined && !g.limits.admitWrite(bytes, now)) {
      (throttled ??= []).push(i);
      g.throttled++;
      continue;
    }
    g.bytes += bytes;
    g.inputs.push({ partitionKey: e.PartitionKey ?? '', data: e.Data });
    g.positions.push(i);
  }
  const results: PutResult[] = new Array(entries.length);
  if (throttled !== undefined) {
    for (const i of throttled) results[i] = { shard: shardOf[i]!, sequenceNumber: '', throttled: true };
  }
  let reroute: number[] | undefined;
  await Promise.all(
    [...groups].map(async ([shard, g]) => {
      if (g.throttled > 0) k.metrics.recordWriteThrottled(stream, shard.index, g.throttled, now);
      if (g.inputs.length === 0) return;
      const sealed = sealForShard(k, stream, shard.index, g.inputs, now);
      let appended: AppendResult | undefined;
      try {
        appended = await appendToShard(k, stream, shard, sealed, now);
      } catch (err) {
        // What AWS answers for the request as a whole (the stream is gone, a shard is being resharded elsewhere).
        if (err instanceof AwsError) throw err;
        // A stream whose deletion completes meanwhile has its logs closed: the stream is gone, not a log failing.
        if (stream.meta.status === 'DELETING') throw k.notFound(stream.name);
        // This shard's storage failed: its entries fail, the other shards' entries stand.
        const fault = err ?? new Error('the append failed');
        k.reportFault(fault, { stream: stream.name, shard: shard.id, records: g.positions.length });
        for (const i of g.positions) results[i] = { shard, sequenceNumber: '', fault };
        return;
      }
      if (!appended) {
        (reroute ??= []).push(...g.positions);
        return;
      }
      const { firstOffset, timestamp } = appended;
      k.metrics.recordIncoming(stream, shard.index, g.inputs.length, g.bytes, now);
      // The records are visible now: wake the shard's fan-out subscriptions.
      k.fanOut.appended(stream.key, shard.index);
      for (let j = 0; j < g.positions.length; j++) {
        results[g.positions[j]!] = { shard, sequenceNumber: shard.seq.encode(firstOffset + j, timestamp) };
      }
    }),
  );
  if (reroute) {
    const positions = reroute.sort((a, b) => a - b);
    const again = await putEntries(k, stream, positions.map((i) => entries[i]!));
    positions.forEach((i, j) => (results[i] = again[j]!));
  }
  return results;
}

/** A record as GetRecords returns it. */
export interface RecordOutput {
  SequenceNumber: string;
  ApproximateArrivalTimestamp: Date;
  Data: Buffer;
  /** Absent for a record of an AUTO stream written without a key. */
  PartitionKey: string | undefined;
  /** KMS for a record written while the stream was encrypted (see ./encryption). */
  EncryptionType?: 'KMS';
}

export function toRecordOutput(shard: Shard, r: StoredRecord): RecordOutput {
  const out: RecordOutput = {
    SequenceNumber: shard.seq.encode(r.offset, r.timestamp),
    ApproximateArrivalTimestamp: new Date(r.timestamp),
    Data: r.data,
    PartitionKey: r.partitionKey === '' ? undefined : r.partitionKey,
  };
  // A record stored encrypted (and opened by ./at-rest before it gets here).
  if (r.sealed === true) out.EncryptionType = 'KMS';
  return out;
}
