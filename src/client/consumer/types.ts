import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import type { Clock } from '../../util/clock.js';
import type { UserRecord } from '../aggregation.js';
import type { ExtendedSequenceNumber } from './sequence.js';

export type { UserRecord };

/** Where a shard without a checkpoint starts. */
export type InitialPosition =
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestamp: Date };

/** A pino-compatible logger; every method is optional to call with an object and a message. */
export interface ConsumerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: ConsumerLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Handed to a record processor to record its progress in the lease table. */
export interface Checkpointer {
  /**
   * With no argument: checkpoints at the last record delivered to the processor (or, inside
   * shardEnded, at SHARD_END). With a sequence number: checkpoints there; it must lie between the
   * last checkpoint and the last record delivered.
   */
  checkpoint(sequenceNumber?: string, subSequenceNumber?: number): Promise<void>;
  /** Checkpoints at the given record. */
  checkpointRecord(record: Pick<UserRecord, 'sequenceNumber' | 'subSequenceNumber'>): Promise<void>;
  /** The last checkpoint this lease holds. */
  readonly lastCheckpoint: ExtendedSequenceNumber;
  /** The largest value checkpoint() accepts now. */
  readonly largestPermittedCheckpoint: ExtendedSequenceNumber;
}

export interface InitializationInput {
  shardId: string;
  /** The checkpoint the shard resumes from (a sequence number or a sentinel). */
  extendedSequenceNumber: ExtendedSequenceNumber;
  /** The same checkpoint's sequence number (or sentinel) and sub-sequence number. */
  sequenceNumber: string;
  subSequenceNumber: number;
  /** Present when a prepared checkpoint was left in the lease. */
  pendingCheckpointSequenceNumber?: ExtendedSequenceNumber;
}

export interface ProcessRecordsInput {
  records: UserRecord[];
  checkpointer: Checkpointer;
  millisBehindLatest?: number;
  /** Arrival time of the batch at this worker. */
  cacheEntryTime: Date;
}

export interface ShardEndedInput {
  checkpointer: Checkpointer;
}

export interface ShutdownRequestedInput {
  checkpointer: Checkpointer;
}

/** The application's per-shard processor, named after the KCL 2.x ShardRecordProcessor. */
export interface RecordProcessor {
  initialize(input: InitializationInput): void | Promise<void>;
  processRecords(input: ProcessRecordsInput): void | Promise<void>;
  /** The lease moved to another worker; checkpointing is no longer possible. */
  leaseLost(input: Record<string, never>): void | Promise<void>;
  /** The shard has ended; the processor must call checkpointer.checkpoint() to record SHARD_END. */
  shardEnded(input: ShardEndedInput): void | Promise<void>;
  /** The worker is shutting down gracefully; the processor may checkpoint. */
  shutdownRequested(input: ShutdownRequestedInput): void | Promise<void>;
}

export type RecordProcessorFactory = (shardId: string) => RecordProcessor;

export type Retrieval = 'polling' | 'fanout';

export interface ConsumerOptions {
  /** Names the lease table and, with fan-out retrieval, the stream consumer. */
  applicationName: string;
  streamName?: string;
  streamARN?: string;
  /** Stored in leaseOwner; default: host name, process id and a random suffix. */
  workerId?: string;
  kinesisClient?: KinesisClient;
  dynamoDBClient?: DynamoDBClient;
  /** Used to create whichever client is not given. */
  clientConfig?: KinesisClientConfig & DynamoDBClientConfig;
  recordProcessorFactory: RecordProcessorFactory;
  /** Default TRIM_HORIZON. */
  initialPosition?: InitialPosition | 'TRIM_HORIZON' | 'LATEST';
  /** Default 'polling'. */
  retrieval?: Retrieval;
  /** Fan-out consumer name; default the application name. */
  consumerName?: string;
  /** Lease duration; default 10,000 ms. */
  failoverTimeMs?: number;
  /** Default failoverTimeMs / 3 - 25. */
  leaseRenewalIntervalMs?: number;
  /** Default (failoverTimeMs + 25) × 2. */
  leaseTakerIntervalMs?: number;
  /** Default 60,000 ms. */
  shardSyncIntervalMs?: number;
  /** Delete the leases of completed shards once all their children have started; default true. */
  cleanupLeasesUponShardCompletion?: boolean;
  /** How often completed leases are looked for; default 300,000 ms. */
  leaseCleanupIntervalMs?: number;
  /** Default unlimited. */
  maxLeasesPerWorker?: number;
  /** Default 1. */
  maxLeasesToStealAtOneTime?: number;
  /** How often a shard blocked on its parents looks at them again; default 10,000 ms. */
  parentShardPollIntervalMs?: number;
  /** Polling: GetRecords Limit; default 10,000. */
  maxRecords?: number;
  /** Polling: wait after a GetRecords call that reached the tip of the shard; default 1,000 ms. */
  idleTimeBetweenReadsMs?: number;
  /** Call processRecords also when a fetch returned nothing; default false. */
  callProcessRecordsEvenForEmptyRecordList?: boolean;
  /** Create the lease table with PAY_PER_REQUEST billing if it is missing; default true. */
  createLeaseTable?: boolean;
  logger?: ConsumerLogger;
  clock?: Clock;
}
