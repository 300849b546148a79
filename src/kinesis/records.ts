import { hash, randomBytes } from 'node:crypto';
import { InvalidArgumentException, ValidationException } from '../protocol/errors.js';
import type { RecordInput, StoredRecord } from '../storage/types.js';
import { HASH_KEY_MAX } from './hash-key.js';
import type { Kinesis } from './service.js';
import { hashKeyBytes, type Shard } from './shard.js';
import type { Stream } from './stream.js';

/** A record of a put request, after decoding. */
export interface PutEntry {
  Data: Buffer;
  PartitionKey?: string;
  ExplicitHashKey?: string;
}

export interface PutResult {
  shard: Shard;
  sequenceNumber: string;
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
    throw new ValidationException(
      '1 validation error detected: Value null at \'partitionKey\' failed to satisfy constraint: Member must not be null',
    );
  }
  return hash('md5', entry.PartitionKey, 'buffer');
}

/** Checks one record against the stream's maximum record size (data and partition key). */
export function checkRecordSize(stream: Stream, entry: PutEntry, path: string): number {
  const size = entry.Data.length + (entry.PartitionKey ? Buffer.byteLength(entry.PartitionKey, 'utf8') : 0);
  const max = stream.meta.maxRecordSizeKiB * 1024;
  if (size > max) {
    throw new ValidationException(
      `1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=${entry.Data.length} cap=${entry.Data.length}]' ` +
        `at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return size;
}

/**
 * Writes entries to their shards: one append per shard, all shards in parallel, and returns each
 * entry's shard and sequence number in request order.
 */
export async function putEntries(k: Kinesis, stream: Stream, entries: readonly PutEntry[]): Promise<PutResult[]> {
  const now = k.now;
  const shardOf: Shard[] = new Array(entries.length);
  const groups = new Map<Shard, { inputs: RecordInput[]; positions: number[] }>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const shard = stream.route(routingKey(e, stream));
    shardOf[i] = shard;
    let g = groups.get(shard);
    if (!g) {
      g = { inputs: [], positions: [] };
      groups.set(shard, g);
    }
    g.inputs.push({ partitionKey: e.PartitionKey ?? '', data: e.Data });
    g.positions.push(i);
  }
  const results: PutResult[] = new Array(entries.length);
  await Promise.all(
    [...groups].map(async ([shard, g]) => {
      const log = await k.log(stream, shard);
      const { firstOffset, timestamp } = await log.append(g.inputs, now);
      for (let j = 0; j < g.positions.length; j++) {
        results[g.positions[j]!] = { shard, sequenceNumber: shard.seq.encode(firstOffset + j, timestamp) };
      }
    }),
  );
  return results;
}

/** A record as GetRecords returns it. */
export interface RecordOutput {
  SequenceNumber: string;
  ApproximateArrivalTimestamp: Date;
  Data: Buffer;
  /** Absent for a record of an AUTO stream written without a key. */
  PartitionKey: string | undefined;
}

export function toRecordOutput(shard: Shard, r: StoredRecord): RecordOutput {
  return {
    SequenceNumber: shard.seq.encode(r.offset, r.timestamp),
    ApproximateArrivalTimestamp: new Date(r.timestamp),
    Data: r.data,
    PartitionKey: r.partitionKey === '' ? undefined : r.partitionKey,
  };
}
