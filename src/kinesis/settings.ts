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
  /** How long a shard iterator is valid (ms). AWS: 300,000. */
  iteratorTtlMs: number;
  /** How long a NextToken is valid (ms). AWS: 300,000. */
  nextTokenTtlMs: number;
}

export const defaultKinesisSettings: KinesisSettings = {
  region: 'us-east-1',
  accountId: '000000000000',
  createStreamDelayMs: 100,
  deleteStreamDelayMs: 100,
  onDemandShardCount: 4,
  shardLimit: 200,
  onDemandStreamLimit: 50,
  iteratorTtlMs: 300_000,
  nextTokenTtlMs: 300_000,
};
