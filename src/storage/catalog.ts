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
