/**
 * What the modules of the Kinesis service need of it, as one narrow interface: the service
 * (service.ts) implements it, and the stream, shard, record, resharding, retention, consumer and
 * fan-out modules take it instead of the class. It names only types from modules below it, so no
 * module that takes it is imported back by it. The operations take a little more
 * (operations/context.ts): the fan-out registry itself.
 */
import type { Catalog, StreamMeta, StreamMode } from '../storage/catalog.js';
import type { LogStore, RecordInput, ShardLog, StoredRecord } from '../storage/types.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { ResponseBudget } from '../util/response-budget.js';
import type { Limits } from './limits/index.js';
import type { KinesisSettings } from './settings.js';
import type { IteratorCodec } from './shard-iterator.js';
import type { Shard } from './shard.js';
import type { Stream } from './stream.js';

/** How an operation names a stream: by name, by ARN, or both (which must agree). */
export interface StreamRef {
  StreamName?: string;
  StreamARN?: string;
}

export interface CreateStreamParams {
  name: string;
  shardCount?: number;
  mode: StreamMode;
  tags?: Record<string, string>;
  maxRecordSizeKiB?: number;
  recordDistribution?: 'USER_PARTITION_KEY' | 'AUTO';
  warmThroughputMiBps?: number;
}

/** Encryption at rest of stored records (at-rest.ts): sealing on write, opening on read. */
export interface RecordCipher {
  sealAll(streamKey: string, shardIndex: number, keyId: string, records: readonly RecordInput[], now: number): RecordInput[];
  /** Opens every sealed record of a read in place. */
  openAll(streamKey: string, shardIndex: number, records: readonly StoredRecord[]): boolean;
}

/** What the write path and the stream lifecycle tell the enhanced fan-out subscriptions (subscriptions.ts). */
export interface FanOutSignals {
  /** Records were appended to a shard: its subscribers read on. */
  appended(streamKey: string, shardIndex: number): void;
  /** A stream's document changed (resharded, deleted, consumers gone): subscribers look again. */
  streamChanged(streamKey: string): void;
}

export interface KinesisContext {
  readonly settings: KinesisSettings;
  /** The service clock's current time (epoch ms). */
  readonly now: number;
  readonly catalog: Catalog;
  readonly logs: LogStore;
  readonly limits: Limits;
  readonly metrics: MetricsRecorder;
  readonly iterators: IteratorCodec;
  readonly fanOut: FanOutSignals;
  /** Encryption at rest; absent, records are stored as they come (and sealed ones cannot be read). */
  readonly cipher: RecordCipher | undefined;
  /** Bounds the memory GetRecords responses hold at once; absent, reads are not bounded. */
  readonly readBudget: ResponseBudget | undefined;

  streamArn(name: string): string;
  nameOf(ref: StreamRef): string;
  notFound(name: string): Error;
  /** Every stream, in name order, settled. */
  list(): Promise<Stream[]>;
  /** The streams this node knows now, unsettled, in no order (background work). */
  known(): Iterable<Stream>;
  resolve(ref: StreamRef): Promise<Stream>;
  resolveReadable(ref: StreamRef): Promise<Stream>;
  byStreamKey(key: string): Stream | undefined;
  streamShardByKey(key: string, index: number): Promise<{ stream: Stream | undefined; shard: Shard | undefined }>;
  openShardCount(): number;
  onDemandStreamCount(): number;
  createStream(p: CreateStreamParams): Promise<void>;
  deleteStream(stream: Stream, finalize?: (meta: StreamMeta) => StreamMeta): Promise<void>;
  write(stream: Stream, change: (meta: StreamMeta) => StreamMeta | undefined): Promise<StreamMeta>;
  update(stream: Stream, meta: StreamMeta): Promise<void>;
  refresh(stream: Stream): Promise<void>;
  log(stream: Stream, shard: Shard): Promise<ShardLog>;
  retainedLog(stream: Stream, shard: Shard): Promise<ShardLog>;
  appendRefused(stream: Stream, index: number, err: unknown): Promise<undefined>;
  /** Runs `work` after every earlier call with the same `lane` has settled (account-wide changes). */
  serially<T>(lane: string, work: () => Promise<T>): Promise<T>;
  /** Tells the operator of a storage fault that the answer does not carry as an error. */
  reportFault(err: unknown, context: Record<string, unknown>): void;
}
