/**
 * Choosing the next PutRecords request of one shard from its queue, so that per-key order holds
 * whatever subset of the request fails:
 *  - a partition key appears in at most one entry of a request (an aggregated record succeeds or
 *    fails as a whole, so several records of one key may share an entry, in order);
 *  - once a key cannot go into the request (its entry is full, or the request is), its later
 *    records are skipped too, so a record never travels ahead of an earlier one of its key.
 * The queue is sorted by arrival; records of other keys may be taken past a skipped one.
 */
import { Aggregator, MAX_KINESIS_RECORD_BYTES } from '../aggregation.js';
import type { PendingRecord } from './types.js';

export interface BatchLimits {
  /** Entries (Kinesis records) allowed in this request: the request limit and the shard's record tokens. */
  maxEntries: number;
  /** Bytes (data + partition keys) allowed: the request limit and the shard's byte tokens. */
  maxBytes: number;
  /** Lets the first entry exceed maxBytes (the shard's byte bucket is full and the record is larger). */
  allowOversizeFirst: boolean;
  /** Aggregate user records into KPL aggregated records. */
  aggregation: boolean;
  aggregationMaxBytes: number;
  aggregationMaxCount: number;
  /** Queue positions looked at, at most. */
  scanLimit: number;
}

export interface BatchEntry {
  records: PendingRecord[];
  partitionKey: string;
  explicitHashKey: string | undefined;
  data: Uint8Array;
  /** Bytes Kinesis counts: data plus partition key. */
  bytes: number;
  aggregated: boolean;
}

export interface Batch {
  entries: BatchEntry[];
  bytes: number;
  /** Queue positions taken, ascending. */
  taken: number[];
}

function plainEntry(r: PendingRecord): BatchEntry {
  return {
    records: [r],
    partitionKey: r.partitionKey,
    explicitHashKey: r.explicitHashKey,
    data: r.data,
    bytes: r.bytes,
    aggregated: false,
  };
}

/** The next request from `queue` under `limits`; empty when not even the first record fits. */
export function buildBatch(queue: readonly PendingRecord[], limits: BatchLimits): Batch {
  return limits.aggregation ? buildAggregated(queue, limits) : buildPlain(queue, limits);
}

function buildPlain(queue: readonly PendingRecord[], limits: BatchLimits): Batch {
  const entries: BatchEntry[] = [];
  const taken: number[] = [];
  const used = new Set<string>();
  let bytes = 0;
  const end = Math.min(queue.length, limits.scanLimit);
  for (let i = 0; i < end && entries.length < limits.maxEntries; i++) {
    const r = queue[i]!;
    if (used.has(r.partitionKey)) continue;
    if (bytes + r.bytes > limits.maxBytes && !(entries.length === 0 && limits.allowOversizeFirst)) break;
    used.add(r.partitionKey);
    entries.push(plainEntry(r));
    taken.push(i);
    bytes += r.bytes;
  }
  return { entries, bytes, taken };
}

interface OpenEntry {
  agg: Aggregator;
  records: PendingRecord[];
  /** Bytes Kinesis counts for the entry as it stands: aggregated data plus the first partition key. */
  size: number;
}

function seal(e: OpenEntry): BatchEntry {
  if (e.records.length === 1) return plainEntry(e.records[0]!);
  const built = e.agg.build();
  const first = e.records[0]!;
  return {
    records: e.records,
    partitionKey: built.partitionKey,
    // Route the aggregate by its first record's hash key, so it lands on the shard predicted for all of them.
    explicitHashKey: first.hashKey.toString(),
    data: built.data,
    bytes: built.data.length + first.pkBytes,
    aggregated: true,
  };
}

/**
 * Several aggregated records are filled at once, each new key joining the smallest, so that a few
 * busy keys spread over as many entries as the queued bytes need (a key's records all go to its one
 * entry; when that entry is full the key waits for the next call).
 */
