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

export interface Catalog {
  loadStreams(): Promise<StreamMeta[]>;
  /** Inserts or replaces a stream document. */
  putStream(stream: StreamMeta): Promise<void>;
  deleteStream(key: string): Promise<void>;
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
  close(): Promise<void>;
}
