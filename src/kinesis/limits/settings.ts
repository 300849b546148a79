const MiB = 1024 * 1024;

/**
 * Throughput and call-rate limits, each a serve option. A rate of 0 lifts that one limit;
 * `enabled: false` (`--limits off`) lifts them all.
 */
export interface LimitSettings {
  enabled: boolean;
  /** Per shard: bytes (data + partition keys) and records written per second. */
  shardWriteBytesPerSecond: number;
  shardWriteRecordsPerSecond: number;
  /** Bytes a shard may take at once above its sustained write rate (AWS: up to 10 MiB). */
  shardWriteBurstBytes: number;
  /** Per shard: bytes GetRecords returns per second, and GetRecords calls per second. */
  shardReadBytesPerSecond: number;
  shardReadCallsPerSecond: number;
  /** Per shard: GetShardIterator calls per second. */
  shardIteratorCallsPerSecond: number;
  /** Control-plane operations whose calls-per-second differ from AWS's documented rates. */
  operationRates: Record<string, number>;
}

export const defaultLimitSettings: LimitSettings = {
  enabled: true,
  shardWriteBytesPerSecond: MiB,
  shardWriteRecordsPerSecond: 1000,
  shardWriteBurstBytes: 10 * MiB,
  shardReadBytesPerSecond: 2 * MiB,
  shardReadCallsPerSecond: 5,
  shardIteratorCallsPerSecond: 5,
  operationRates: {},
};