function buildAggregated(queue: readonly PendingRecord[], limits: BatchLimits): Batch {
  const open: OpenEntry[] = [];
  const plain: BatchEntry[] = [];
  const owner = new Map<string, OpenEntry | null>(); // null: the key went out as a plain entry
  const blocked = new Set<string>();
  const taken: number[] = [];
  let bytes = 0;
  let queued = 0;
  const end = Math.min(queue.length, limits.scanLimit);
  for (let i = 0; i < end; i++) queued += queue[i]!.bytes;
  const target = Math.max(1, Math.min(limits.maxEntries, Math.ceil(Math.min(queued, limits.maxBytes) / limits.aggregationMaxBytes)));
  const entries = (): number => open.length + plain.length;
  const tryAdd = (e: OpenEntry, r: PendingRecord): boolean => {
    const grown = e.agg.sizeWith(r.partitionKey, r.data, r.explicitHashKey) + e.records[0]!.pkBytes;
    if (bytes - e.size + grown > limits.maxBytes) return false;
    if (!e.agg.add(r.partitionKey, r.data, r.explicitHashKey)) return false;
    bytes += grown - e.size;
    e.size = grown;
    e.records.push(r);
    return true;
  };
  const openEntry = (r: PendingRecord): OpenEntry | undefined => {
    const agg = new Aggregator({ maxBytes: limits.aggregationMaxBytes, maxCount: limits.aggregationMaxCount });
    const size = agg.sizeWith(r.partitionKey, r.data, r.explicitHashKey) + r.pkBytes;
    if (r.bytes > limits.aggregationMaxBytes || size > MAX_ENTRY_BYTES || !agg.add(r.partitionKey, r.data, r.explicitHashKey)) return undefined;
    const e: OpenEntry = { agg, records: [r], size };
    open.push(e);
    bytes += size;
    return e;
  };
  for (let i = 0; i < end; i++) {
    const r = queue[i]!;
    const key = r.partitionKey;
    if (blocked.has(key)) continue;
    const o = owner.get(key);
    if (o !== undefined) {
      if (o === null || !tryAdd(o, r)) blocked.add(key);
      else taken.push(i);
      continue;
    }
    if (entries() === 0 && r.bytes > limits.maxBytes) {
      // Larger than what the call may carry: it goes alone if the shard's bucket is full.
      if (!limits.allowOversizeFirst) break;
      plain.push(plainEntry(r));
      taken.push(i);
      bytes += r.bytes;
      break;
    }
    // A new key joins the smallest open entry, or opens one while there are fewer than needed.
    let home: OpenEntry | undefined;
    if (open.length >= target || entries() >= limits.maxEntries) {
      let smallest: OpenEntry | undefined;
      for (const e of open) if (smallest === undefined || e.size < smallest.size) smallest = e;
      if (smallest !== undefined && tryAdd(smallest, r)) home = smallest;
    }
    if (home === undefined && entries() < limits.maxEntries && bytes + r.bytes + AGGREGATE_OVERHEAD <= limits.maxBytes) {
      home = openEntry(r);
      if (home === undefined) {
        // Too large to share an entry: it goes on its own, as a plain record.
        if (bytes + r.bytes > limits.maxBytes) {
          blocked.add(key);
          continue;
        }
        plain.push(plainEntry(r));
        owner.set(key, null);
        taken.push(i);
        bytes += r.bytes;
        continue;
      }
    }
    if (home === undefined) {
      blocked.add(key);
      continue;
    }
    owner.set(key, home);
    taken.push(i);
  }
  taken.sort((a, b) => a - b);
  const sealed = open.map(seal);
  const out = [...plain, ...sealed];
  return { entries: out, bytes: out.reduce((n, e) => n + e.bytes, 0), taken };
}

/** Bytes an aggregated record of one user record adds at most: magic, MD5, field tags and lengths. */
const AGGREGATE_OVERHEAD = 4 + 16 + 1 + 3 + 1 + 3 + 1 + 10 + 1 + 3;
const MAX_ENTRY_BYTES = MAX_KINESIS_RECORD_BYTES;
