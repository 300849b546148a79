import { LimitExceededException } from '../../protocol/errors.js';
import { TokenBucket } from '../../util/token-bucket.js';

/**
 * How often each control-plane operation may be called, as AWS documents it (calls per second),
 * and whether that rate is counted per account or per stream. Operations missing here are not
 * rate-limited (data-plane operations have their own per-shard limits).
 */
export interface OperationRate {
  perSecond: number;
  scope: 'account' | 'stream';
}

const account = (perSecond: number): OperationRate => ({ perSecond, scope: 'account' });
const perStream = (perSecond: number): OperationRate => ({ perSecond, scope: 'stream' });

export const defaultOperationRates: Readonly<Record<string, OperationRate>> = {
  AddTagsToStream: account(5),
  CreateStream: account(5),
  DecreaseStreamRetentionPeriod: account(5),
  DeleteResourcePolicy: account(5),
  DeleteStream: account(5),
  DeregisterStreamConsumer: perStream(5),
  DescribeAccountSettings: account(5),
  DescribeLimits: account(1),
  DescribeStream: account(10),
  DescribeStreamConsumer: perStream(20),
  DescribeStreamSummary: account(20),
  DisableEnhancedMonitoring: account(5),
  EnableEnhancedMonitoring: account(5),
  GetResourcePolicy: account(5),
  IncreaseStreamRetentionPeriod: account(5),
  ListShards: perStream(1000),
  ListStreamConsumers: perStream(5),
  ListStreams: account(5),
  ListTagsForResource: account(5),
  ListTagsForStream: account(5),
  MergeShards: account(5),
  PutResourcePolicy: account(5),
  RegisterStreamConsumer: account(5),
  RemoveTagsFromStream: account(5),
  SplitShard: account(5),
  TagResource: account(5),
  UntagResource: account(5),
  UpdateAccountSettings: account(5),
  UpdateMaxRecordSize: account(5),
  UpdateShardCount: account(10),
  UpdateStreamRecordDistributionStrategy: account(5),
  UpdateStreamWarmThroughput: account(5),
  CreateChannel: account(5),
  DeleteChannel: account(5),
  DescribeChannel: account(5),
  ListChannels: account(5),
  UpdateChannel: account(5),
};

/**
 * Parses `--control-plane-rates`: comma-separated `Operation=calls-per-second` pairs that replace
 * the default rate of those operations (0 lifts the limit). Throws with a message naming the
 * offending pair (the caller names the flag or variable).
 */
export function parseOperationRates(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(item);
    if (!m) throw new Error(`expected Operation=rate, not ${item}`);
    if (!(m[1]! in defaultOperationRates)) {
      throw new Error(`${m[1]} is not a rate-limited operation`);
    }
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The stream an input names, for per-stream counting and for the message; undefined if none. */
function streamNamed(input: Record<string, unknown>): string | undefined {
  if (typeof input.StreamName === 'string') return input.StreamName;
  for (const member of ['StreamARN', 'ResourceARN', 'ConsumerARN'] as const) {
    const arn = input[member];
    if (typeof arn === 'string') {
      const m = /:stream\/([a-zA-Z0-9_.-]+)/.exec(arn);
      if (m) return m[1];
    }
  }
  return undefined;
}

/** Counts control-plane calls and refuses those over their rate with LimitExceededException. */
export class OperationRateLimiter {
  private readonly rates: Record<string, OperationRate>;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    overrides: Readonly<Record<string, number>>,
    private readonly accountId: string,
  ) {
    this.rates = { ...defaultOperationRates };
    for (const [op, perSecond] of Object.entries(overrides)) {
      this.rates[op] = { ...defaultOperationRates[op]!, perSecond };
    }
  }

  rateOf(operation: string): OperationRate | undefined {
    const rate = this.rates[operation];
    return rate && rate.perSecond > 0 ? rate : undefined;
  }

  /**
   * Counts one call. The bucket holds one second of calls (at least one), so a client may spend
   * a second's allowance at once and then continues at the documented rate.
   */
  check(operation: string, input: Record<string, unknown>, now: number): void {
    const rate = this.rateOf(operation);
    if (!rate) return;
    const stream = streamNamed(input);
    const key = rate.scope === 'stream' ? `${operation} ${stream ?? ''}` : operation;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= 10_000) this.forgetIdle(now);
      bucket = new TokenBucket(rate.perSecond, Math.max(1, rate.perSecond), now);
      this.buckets.set(key, bucket);
    }
    if (!bucket.tryTake(1, now)) {
      throw new LimitExceededException(
        stream === undefined
          ? `Rate exceeded for account ${this.accountId}.`
          : `Rate exceeded for stream ${stream} under account ${this.accountId}.`,
      );
    }
  }

  /** Drops buckets that are full again: they carry no state a new bucket would not have. */
  private forgetIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens(now) >= bucket.capacity) this.buckets.delete(key);
    }
  }
}
