/**
 * The catalog keeps the metadata of streams and their shards (and later consumers, leases and
 * delivery streams). A stream is one document: writing it replaces the old one in a single
 * transaction, so a crash leaves either the old or the new state.
 */

export type StreamStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING';
export type StreamMode = 'PROVISIONED' | 'ON_DEMAND';

export interface ShardMeta {
  index: number;
  parentIndex?: number;
  adjacentParentIndex?: number;
  /** Decimal strings of the inclusive hash-key range. */
  startingHashKey: string;
  endingHashKey: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Set when the shard is closed: epoch ms of the close, and the offset its log ended at. */
  closedAt?: number;
  endOffset?: number;
}

export interface StreamMeta {
  /** Unique for this incarnation of the stream; names the stream's storage. */
  key: string;
  name: string;
  /** Epoch milliseconds. */
  createdAt: number;
  status: StreamStatus;
  /** When the current transitional status (CREATING, UPDATING, DELETING) ends; epoch ms. */
  statusUntil?: number;
  mode: StreamMode;
  retentionHours: number;
  encryptionType: 'NONE' | 'KMS';
  keyId?: string;
  shardLevelMetrics: string[];
  maxRecordSizeKiB: number;
  recordDistribution: 'USER_PARTITION_KEY' | 'AUTO';
  warmThroughputMiBps?: number;
  tags: Record<string, string>;
  shards: ShardMeta[];
  /** While a warm-throughput change is being applied: the value before it, and when it completes (epoch ms). */
  warmThroughputPreviousMiBps?: number;
  warmThroughputAppliedAt?: number;
  /** The resource-based policy, verbatim as PutResourcePolicy received it. */
  resourcePolicy?: string;
  /** Epoch ms of the successful StartStreamEncryption and StopStreamEncryption calls of the last 24 hours. */
  encryptionStarts?: number[];
  encryptionStops?: number[];
  /**
   * When KMS encryption took effect and when it ended, alternately (epoch ms); an odd length means
   * it is in effect. Tells GetRecords which records were written encrypted.
   */
  kmsPeriods?: number[];
}

/**
 * A document with its revision. Every write of a document gives it a new, higher revision, so a
 * writer that read revision r can ask to write only if nobody else wrote it since (compare-and-set).
 */
export interface Revisioned<T> {
  value: T;
  revision: number;
}

/** A compare-and-set write found the document at another revision than the one expected. */
export class CatalogConflictError extends Error {
  override name = 'CatalogConflictError';
}

/**
 * One metric of one minute: its sum, sample count and maximum. `stream` is the stream's key (its
 * incarnation); `shard` is the shard index, or -1 for a stream-level metric.
 */
export interface MetricRow {
  stream: string;
  shard: number;
  /** Minutes since the epoch. */
  minute: number;
  name: string;
  sum: number;
  count: number;
  max: number;
}

export interface Catalog {
  loadStreams(): Promise<StreamMeta[]>;
  /** Inserts or replaces a stream document. */
  putStream(stream: StreamMeta): Promise<void>;
  deleteStream(key: string): Promise<void>;
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
  /** A stream document and its revision, or undefined when there is none. */
  getStream(key: string): Promise<Revisioned<StreamMeta> | undefined>;
  /**
   * Writes a stream document only if it is still at `revision` (0: only if there is none);
   * resolves to its new revision, or rejects with CatalogConflictError.
   */
  putStreamIf(stream: StreamMeta, revision: number): Promise<number>;
  /** A setting and its revision, or undefined when it is not set. */
  getSettingRevisioned(name: string): Promise<Revisioned<string> | undefined>;
  /** Writes a setting only if it is still at `revision` (0: only if it is not set), as putStreamIf. */
  putSettingIf(name: string, value: string, revision: number): Promise<number>;
  /**
   * Stores completed metric minutes; a row whose (stream, shard, minute, name) is already stored is
   * added into it. The three metrics methods are optional: without them metrics stay in memory.
   */
  appendMetrics?(rows: readonly MetricRow[]): Promise<void>;
  /** The metric rows of a stream (key) in [fromMinute, toMinute]. */
  readMetrics?(stream: string, fromMinute: number, toMinute: number): Promise<MetricRow[]>;
  /** Deletes the metric rows of every minute before `minute`. */
  deleteMetricsBefore?(minute: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Read-modify-write of one stream document that no concurrent writer can undo: `change` gets the
 * current document (undefined when there is none) and returns the new one, or undefined to leave it
 * as it is; on a conflict it runs again on the newer document. Resolves to the document as stored.
 */
export async function updateStream(
  catalog: Catalog,
  key: string,
  change: (current: StreamMeta | undefined) => StreamMeta | undefined,
  maxAttempts = 100,
): Promise<StreamMeta | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await catalog.getStream(key);
    const next = change(current?.value);
    if (next === undefined) return current?.value;
    if (next.key !== key) throw new TypeError(`updateStream(${key}) returned the document of ${next.key}`);
    try {
      await catalog.putStreamIf(next, current?.revision ?? 0);
      return next;
    } catch (err) {
      if (!(err instanceof CatalogConflictError) || attempt >= maxAttempts) throw err;
    }
  }
}
