import { defaultLimitSettings, type LimitSettings } from './limits/settings.js';

/** What the Kinesis service needs to know about its deployment; every value is a serve option. */
export interface KinesisSettings {
  region: string;
  accountId: string;
  /** How long a new stream stays CREATING, and a deleted one DELETING (ms). */
  createStreamDelayMs: number;
  deleteStreamDelayMs: number;
  /** Shards a new ON_DEMAND stream starts with. */
  onDemandShardCount: number;
  /** The account's shard quota (open shards over all streams). */
  shardLimit: number;
  onDemandStreamLimit: number;
  /** How long a stream stays UPDATING after a change that AWS applies asynchronously (ms). */
  updateStreamDelayMs: number;
  /** Per-shard throughput and control-plane call rates (./limits). */
  limits: LimitSettings;
  /** How long a shard iterator is valid (ms). AWS: 300,000. */
  iteratorTtlMs: number;
  /** How long a NextToken is valid (ms). AWS: 300,000. */
  nextTokenTtlMs: number;
  /** How long a registered consumer stays CREATING, and a deregistered one DELETING (ms). */
  consumerDelayMs: number;
  /** The longest a SubscribeToShard stream stays silent: an empty event follows this much idle time (ms). */
  subscriptionHeartbeatMs: number;
  /** How long a SubscribeToShard subscription lasts before the server ends it (ms). AWS: 300,000. */
  subscriptionLifetimeMs: number;
  /** What one consumer may read from one shard over SubscribeToShard (bytes/s; 0: no limit). AWS: 2 MiB. */
  fanOutReadBytesPerSecond: number;
  /** How long completed one-minute metrics are kept (minutes). */
  metricsRetentionMinutes: number;
}

export const defaultKinesisSettings: KinesisSettings = {
  region: 'us-east-1',
  accountId: '000000000000',
  createStreamDelayMs: 100,
  deleteStreamDelayMs: 100,
  onDemandShardCount: 4,
  shardLimit: 200,
  onDemandStreamLimit: 50,
  updateStreamDelayMs: 100,
  limits: defaultLimitSettings,
  iteratorTtlMs: 300_000,
  nextTokenTtlMs: 300_000,
  consumerDelayMs: 100,
  subscriptionHeartbeatMs: 2_000,
  subscriptionLifetimeMs: 300_000,
  fanOutReadBytesPerSecond: 2 * 1024 * 1024,
  metricsRetentionMinutes: 180,
};
