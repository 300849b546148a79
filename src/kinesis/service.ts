import { randomBytes } from 'node:crypto';
import type { Catalog, ShardMeta, StreamMeta, StreamMode } from '../storage/catalog.js';
import type { LogStore, ShardLog } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import { metricsStoreFor } from '../metrics/store.js';
import {
  InvalidArgumentException,
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '../protocol/errors.js';
import { evenHashRanges } from './hash-key.js';
import { Limits } from './limits/index.js';
import { autoScale } from './on-demand-scaling.js';
import { finishPendingReshard } from './resharding.js';
import { IteratorCodec } from './shard-iterator.js';
import type { Shard } from './shard.js';
import { Stream } from './stream.js';
import { FanOut } from './subscriptions.js';
import type { KinesisSettings } from './settings.js';

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

const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:([^:]*):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/;

/**
 * The Kinesis service: the streams of one account and region, their lifecycle, and the logs of
 * their shards. Operations (./operations) call into it; it reads and writes the catalog and the
 * log store through their interfaces only.
 */
export class Kinesis {
  private readonly byName = new Map<string, Stream>();
  private readonly byKey = new Map<string, Stream>();
  /** Streams whose transitional status has a deadline; settled by tick() or on access. */
  private readonly pending = new Set<Stream>();
  iterators!: IteratorCodec;
  /** Live SubscribeToShard subscriptions (enhanced fan-out). */
  readonly fanOut: FanOut = new FanOut(this);
  private settling = new Map<Stream, Promise<void>>();

  /** Per-shard throughput limits and control-plane call rates. */
  readonly limits: Limits;

  /** One-minute stream- and shard-level metrics (CloudWatch names). */
  readonly metrics: MetricsRecorder;

  constructor(
    readonly settings: KinesisSettings,
    readonly catalog: Catalog,
    readonly logs: LogStore,
    readonly clock: Clock,
  ) {
    this.limits = new Limits(settings.limits, settings.accountId);
    this.metrics = new MetricsRecorder({
      clock,
      store: metricsStoreFor(catalog),
      retentionMinutes: settings.metricsRetentionMinutes,
      keyOf: (name) => this.byName.get(name)?.key,
    });
  }

  async start(): Promise<void> {
    let secret = await this.catalog.getSetting('iterator-secret');
    if (!secret) {
      secret = randomBytes(32).toString('base64');
      await this.catalog.putSetting('iterator-secret', secret);
    }
    this.iterators = new IteratorCodec(Buffer.from(secret, 'base64'));
    for (const meta of await this.catalog.loadStreams()) {
      const stream = new Stream(meta, this.streamArn(meta.name));
      this.index(stream);
    }
    await this.tick();
  }

  async close(): Promise<void> {
    this.fanOut.close();
    await Promise.allSettled([...this.settling.values()]);
    await this.metrics.flush(true);
    await this.logs.close();
    await this.catalog.close();
  }

  get now(): number {
    return this.clock.now();
  }

  streamArn(name: string): string {
    return `arn:aws:kinesis:${this.settings.region}:${this.settings.accountId}:stream/${name}`;
  }

  notFound(name: string): InstanceType<typeof ResourceNotFoundException> {
    return new ResourceNotFoundException(`Stream ${name} under account ${this.settings.accountId} not found.`);
  }

  /** Every stream, in name order, settled. */
  async list(): Promise<Stream[]> {
    await this.tick();
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The stream a request names, after its pending transition (if due) is applied. */
  async resolve(ref: StreamRef): Promise<Stream> {
    const name = this.nameOf(ref);
    let stream = this.byName.get(name);
    if (stream && this.pending.has(stream)) {
      await this.settle(stream);
      stream = this.byName.get(name);
    }
    if (!stream) throw this.notFound(name);
    return stream;
  }

  /** The stream a request names, which must accept reads and writes (ACTIVE or UPDATING). */
  async resolveReadable(ref: StreamRef): Promise<Stream> {
    const stream = await this.resolve(ref);
    if (stream.meta.status !== 'ACTIVE' && stream.meta.status !== 'UPDATING') throw this.notFound(stream.name);
    return stream;
  }

  byStreamKey(key: string): Stream | undefined {
    return this.byKey.get(key);
  }

  nameOf(ref: StreamRef): string {
    const { StreamName: name, StreamARN: arn } = ref;
    if (arn !== undefined) {
      const m = STREAM_ARN.exec(arn);
      if (!m || m[1] !== this.settings.region || m[2] !== this.settings.accountId) {
        throw new ResourceNotFoundException(`Stream ${arn} not found.`);
      }
      if (name !== undefined && name !== m[3]) {
        throw new InvalidArgumentException(
          `StreamARN ${arn} and StreamName ${name} do not refer to the same stream.`,
        );
      }
      return m[3]!;
    }
    if (name === undefined) {
      throw new InvalidArgumentException('Either StreamName or StreamARN must be provided.');
    }
    return name;
  }

  openShardCount(): number {
    let n = 0;
    for (const s of this.byName.values()) n += s.openShards.length || (s.meta.status === 'CREATING' ? s.meta.shards.length : 0);
    return n;
  }

  onDemandStreamCount(): number {
    let n = 0;
    for (const s of this.byName.values()) if (s.meta.mode === 'ON_DEMAND') n++;
    return n;
  }

  async createStream(p: CreateStreamParams): Promise<void> {
    const { accountId } = this.settings;
    if (this.byName.has(p.name)) {
      const existing = await this.resolve({ StreamName: p.name }).catch(() => undefined);
      if (existing) throw new ResourceInUseException(`Stream ${p.name} under account ${accountId} already exists.`);
    }
    const count = p.mode === 'ON_DEMAND' ? this.settings.onDemandShardCount : p.shardCount!;
    if (p.mode === 'ON_DEMAND' && this.onDemandStreamCount() >= this.settings.onDemandStreamLimit) {
      throw new LimitExceededException(
        `This request would exceed the on-demand stream limit for the account ${accountId}. ` +
          `Current on-demand stream count for the account: ${this.onDemandStreamCount()}. ` +
          `Limit: ${this.settings.onDemandStreamLimit}.`,
      );
    }
    const current = this.openShardCount();
    if (current + count > this.settings.shardLimit) {
      throw new LimitExceededException(
        `This request would exceed the shard limit for the account ${accountId} in ${this.settings.region}. ` +
          `Current shard count for the account: ${current}. Limit: ${this.settings.shardLimit}. ` +
          `Number of additional shards that would have resulted from this request: ${count}. ` +
          `Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) ` +
          `for current limits and how to request higher limits.`,
      );
    }
    const now = this.now;
    const shards: ShardMeta[] = evenHashRanges(count).map((r, index) => ({
      index,
      startingHashKey: r.start.toString(),
      endingHashKey: r.end.toString(),
      createdAt: now,
    }));
    const meta: StreamMeta = {
      key: `${p.name}~${randomBytes(4).toString('hex')}`,
      name: p.name,
      createdAt: now,
      status: 'CREATING',
      statusUntil: now + this.settings.createStreamDelayMs,
      mode: p.mode,
      retentionHours: 24,
      encryptionType: 'NONE',
      shardLevelMetrics: [],
      maxRecordSizeKiB: p.maxRecordSizeKiB ?? 1024,
      recordDistribution: p.recordDistribution ?? 'USER_PARTITION_KEY',
      warmThroughputMiBps: p.warmThroughputMiBps,
      tags: { ...(p.tags ?? {}) },
      shards,
    };
    const stream = new Stream(meta, this.streamArn(p.name));
    this.index(stream);
    await this.catalog.putStream(meta);
    if (this.settings.createStreamDelayMs <= 0) await this.settle(stream);
  }

  async deleteStream(stream: Stream): Promise<void> {
    if (stream.meta.status === 'DELETING') return;
    stream.meta = {
      ...stream.meta,
      status: 'DELETING',
      statusUntil: this.now + this.settings.deleteStreamDelayMs,
    };
    this.pending.add(stream);
    await this.catalog.putStream(stream.meta);
    if (this.settings.deleteStreamDelayMs <= 0) await this.settle(stream);
  }

  /** Writes a changed stream document and rebuilds the run-time view of it. */
  async update(stream: Stream, meta: StreamMeta): Promise<void> {
    await this.catalog.putStream(meta);
    stream.meta = meta;
    stream.rebuild();
    if (meta.statusUntil !== undefined) this.pending.add(stream);
    this.fanOut.streamChanged(stream.key);
  }

  /** The log of a shard, opened on first use. */
  async log(stream: Stream, shard: Shard): Promise<ShardLog> {
    if (!shard.log) shard.log = await this.logs.open(stream.key, shard.index);
    return shard.log;
  }

  /**
   * Applies retention to a shard (at most once a second of clock time) and returns its log:
   * records older than the retention period are never served.
   */
  async retainedLog(stream: Stream, shard: Shard): Promise<ShardLog> {
    const log = await this.log(stream, shard);
    const now = this.now;
    if (now - shard.lastTrimAt >= 1000) {
      shard.lastTrimAt = now;
      await log.trim(now - stream.retentionMs);
    }
    return log;
  }

  /** Settles due transitions and applies retention to every stream; splits busy ON_DEMAND shards. */
  async tick(): Promise<void> {
    for (const stream of [...this.pending]) await this.settle(stream);
    await autoScale(this);
    await this.metrics.flush();
  }

  /** Applies retention to every shard of every stream (background, every minute). */
  async trimAll(): Promise<void> {
    for (const stream of [...this.byName.values()]) {
      if (stream.meta.status === 'CREATING' || stream.meta.status === 'DELETING') continue;
      for (const shard of stream.shards) {
        shard.lastTrimAt = -Infinity;
        await this.retainedLog(stream, shard);
      }
    }
  }

  private index(stream: Stream): void {
    this.byName.set(stream.name, stream);
    this.byKey.set(stream.key, stream);
    if (stream.meta.statusUntil !== undefined) this.pending.add(stream);
  }

  private unindex(stream: Stream): void {
    if (this.byName.get(stream.name) === stream) this.byName.delete(stream.name);
    this.byKey.delete(stream.key);
    this.pending.delete(stream);
  }

  /** Completes a stream's transitional status once its deadline has passed. */
  private settle(stream: Stream): Promise<void> {
    const running = this.settling.get(stream);
    if (running) return running;
    const until = stream.meta.statusUntil;
    if (until === undefined) {
      this.pending.delete(stream);
      return Promise.resolve();
    }
    if (until > this.now) return Promise.resolve();
    const work = this.complete(stream).finally(() => this.settling.delete(stream));
    this.settling.set(stream, work);
    return work;
  }

  private async complete(stream: Stream): Promise<void> {
    const meta = stream.meta;
    if (meta.status === 'DELETING') {
      this.unindex(stream);
      await this.catalog.deleteStream(meta.key);
      for (const shard of stream.shards) shard.log = undefined;
      await this.logs.dropStream(meta.key);
      return;
    }
    if (meta.status === 'UPDATING' && (await finishPendingReshard(this, stream))) {
      this.pending.delete(stream);
      return;
    }
    const next: StreamMeta = { ...meta, status: 'ACTIVE' };
    delete next.statusUntil;
    // The stream stays pending until the catalog has the new status, so that a request arriving
    // meanwhile waits for this transition instead of seeing the old status.
    await this.update(stream, next);
    if (stream.meta.statusUntil === undefined) this.pending.delete(stream);
  }
}
