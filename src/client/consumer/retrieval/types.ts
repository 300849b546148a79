import type { ChildShard, _Record } from '@aws-sdk/client-kinesis';

/** Where a reader starts in a shard. */
export interface StartPosition {
  type: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER';
  sequenceNumber?: string;
  timestamp?: Date;
}

/** One fetch: the records, and at the end of a closed shard its children. */
export interface RecordBatch {
  records: _Record[];
  millisBehindLatest?: number;
  /** Present (possibly empty) when the shard has ended; no batch follows. */
  childShards?: ChildShard[];
}

/** Reads one shard from `start` until it ends or `signal` aborts. */
export type ShardReader = (shardId: string, start: StartPosition, signal: AbortSignal) => AsyncGenerator<RecordBatch, void, undefined>;
