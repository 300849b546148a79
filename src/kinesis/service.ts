import { randomBytes } from 'node:crypto';
import {
  CatalogConflictError,
  updateStreamRevisioned,
  type Catalog,
  type CatalogWatch,
  type ShardMeta,
  type StreamChange,
  type StreamMeta,
  type StreamMode,
} from '../storage/catalog.js';
import { ShardDeletedError, ShardSealedError, type LogStore, type ShardLog } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import type { MetricsStore } from '../metrics/store.js';
import type { ResponseBudget } from '../util/response-budget.js';
import type { ServiceLogger } from '../util/logger.js';
import {
  InvalidArgumentException,
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '../protocol/errors.js';
import { evenHashRanges } from '../util/hash-key.js';
import { Limits } from './limits/index.js';
import { autoScale } from './on-demand-scaling.js';
import { finishPendingReshard } from './resharding.js';
import { dropExpiredShards, isExpiredShard } from './retention.js';
import { IteratorCodec } from './shard-iterator.js';
import type { Shard } from './shard.js';
import { shardNotFound } from './starting-position.js';
import { Stream } from './stream.js';
import { Channels } from './channels.js';
import { FanOut } from './subscriptions.js';
import type { KinesisSettings } from './settings.js';
import type { CreateStreamParams, RecordCipher, StreamRef } from './context.js';
import type { OperationContext } from './operations/context.js';

export type { CreateStreamParams, StreamRef } from './context.js';

/**
 * Whether this node runs the background work (due status transitions, on-demand scaling, the
 * retention sweep). A single process always does; the nodes of a cluster hold a lease for it.
 */
export interface BackgroundLease {
  readonly held: boolean;
}

/** Everything the Kinesis service is made of; it owns none of these but the state it builds on them. */
export interface KinesisDeps {
  settings: KinesisSettings;
  /** Stream documents, settings and (through metricsStore) metric minutes. Closed by close(). */
  catalog: Catalog;
  /** The shards' logs. Closed by close(). */
  logs: LogStore;
  clock: Clock;
  /** Where completed one-minute metrics go (metrics/store.ts). */
  metricsStore: MetricsStore;
  /** Encryption at rest; absent, records are stored as they come. */
  cipher?: RecordCipher;
  /** Bounds the memory GetRecords responses hold at once; absent, reads are not bounded. */
  readBudget?: ResponseBudget;
  /** Held by the node that runs the background work; absent, this process always does. */
  lease?: BackgroundLease;
  /** Where storage faults that answers do not carry are reported; absent, they are dropped. */
  logger?: ServiceLogger;
}

/** How long an append that met a shard sealed elsewhere waits for the catalog to close it. */
const SEALED_WAIT_MS = 5_000;

const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:([^:]*):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/;

/**
 * The Kinesis service: the streams of one account and region, their lifecycle, and the logs of
 * their shards. Operations (./operations) call into it; it reads and writes the catalog and the
 * log store through their interfaces only.
 */
export class Kinesis implements OperationContext {
  private readonly byName = new Map<string, Stream>();
  private readonly byKey = new Map<string, Stream>();
  /** Streams whose transitional status has a deadline; settled by tick() or on access. */
  private readonly pending = new Set<Stream>();
  private iteratorCodec: IteratorCodec | undefined;
  /** Live SubscribeToShard subscriptions (enhanced fan-out). */
  readonly fanOut: FanOut = new FanOut(this);
  private settling = new Map<Stream, Promise<void>>();
  /** The tail of each lane of serially() work. */
  private readonly lanes = new Map<string, Promise<unknown>>();

  /** Per-shard throughput limits and control-plane call rates. */
  readonly limits: Limits;

  /** Channels: their catalog document and, on the lease holder, their delivery. */
  readonly channels: Channels;

  /** One-minute stream- and shard-level metrics (CloudWatch names). */
  readonly metrics: MetricsRecorder;

  readonly settings: KinesisSettings;
  readonly catalog: Catalog;
  readonly logs: LogStore;
  readonly clock: Clock;
  readonly cipher: RecordCipher | undefined;
  readonly readBudget: ResponseBudget | undefined;
  readonly lease: BackgroundLease;
  private readonly logger: ServiceLogger | undefined;
  /** Follows the catalog when other processes write it too. */
  private watch: CatalogWatch | undefined;
  /** Catalog revision of each stream's document as this node last saw it (by stream key). */
  private readonly revisions = new Map<string, number>();
  /** The latest retention trim of each open log, which reads wait for. */
  private readonly trims = new WeakMap<ShardLog, Promise<void>>();

  constructor(deps: KinesisDeps) {
    const { settings, clock } = deps;
    this.settings = settings;
    this.catalog = deps.catalog;
    this.logs = deps.logs;
    this.clock = clock;
    this.cipher = deps.cipher;
    this.readBudget = deps.readBudget;
    this.lease = deps.lease ?? { held: true };
    this.logger = deps.logger;
    this.limits = new Limits(settings.limits, settings.accountId);
    this.channels = new Channels(this, this.lease);
    this.metrics = new MetricsRecorder({
      clock,
      store: deps.metricsStore,
      retentionMinutes: settings.metricsRetentionMinutes,
      keyOf: (name) => this.byName.get(name)?.key,
    });
  }

  /** Signs and checks shard iterators; set by start(). */
  get iterators(): IteratorCodec {
    if (!this.iteratorCodec) throw new Error('the Kinesis service was not started');
    return this.iteratorCodec;
  }

  reportFault(err: unknown, context: Record<string, unknown>): void {
    try {
      this.logger?.error({ err, ...context }, 'a shard write failed; its records were answered InternalFailure');
    } catch {
      // Reporting must never change the answer.
    }
  }

  serially<T>(lane: string, work: () => Promise<T>): Promise<T> {
    const run = (this.lanes.get(lane) ?? Promise.resolve()).then(work);
    const tail = run.catch(() => undefined);
    this.lanes.set(lane, tail);
    void tail.then(() => {
      if (this.lanes.get(lane) === tail) this.lanes.delete(lane);
    });
    return run;
  }

  async start(): Promise<void> {
    this.iteratorCodec = new IteratorCodec(Buffer.from(await this.iteratorSecret(), 'base64'));
    if (this.catalog.watchStreams) {
      this.watch = await this.catalog.watchStreams((change) => this.applyChange(change));
      await this.watch.sync();
    } else {
      for (const meta of await this.catalog.loadStreams()) {
        const stream = new Stream(meta, this.streamArn(meta.name));
        this.index(stream);
      }
    }
    await this.tick();
  }

  /** The key that signs shard iterators: the first writer's, so that every node accepts every iterator. */
  private async iteratorSecret(): Promise<string> {
    const existing = await this.catalog.getSetting('iterator-secret');
    if (existing) return existing;
    const secret = randomBytes(32).toString('base64');
    try {
      await this.catalog.putSettingIf('iterator-secret', secret, 0);
      return secret;
    } catch (err) {
      if (!(err instanceof CatalogConflictError)) throw err;
    }
    const winner = await this.catalog.getSetting('iterator-secret');
    if (!winner) throw new Error('the iterator secret vanished from the catalog');
    return winner;
  }

  async close(): Promise<void> {
    await this.watch?.stop();
    this.fanOut.close();
    await this.channels.close();
    await Promise.allSettled([...this.settling.values(), ...this.lanes.values()]);
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
    await this.watch?.sync();
    // A due transition that cannot be written now (a full disk) stays pending for the background
    // tick to retry and log; the listing shows the status the catalog has.
    await this.tick().catch(() => {});
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The stream a request names, after its pending transition (if due) is applied. With a shared
   * catalog, this node first catches up with every change written before the request arrived.
   */
  async resolve(ref: StreamRef): Promise<Stream> {
    const name = this.nameOf(ref);
    await this.watch?.sync();
    return this.lookup(name);
  }

  private async lookup(name: string): Promise<Stream> {
    let stream = this.byName.get(name);
    if (stream && this.pending.has(stream)) {
      // As in list(): a transition that cannot be written now is retried by the tick.
      await this.settle(stream).catch(() => {});
      stream = this.byName.get(name);
    }
    if (!stream) throw this.notFound(name);
    return stream;
  }

  /**
   * The stream a request names, which must accept reads and writes (ACTIVE or UPDATING). The
   * data path trusts this node's view, kept current by the catalog watch, and catches up with the
   * catalog only when the view says no.
   */
  async resolveReadable(ref: StreamRef): Promise<Stream> {
    const name = this.nameOf(ref);
    let stream = this.byName.get(name);
    if (!readable(stream) && this.watch) await this.watch.sync();
    stream = await this.lookup(name);
    if (!readable(stream)) throw this.notFound(name);
    return stream;
  }

  known(): Iterable<Stream> {
    return this.byKey.values();
  }

  byStreamKey(key: string): Stream | undefined {
    return this.byKey.get(key);
  }

  /**
   * The stream with this key and its shard `index`, catching up with a shared catalog first when
   * this node does not know them (an iterator handed out by another node).
   */
  async streamShardByKey(key: string, index: number): Promise<{ stream: Stream | undefined; shard: Shard | undefined }> {
    let stream = this.byKey.get(key);
    if ((!stream || !stream.shard(index)) && this.watch) {
      await this.watch.sync();
      stream = this.byKey.get(key);
    }
    return { stream, shard: stream?.shard(index) };
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
    await this.watch?.sync();
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
    await this.reserveName(p.name, meta.key);
    const revision = await this.catalog.putStreamIf(meta, 0);
    const stream = this.byKey.get(meta.key) ?? new Stream(meta, this.streamArn(p.name));
    if (!this.byKey.has(meta.key)) {
      this.revisions.set(meta.key, revision);
      this.index(stream);
    }
    if (this.settings.createStreamDelayMs <= 0) await this.settle(stream);
  }

  /**
   * Claims a stream name for the stream `key` in the catalog, first writer wins: two nodes creating
   * the same name at once cannot both succeed. A claim whose stream no longer exists is taken over.
   */
  private async reserveName(name: string, key: string): Promise<void> {
    const setting = `stream-name.${name}`;
    for (let attempt = 1; ; attempt++) {
      const claim = await this.catalog.getSettingRevisioned(setting);
      const holder = claim && claim.value !== key ? (await this.catalog.getStream(claim.value))?.value : undefined;
      // A stream whose deletion is due is gone, even while its data is still being dropped.
      const gone = holder?.status === 'DELETING' && holder.statusUntil !== undefined && holder.statusUntil <= this.now;
      if (holder && !gone) {
        throw new ResourceInUseException(`Stream ${name} under account ${this.settings.accountId} already exists.`);
      }
      try {
        await this.catalog.putSettingIf(setting, key, claim?.revision ?? 0);
        return;
      } catch (err) {
        if (!(err instanceof CatalogConflictError) || attempt >= 100) throw err;
      }
    }
  }

  /**
   * Starts a stream's deletion. `finalize` may change the document written with DELETING (the
   * stream's consumers go in the same write, so no reader sees the stream ACTIVE without them).
   */
  async deleteStream(stream: Stream, finalize: (meta: StreamMeta) => StreamMeta = (meta) => meta): Promise<void> {
    if (stream.meta.status === 'DELETING') return;
    const until = this.now + this.settings.deleteStreamDelayMs;
    await this.write(stream, (meta) => (meta.status === 'DELETING' ? undefined : finalize({ ...meta, status: 'DELETING', statusUntil: until })));
    if (this.settings.deleteStreamDelayMs <= 0) await this.settle(stream);
  }

  /**
   * Changes a stream's catalog document with compare-and-set: `change` gets the newest document
   * (the run-time view is brought up to it first, so checks against `stream` see it too) and
   * returns the new one, or undefined to leave it; it runs again if another writer got there first.
   * Rebuilds the run-time view from what was stored. A stream gone from the catalog is not found.
   */
  async write(stream: Stream, change: (meta: StreamMeta) => StreamMeta | undefined): Promise<StreamMeta> {
    const stored = await updateStreamRevisioned(this.catalog, stream.key, (current, revision) => {
      if (!current) {
        this.removed(stream);
        throw this.notFound(stream.name);
      }
      this.adopt(stream, current, revision);
      return change(current);
    });
    if (stored) this.adopt(stream, stored.value, stored.revision);
    return stream.meta;
  }

  /** Writes a whole stream document over the newest one and rebuilds the run-time view. */
  async update(stream: Stream, meta: StreamMeta): Promise<void> {
    await this.write(stream, () => meta);
  }

  /** Brings the run-time view of a stream up to a newer catalog document. */
  private adopt(stream: Stream, meta: StreamMeta, revision: number): void {
    if (revision <= (this.revisions.get(stream.key) ?? 0)) return;
    this.revisions.set(stream.key, revision);
    if (stream.meta !== meta) {
      stream.meta = meta;
      stream.rebuild();
    }
    if (meta.statusUntil !== undefined) this.pending.add(stream);
    this.fanOut.streamChanged(stream.key);
  }

  /** The stream left the catalog (another node deleted it): forget it and close its logs here. */
  private removed(stream: Stream): void {
    if (this.byKey.get(stream.key) !== stream) return;
    this.unindex(stream);
    this.revisions.delete(stream.key);
    this.fanOut.streamChanged(stream.key);
    for (const shard of stream.shards) {
      const log = shard.log;
      shard.log = undefined;
      log?.close().catch(() => undefined);
    }
  }

  /** A change another node (or this one) wrote to a shared catalog. */
  private applyChange(change: StreamChange): void {
    const stream = this.byKey.get(change.key);
    if (change.value === undefined) {
      if (stream) this.removed(stream);
      return;
    }
    if (stream) {
      this.adopt(stream, change.value, change.revision);
      return;
    }
    const created = new Stream(change.value, this.streamArn(change.value.name));
    this.revisions.set(change.key, change.revision);
    this.index(created);
    this.fanOut.streamChanged(change.key);
  }

  /** Re-reads a stream's document from the catalog (a writer elsewhere changed it). */
  async refresh(stream: Stream): Promise<void> {
    const current = await this.catalog.getStream(stream.key);
    if (!current) this.removed(stream);
    else this.adopt(stream, current.value, current.revision);
  }

  /**
   * The log of a shard, opened on first use. A shard whose log was dropped (expired; see
   * retention.ts) is never opened again: it does not exist.
   */
  async log(stream: Stream, shard: Shard): Promise<ShardLog> {
    if (shard.meta.expiredAt !== undefined) {
      // Another node dropped it: let go of the log this node still holds.
      const stale = shard.log;
      shard.log = undefined;
      stale?.close().catch(() => undefined);
      throw shardNotFound(this, shard.id, stream.name);
    }
    if (!shard.log) {
      const log = await this.logs.open(stream.key, shard.index);
      shard.log ??= log;
    }
    return shard.log;
  }

  /**
   * What becomes of an append the engine refused. One to a shard that another node sealed
   * (resharding there) waits until this node's view has the shard closed and resolves to
   * undefined: the write path routes the records again. One to a shard whose stream another node
   * deleted is answered as AWS answers for a missing stream. Anything else is rethrown.
   */
  async appendRefused(stream: Stream, index: number, err: unknown): Promise<undefined> {
    if (err instanceof ShardDeletedError) {
      // Another node deleted the stream; this node's view had not caught up yet.
      await this.refresh(stream);
      if (this.byKey.get(stream.key) !== stream || stream.meta.status === 'DELETING') throw this.notFound(stream.name);
      throw err;
    }
    if (!(err instanceof ShardSealedError)) throw err;
    await this.awaitClosed(stream, index);
    return undefined;
  }

  private async awaitClosed(stream: Stream, index: number): Promise<void> {
    const until = performance.now() + SEALED_WAIT_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      if (this.byKey.get(stream.key) !== stream || stream.shard(index)?.isOpen === false) return;
      if (performance.now() >= until) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      await this.refresh(stream);
    }
    throw new ServiceUnavailableException('The shard is being resharded. Retry the request.');
  }

  /**
   * Applies retention to a shard (at most once a second of clock time) and returns its log:
   * records older than the retention period are never served.
   */
  async retainedLog(stream: Stream, shard: Shard): Promise<ShardLog> {
    // A stream whose deletion completes meanwhile has its logs closed: the caller hears that the
    // stream is gone, as AWS says it, not that a log failed.
    const gone = (err: unknown) => (stream.meta.status === 'DELETING' ? this.notFound(stream.name) : err);
    if (stream.meta.status === 'DELETING') throw this.notFound(stream.name);
    const now = this.now;
    // A closed shard whose records have all expired is no longer listed, nor read (and log()
    // refuses one whose log was dropped, letting go of a log this node still holds).
    if (shard.meta.expiredAt === undefined && isExpiredShard(stream, shard, now)) {
      throw shardNotFound(this, shard.id, stream.name);
    }
    const log = await this.log(stream, shard);
    if (now - shard.lastTrimAt >= 1000) {
      shard.lastTrimAt = now;
      const trim = log.trim(now - stream.retentionMs);
      this.trims.set(log, trim);
      await trim.catch((err: unknown) => {
        throw gone(err);
      });
    } else {
      // A trim another request started may still be running: its records must not be served meanwhile.
      await this.trims.get(log)?.catch(() => {});
    }
    return log;
  }

  /**
   * Settles due transitions and splits busy ON_DEMAND shards (on the node holding the background
   * lease), and flushes this node's metrics.
   */
  async tick(): Promise<void> {
    if (this.lease.held) {
      for (const stream of [...this.pending]) await this.settle(stream);
      await autoScale(this);
    }
    await this.metrics.flush();
  }

  /**
   * Applies retention to every shard of every stream (background, every minute, on the lease
   * holder): drops the logs of closed shards past the retention period, trims the others.
   */
  async trimAll(): Promise<void> {
    if (!this.lease.held) return;
    for (const stream of [...this.byName.values()]) {
      if (stream.meta.status === 'CREATING' || stream.meta.status === 'DELETING') continue;
      await dropExpiredShards(this, stream);
      for (const shard of stream.shards) {
        if (isExpiredShard(stream, shard, this.now)) continue;
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
      for (const shard of stream.shards) shard.log = undefined;
      // The data goes first: a crash in between leaves the DELETING document, to be finished again.
      await this.logs.dropStream(meta.key);
      await this.catalog.deleteStream(meta.key);
      this.revisions.delete(meta.key);
      return;
    }
    if (meta.status === 'UPDATING' && (await finishPendingReshard(this, stream))) {
      this.pending.delete(stream);
      return;
    }
    // The stream stays pending until the catalog has the new status, so that a request arriving
    // meanwhile waits for this transition instead of seeing the old status.
    const now = this.now;
    await this.write(stream, (current) => {
      if (current.status === 'DELETING' || current.statusUntil === undefined || current.statusUntil > now) return undefined;
      const next: StreamMeta = { ...current, status: 'ACTIVE' };
      delete next.statusUntil;
      return next;
    });
    if (stream.meta.statusUntil === undefined) this.pending.delete(stream);
  }
}

function readable(stream: Stream | undefined): stream is Stream {
  return stream !== undefined && (stream.meta.status === 'ACTIVE' || stream.meta.status === 'UPDATING');
}
