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
  /**
   * Set when the shard was closed and its records had all passed the retention period: epoch ms
   * at which its log was dropped. Such a shard is never listed, read or opened again; its entry
   * stays so that its children keep naming it as their parent.
   */
  expiredAt?: number;
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
  /**
   * Follows the stream documents written by anyone (other nodes of a cluster): `onChange` gets
   * every current document first, then each later write and deletion, in revision order. Only a
   * catalog shared by several processes has it; without it, this process is the only writer.
   */
  watchStreams?(onChange: (change: StreamChange) => void): Promise<CatalogWatch>;
  close(): Promise<void>;
}

/** A stream document as a watch delivers it: `value` is undefined when it was deleted. */
export interface StreamChange {
  key: string;
  value: StreamMeta | undefined;
  revision: number;
}

export interface CatalogWatch {
  /** Resolves once every change written to the catalog before the call has been delivered. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Read-modify-write of one stream document that no concurrent writer can undo: `change` gets the
 * current document (undefined when there is none) and returns the new one, or undefined to leave it
 * as it is; on a conflict it runs again on the newer document. Resolves to the document as stored.
 */
export async function updateStream(
  catalog: Catalog,
  key: string,
  change: (current: StreamMeta | undefined, revision: number) => StreamMeta | undefined,
  maxAttempts = 100,
): Promise<StreamMeta | undefined> {
  return (await updateStreamRevisioned(catalog, key, change, maxAttempts))?.value;
}

/** updateStream, resolving to the document as stored with its revision (0 when there is none). */
export async function updateStreamRevisioned(
  catalog: Catalog,
  key: string,
  change: (current: StreamMeta | undefined, revision: number) => StreamMeta | undefined,
  maxAttempts = 100,
): Promise<Revisioned<StreamMeta> | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await catalog.getStream(key);
    const next = change(current?.value, current?.revision ?? 0);
    if (next === undefined) return current;
    if (next.key !== key) throw new TypeError(`updateStream(${key}) returned the document of ${next.key}`);
    try {
      const revision = await catalog.putStreamIf(next, current?.revision ?? 0);
      return { value: next, revision };
    } catch (err) {
      if (!(err instanceof CatalogConflictError) || attempt >= maxAttempts) throw err;
    }
  }
}

/**
 * Read-modify-write of one setting, as updateStream: `change` gets the current value (undefined
 * when unset) and returns the new one, or undefined to leave it. Resolves to the value as stored.
 */
export async function updateSetting(
  catalog: Catalog,
  name: string,
  change: (current: string | undefined) => string | undefined,
  maxAttempts = 100,
): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await catalog.getSettingRevisioned(name);
    const next = change(current?.value);
    if (next === undefined) return current?.value;
    try {
      await catalog.putSettingIf(name, next, current?.revision ?? 0);
      return next;
    } catch (err) {
      if (!(err instanceof CatalogConflictError) || attempt >= maxAttempts) throw err;
    }
  }
}
