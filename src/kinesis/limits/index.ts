import { ProvisionedThroughputExceededException } from '../../protocol/errors.js';
import type { Shard } from '../shard.js';
import type { Stream } from '../stream.js';
import { OperationRateLimiter } from './control-plane.js';
import type { LimitSettings } from './settings.js';
import { TokenBucket } from '../../util/token-bucket.js';

export { defaultLimitSettings, type LimitSettings } from './settings.js';

/**
 * The throughput state of one shard. Buckets exist only for limits that are set (rate > 0).
 *
 * Bursts: writes may take up to `shardWriteBurstBytes` (10 MiB) and one second of records
 * (1,000) at once; a record larger than what the bucket holds is let through when the bucket is
 * full and its excess becomes debt. GetRecords and GetShardIterator may spend one second of calls
 * (5) at once. Read bytes are charged after the read, and the shard refuses reads until the
 * charge is repaid at the read rate (to the millisecond): a 10 MiB response blocks the shard for
 * 5 s, as AWS documents, and a 1 MiB one for 0.5 s. (Rates below one call or record a second
 * still allow one at once.)
 */
export class ShardLimits {
  private readonly writeRecords?: TokenBucket;
  private readonly writeBytes?: TokenBucket;
  private readonly readCalls?: TokenBucket;
  /** Read bytes are paid for after the read: the time (epoch ms) until which earlier reads are paid. */
  private readonly readBytesPerMs: number;
  private readPaidUntil = -Infinity;
  private readonly iteratorCalls?: TokenBucket;

  constructor(s: LimitSettings, now: number) {
    if (s.shardWriteRecordsPerSecond > 0) {
      this.writeRecords = new TokenBucket(s.shardWriteRecordsPerSecond, Math.max(1, s.shardWriteRecordsPerSecond), now);
    }
    if (s.shardWriteBytesPerSecond > 0) {
      const burst = Math.max(s.shardWriteBurstBytes, s.shardWriteBytesPerSecond);
      this.writeBytes = new TokenBucket(s.shardWriteBytesPerSecond, burst, now);
    }
    if (s.shardReadCallsPerSecond > 0) {
      this.readCalls = new TokenBucket(s.shardReadCallsPerSecond, Math.max(1, s.shardReadCallsPerSecond), now);
    }
    this.readBytesPerMs = s.shardReadBytesPerSecond / 1000;
    if (s.shardIteratorCallsPerSecond > 0) {
      this.iteratorCalls = new TokenBucket(s.shardIteratorCallsPerSecond, Math.max(1, s.shardIteratorCallsPerSecond), now);
    }
  }

  /** Admits one record of `bytes` (data + partition key) if the shard's write limits allow it. */
  admitWrite(bytes: number, now: number): boolean {
    const records = this.writeRecords;
    if (records !== undefined && records.tokens(now) < 1) return false;
    if (this.writeBytes !== undefined && !this.writeBytes.takeAllowingDebt(bytes, now)) return false;
    if (records !== undefined) records.charge(1, now);
    return true;
  }

  /**
   * Counts a GetRecords call; false if the shard is over its read calls or still paying for the
   * bytes of earlier reads. The clock counts whole milliseconds, so reads that together cost less
   * than a millisecond of the read rate do not block each other.
   */
  admitRead(now: number): boolean {
    if (now < Math.floor(this.readPaidUntil)) return false;
    return this.readCalls === undefined || this.readCalls.tryTake(1, now);
  }

  /** Charges the bytes a GetRecords call returned: they are paid for at the read rate from now on. */
  chargeRead(bytes: number, now: number): void {
    if (this.readBytesPerMs > 0 && bytes > 0) {
      this.readPaidUntil = Math.max(this.readPaidUntil, now) + bytes / this.readBytesPerMs;
    }
  }

  admitIterator(now: number): boolean {
    return this.iteratorCalls === undefined || this.iteratorCalls.tryTake(1, now);
  }
}

/**
 * Every limit the service enforces on callers: per-shard throughput (writes, reads, iterators)
 * and control-plane call rates. All of it is in memory and starts afresh with the process, as
 * the windows it tracks are a few seconds long.
 */
export class Limits {
  readonly enabled: boolean;
  private readonly byStream = new WeakMap<Stream, (ShardLimits | undefined)[]>();
  private readonly operations: OperationRateLimiter;

  constructor(
    private readonly settings: LimitSettings,
    private readonly accountId: string,
  ) {
    this.enabled = settings.enabled;
    this.operations = new OperationRateLimiter(settings.operationRates, accountId);
  }

  /** The throughput state of a shard, or undefined when limits are off. */
  shard(stream: Stream, shard: Shard, now: number): ShardLimits | undefined {
    if (!this.enabled) return undefined;
    let list = this.byStream.get(stream);
    if (list === undefined) {
      list = [];
      this.byStream.set(stream, list);
    }
    let state = list[shard.index];
    if (state === undefined) {
      state = new ShardLimits(this.settings, now);
      list[shard.index] = state;
    }
    return state;
  }

  /** Why a shard refused a write: PutRecords' ErrorMessage of a refused entry. */
  writeThrottledMessage(stream: Stream, shard: Shard): string {
    return `Rate exceeded for shard ${shard.id} in stream ${stream.name} under account ${this.accountId}.`;
  }

  /** The error of a PutRecord refused by its shard's write throughput. */
  writeThrottled(stream: Stream, shard: Shard): InstanceType<typeof ProvisionedThroughputExceededException> {
    return new ProvisionedThroughputExceededException(this.writeThrottledMessage(stream, shard));
  }

  /** Counts a GetRecords call on a shard, refusing it when the shard's reads are over their limits. */
  beforeGetRecords(stream: Stream, shard: Shard, now: number): void {
    const state = this.shard(stream, shard, now);
    if (state !== undefined && !state.admitRead(now)) {
      throw new ProvisionedThroughputExceededException(
        `Rate exceeded for Shard - ${this.accountId}/${stream.name}/${shard.id}`,
      );
    }
  }

  afterGetRecords(stream: Stream, shard: Shard, bytes: number, now: number): void {
    this.shard(stream, shard, now)?.chargeRead(bytes, now);
  }

  beforeGetShardIterator(stream: Stream, shard: Shard, now: number): void {
    const state = this.shard(stream, shard, now);
    if (state !== undefined && !state.admitIterator(now)) {
      throw new ProvisionedThroughputExceededException(
        `Rate exceeded for shard ${shard.id} in stream ${stream.name} under account ${this.accountId}.`,
      );
    }
  }

  /** Counts a control-plane call; LimitExceededException when it is over its rate. */
  checkOperation(operation: string, input: Record<string, unknown>, now: number): void {
    if (this.enabled) this.operations.check(operation, input, now);
  }
}
