/**
 * The narrow interfaces between the Kinesis service and a storage engine.
 *
 * A shard's records live in a ShardLog, addressed by offset: the first record ever appended to a
 * shard has offset 0, the next 1, and so on, without gaps. The service turns offsets into AWS
 * sequence numbers and back; the engine never sees sequence numbers.
 *
 * Two engines implement these: embedded (segment files on local disk) and jetstream (a NATS
 * JetStream cluster). What only some engines can do is declared as optional typed members
 * (`ShardLog.sealing`, `LogStore.appendWatch`), and the errors the service reacts to are the
 * classes at the end of this file: callers test members and use `instanceof`, never names.
 */

/** A record as the service hands it to the log. */
export interface RecordInput {
  partitionKey: string;
  data: Buffer;
  /**
   * Set when `data` is a sealed envelope (encryption at rest; see kinesis/at-rest.ts) rather than
   * the producer's bytes. The records of one append are either all sealed or none; an engine
   * stores the flag and hands it back on read.
   */
  sealed?: boolean;
}

/** A record as the log returns it. */
export interface StoredRecord {
  offset: number;
  /** Arrival time in epoch milliseconds. Non-decreasing within a shard. */
  timestamp: number;
  partitionKey: string;
  data: Buffer;
  /** As appended: `data` is a sealed envelope the service opens before returning it. */
  sealed?: boolean;
  /**
   * Set by the service once it has opened a sealed record in place (`data` and `partitionKey` are
   * the producer's again): an engine may hand the same object out to another read.
   */
  opened?: boolean;
}

export interface AppendResult {
  /** Offset of the first record of this append; the others follow consecutively. */
  firstOffset: number;
  /** The arrival timestamp stored for these records (>= the log's previous timestamp). */
  timestamp: number;
}

export interface ReadResult {
  records: StoredRecord[];
  /** Offset after the last returned record (or `fromOffset`, moved up to startOffset, if none). */
  nextOffset: number;
  /** Total data + partition key bytes of the returned records. */
  bytes: number;
}

export type FsyncMode = 'always' | 'interval' | 'never';

export interface LogOptions {
  /** always: fdatasync before an append resolves; interval: every fsyncIntervalMs; never: leave it to the OS. */
  fsync: FsyncMode;
  fsyncIntervalMs: number;
  /** A segment is rolled when it reaches this many bytes. */
  segmentBytes: number;
  /** A segment is rolled when its first record is older than this (so retention can delete it). */
  segmentMaxAgeMs: number;
}

export interface ShardLog {
  /** The offset the next appended record gets: the number of records ever appended. */
  readonly nextOffset: number;
  /** The first offset still readable (records before it were trimmed). */
  readonly startOffset: number;
  /** Arrival timestamp of the newest record, or undefined when the log never had one. */
  readonly lastTimestamp: number | undefined;
  /**
   * Appends records as one unit. Resolves once they are durable as the fsync mode promises, and
   * only then are they visible to read(). Appends to one log complete in call order.
   * `timestamp` is the arrival time; the log stores max(timestamp, lastTimestamp).
   */
  append(records: readonly RecordInput[], timestamp: number): Promise<AppendResult>;
  /**
   * Reads records from `fromOffset` on (clamped up to startOffset), at most `maxRecords`, stopping
   * before the record that would take the total past `maxBytes` (but always at least one record
   * when one is available).
   */
  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ReadResult>;
  /** The first offset whose timestamp is >= `timestamp`, or nextOffset if there is none. */
  offsetAtTimestamp(timestamp: number): Promise<number>;
  /** Arrival timestamp of the record at `offset`, or undefined if it is not readable. */
  timestampAt(offset: number): Promise<number | undefined>;
  /**
   * Makes every record with timestamp < `before` unreadable (startOffset moves past them) and
   * deletes every segment whose records are all older.
   */
  trim(before: number): Promise<void>;
  /** Flushes, fsyncs and closes the files. */
  close(): Promise<void>;
  /**
   * Present when several writers (the nodes of a cluster) share the log: closing it to appends
   * from all of them. Absent on an engine with one writer, where the service's own gate suffices.
   */
  readonly sealing?: LogSealing;
}

/** Closing a shared log to appends from every writer (see ShardLog.sealing). */
export interface LogSealing {
  /**
   * Closes the log to appends everywhere; resolves to its end offset. An append that meets the
   * seal fails with ShardSealedError.
   */
  seal(): Promise<number>;
  /** Opens it again (a reshard that was abandoned). */
  unseal(): Promise<void>;
}

/** Being told of appends that other writers made (see LogStore.appendWatch). */
export interface AppendWatch {
  /** Calls `onAppend` after each append to the shard by any writer, until the returned function is called. */
  watchAppends(streamKey: string, shardIndex: number, onAppend: () => void): () => void;
}

export interface LogStore {
  /** Opens (creating if needed, recovering if present) the log of one shard. */
  open(streamKey: string, shardIndex: number): Promise<ShardLog>;
  /** Closes and deletes every log of a stream. */
  dropStream(streamKey: string): Promise<void>;
  /**
   * Closes and deletes the log of one shard (a closed shard whose records have all expired).
   * Idempotent: dropping a shard that has no log, or whose log another process dropped, resolves.
   */
  dropShard(streamKey: string, shardIndex: number): Promise<void>;
  /** Closes every open log. */
  close(): Promise<void>;
  /** Present when appends can come from other processes (a shared engine), so that followers hear of them. */
  readonly appendWatch?: AppendWatch;
}

/** An append reached a shard that a seal closed (LogSealing.seal). Nothing was written. */
export class ShardSealedError extends Error {
  override name = 'ShardSealedError';
}

/** An append reached a shard whose log another writer deleted (its stream was deleted). Nothing was written. */
export class ShardDeletedError extends Error {
  override name = 'ShardDeletedError';
}
