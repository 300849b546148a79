/** One try at sending a user record, as the KPL reports them. */
export interface Attempt {
  /** Milliseconds between the record being put (or its previous attempt ending) and this attempt starting. */
  delayMs: number;
  /** Milliseconds the attempt took (0 for an expiry, which sends nothing). */
  durationMs: number;
  success: boolean;
  errorCode?: string;
  errorMessage?: string;
}

/** What put() resolves with. */
export interface PutResult {
  shardId: string;
  sequenceNumber: string;
  /** The record's index inside the aggregated Kinesis record; absent for a record sent on its own. */
  subSequenceNumber?: number;
  attempts: Attempt[];
}

/** put() rejects with this once a record's time to live runs out, or when it fails for good. */
export class UserRecordFailedError extends Error {
  override readonly name = 'UserRecordFailedException';
  constructor(
    message: string,
    readonly partitionKey: string,
    readonly attempts: Attempt[],
  ) {
    super(message);
  }
}

/** put() rejects with this for a record Kinesis would refuse whatever happens (bad key, too large). */
export class InvalidUserRecordError extends Error {
  override readonly name = 'ValidationException';
}

/** A user record waiting in the producer. */
export interface PendingRecord {
  /** Arrival order across the whole producer; a queue is always sorted by it. */
  readonly id: number;
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly hashKey: bigint;
  readonly data: Uint8Array;
  /** Bytes Kinesis counts for the record on its own: data plus the partition key's UTF-8 bytes. */
  readonly bytes: number;
  readonly pkBytes: number;
  readonly putAt: number;
  readonly deadline: number;
  /** End of the last attempt (or the put), for the next attempt's delay. */
  lastActivity: number;
  /** Resolved or rejected. */
  settled: boolean;
  readonly attempts: Attempt[];
  readonly resolve: (r: PutResult) => void;
  readonly reject: (e: Error) => void;
}
