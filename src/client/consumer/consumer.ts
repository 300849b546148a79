import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { systemClock, type Clock } from '../../util/clock.js';
import { HeldLease } from './held-lease.js';
import type { Lease } from './lease.js';
import { decideLeasesToTake, LeaseObserver } from './lease-taker.js';
import { LeaseTable, isConditionalFailure } from './lease-table.js';
import { ensureStreamConsumer, fanOutReader } from './retrieval/fanout.js';
import { pollingReader } from './retrieval/polling.js';
import type { ShardReader } from './retrieval/types.js';
import { isShardEnd } from './sequence.js';
import { ShardConsumer } from './shard-consumer.js';
import { leasesToCleanUp, syncShards } from './shard-sync.js';
import { silentLogger, type ConsumerLogger, type ConsumerOptions, type InitialPosition, type Retrieval } from './types.js';
import { errorMessage, sleep } from './util.js';

const EPSILON_MS = 25;

export type ConsumerState = 'NEW' | 'STARTING' | 'RUNNING' | 'SHUTTING_DOWN' | 'SHUT_DOWN' | 'FAILED';

/** Settings after defaults. */
export interface ResolvedSettings {
  failoverTimeMs: number;
  leaseRenewalIntervalMs: number;
  leaseTakerIntervalMs: number;
  shardSyncIntervalMs: number;
  cleanupLeasesUponShardCompletion: boolean;
  leaseCleanupIntervalMs: number;
  maxLeasesPerWorker: number;
  maxLeasesToStealAtOneTime: number;
  parentShardPollIntervalMs: number;
  maxRecords: number;
  idleTimeBetweenReadsMs: number;
  retrieval: Retrieval;
  initialPosition: InitialPosition;
}

export function resolveSettings(o: ConsumerOptions): ResolvedSettings {
  const failoverTimeMs = o.failoverTimeMs ?? 10_000;
  return {
    failoverTimeMs,
    leaseRenewalIntervalMs: o.leaseRenewalIntervalMs ?? Math.max(1, Math.floor(failoverTimeMs / 3) - EPSILON_MS),
    leaseTakerIntervalMs: o.leaseTakerIntervalMs ?? (failoverTimeMs + EPSILON_MS) * 2,
    shardSyncIntervalMs: o.shardSyncIntervalMs ?? 60_000,
    cleanupLeasesUponShardCompletion: o.cleanupLeasesUponShardCompletion ?? true,
    leaseCleanupIntervalMs: o.leaseCleanupIntervalMs ?? 300_000,
    maxLeasesPerWorker: o.maxLeasesPerWorker ?? Number.MAX_SAFE_INTEGER,
    maxLeasesToStealAtOneTime: o.maxLeasesToStealAtOneTime ?? 1,
    parentShardPollIntervalMs: o.parentShardPollIntervalMs ?? 10_000,
    maxRecords: o.maxRecords ?? 10_000,
    idleTimeBetweenReadsMs: o.idleTimeBetweenReadsMs ?? 1_000,
    retrieval: o.retrieval ?? 'polling',
    initialPosition: typeof o.initialPosition === 'string' ? { type: o.initialPosition } : (o.initialPosition ?? { type: 'TRIM_HORIZON' }),
  };
}

/**
 * A Kinesis consumer in the model of the KCL 2.x Scheduler: a lease per shard in a DynamoDB table
 * named after the application; workers take, renew, balance and steal leases, and process the
 * shards they hold with the application's record processors.
 */
export class Consumer {
  readonly workerId: string;
  readonly settings: ResolvedSettings;
  readonly leaseTable: LeaseTable;
  state: ConsumerState = 'NEW';
  private readonly kinesis: KinesisClient;
  private readonly dynamodb: DynamoDBClient;
  private readonly ownClients: Array<{ destroy(): void }> = [];
  private readonly logger: ConsumerLogger;
  private readonly clock: Clock;
  private readonly observer = new LeaseObserver();
  private readonly held = new Map<string, HeldLease>();
  private readonly shardConsumers = new Map<string, ShardConsumer>();
  private stream: { StreamName?: string; StreamARN?: string };
  private reader: ShardReader | undefined;
  private readonly stopLoops = new AbortController();
  private readonly stopRenewer = new AbortController();
  private loops: Promise<void>[] = [];
  /** Aborting this signal runs the lease taker at once (used when child leases appear). */
  private readonly takerKick: { controller?: AbortController } = {};
  private startPromise: Promise<void> | undefined;
  private takePass: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private runningResolve!: () => void;
  private runningReject!: (err: unknown) => void;
  /** Resolves once the worker has its lease table, leases and first lease-taking pass. */
  readonly running: Promise<void>;

  constructor(private readonly options: ConsumerOptions) {
    if (!options.applicationName) throw new TypeError('applicationName is required');
    if (!options.streamName && !options.streamARN) throw new TypeError('streamName or streamARN is required');
    if (typeof options.recordProcessorFactory !== 'function') throw new TypeError('recordProcessorFactory is required');
    this.settings = resolveSettings(options);
    if (!['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'].includes(this.settings.initialPosition.type)) {
      throw new TypeError(`initialPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, not ${String(this.settings.initialPosition.type)}`);
    }
    if (this.settings.retrieval !== 'polling' && this.settings.retrieval !== 'fanout') {
      throw new TypeError(`retrieval must be 'polling' or 'fanout', not ${String(this.settings.retrieval)}`);
    }
    if (this.settings.initialPosition.type === 'AT_TIMESTAMP' && !(this.settings.initialPosition.timestamp instanceof Date)) {
      throw new TypeError('initialPosition AT_TIMESTAMP needs a timestamp');
    }
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    if (options.kinesisClient) this.kinesis = options.kinesisClient;
    else {
      this.kinesis = new KinesisClient(options.clientConfig ?? {});
      this.ownClients.push(this.kinesis);
    }
    if (options.dynamoDBClient) this.dynamodb = options.dynamoDBClient;
    else {
      this.dynamodb = new DynamoDBClient(options.clientConfig ?? {});
      this.ownClients.push(this.dynamodb);
    }
    this.leaseTable = new LeaseTable(this.dynamodb, options.applicationName);
    this.stream = options.streamARN ? { StreamARN: options.streamARN } : { StreamName: options.streamName };
    this.running = new Promise<void>((resolve, reject) => {
      this.runningResolve = resolve;
      this.runningReject = reject;
    });
    this.running.catch(() => undefined);
  }

  /** Starts the worker; resolves when it is running (see `running`). */
  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.state = 'STARTING';
    try {
      await this.leaseTable.ensureTable(this.options.createLeaseTable ?? true);
      if (this.settings.retrieval === 'fanout') {
        const streamARN = this.stream.StreamARN ?? (await this.describeStreamARN());
        const consumerARN = await ensureStreamConsumer(this.kinesis, streamARN, this.options.consumerName ?? this.options.applicationName, this.logger);
        this.reader = fanOutReader({ kinesis: this.kinesis, consumerARN, logger: this.logger });
      } else {
        this.reader = pollingReader({
          kinesis: this.kinesis,
          stream: this.stream,
          maxRecords: this.settings.maxRecords,
          idleTimeBetweenReadsMs: this.settings.idleTimeBetweenReadsMs,
          logger: this.logger,
        });
      }
      await this.retrying('shard sync', () => this.syncShards());
      await this.retrying('lease taking', () => this.takeLeases());
      if (this.state !== 'STARTING') return;
      this.loops = [
        this.loop(this.settings.leaseRenewalIntervalMs, () => this.renewLeases(), this.stopRenewer.signal),
        this.loop(this.settings.leaseTakerIntervalMs, () => this.takeLeases(), this.stopLoops.signal, this.takerKick),
        this.loop(this.settings.shardSyncIntervalMs, async () => void (await this.syncShards()), this.stopLoops.signal),
      ];
      if (this.settings.cleanupLeasesUponShardCompletion) {
        this.loops.push(this.loop(this.settings.leaseCleanupIntervalMs, async () => void (await this.cleanupLeases()), this.stopLoops.signal));
      }
      this.state = 'RUNNING';
      this.logger.info({ workerId: this.workerId, leases: [...this.held.keys()] }, 'consumer running');
      this.runningResolve();
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'consumer failed to start');
      await this.stopAll();
      this.state = 'FAILED';
      this.runningReject(err);
      throw err;
    }
  }

  private async describeStreamARN(): Promise<string> {
    const r = await this.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.stream.StreamName }));
    return r.StreamDescriptionSummary!.StreamARN!;
  }

  private async retrying<T>(what: string, fn: () => Promise<T>, attempts = 5): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (i >= attempts || this.stopLoops.signal.aborted) throw err;
        this.logger.warn({ err: errorMessage(err), attempt: i }, `${what} failed; retrying`);
        await sleep(Math.min(200 * 2 ** i, 5_000), this.stopLoops.signal);
      }
    }
  }

  private async loop(intervalMs: number, fn: () => Promise<void>, signal: AbortSignal, kick?: { controller?: AbortController }): Promise<void> {
    while (!signal.aborted) {
      const wake = new AbortController();
      const onAbort = () => wake.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (kick) kick.controller = wake;
      await sleep(intervalMs, wake.signal);
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return;
      try {
        await fn();
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'periodic lease task failed');
      }
    }
  }

  /** Shard ids of the leases this worker holds. */
  heldLeases(): string[] {
    return [...this.held.keys()].sort();
  }

  async syncShards(): Promise<number> {
    const created = await syncShards(this.kinesis, this.leaseTable, this.stream, this.settings.initialPosition);
    if (created) this.logger.info({ created }, 'created leases');
    return created;
  }

  /** Deletes the leases of completed shards whose children have all started; returns their keys. */
  async cleanupLeases(): Promise<string[]> {
    const deleted: string[] = [];
    for (const lease of leasesToCleanUp(await this.leaseTable.listLeases())) {
      if (await this.leaseTable.deleteCompletedLease(lease.leaseKey)) deleted.push(lease.leaseKey);
    }
    if (deleted.length) this.logger.info({ deleted }, 'deleted leases of completed shards');
    return deleted;
  }

  /** One pass of the lease taker (scan, observe, take and steal); joins the pass under way if there is one. */
  takeLeases(): Promise<void> {
    this.takePass ??= this.takeLeasesOnce().finally(() => {
      this.takePass = undefined;
    });
    return this.takePass;
  }

  private async takeLeasesOnce(): Promise<void> {
    if (this.stopLoops.signal.aborted) return;
    const leases = await this.leaseTable.listLeases();
    const now = this.clock.now();
    this.observer.observe(leases, now);
    // Leases the table says are ours but that this process does not run (a restart with the same worker id).
    const toTake: Lease[] = leases.filter(
      (l) => l.leaseOwner === this.workerId && !this.held.has(l.leaseKey) && !this.shardConsumers.has(l.leaseKey) && !isShardEnd(l.checkpoint),
    );
    const available = new Set<string>();
    for (const lease of leases) {
      if (this.observer.isAvailable(lease, now, this.settings.failoverTimeMs)) available.add(lease.leaseKey);
    }
    const decision = decideLeasesToTake({
      leases,
      available,
      workerId: this.workerId,
      maxLeasesForWorker: this.settings.maxLeasesPerWorker,
      maxLeasesToStealAtOneTime: this.settings.maxLeasesToStealAtOneTime,
    });
    toTake.push(...decision.take);
    if (decision.steal.length) this.logger.info({ steal: decision.steal.map((l) => [l.leaseKey, l.leaseOwner]) }, 'stealing leases');
    for (const lease of [...toTake, ...decision.steal]) {
      if (this.stopLoops.signal.aborted) return;
      if (this.shardConsumers.has(lease.leaseKey)) continue;
      try {
        const taken = await this.leaseTable.takeLease(lease, this.workerId);
        if (taken) this.startShard(taken);
      } catch (err) {
        this.logger.warn({ leaseKey: lease.leaseKey, err: errorMessage(err) }, 'taking lease failed');
      }
    }
  }

  private startShard(lease: Lease): void {
    const held = new HeldLease(lease, this.clock.now());
    this.held.set(lease.leaseKey, held);
    this.logger.info({ leaseKey: lease.leaseKey, checkpoint: lease.checkpoint }, 'took lease');
    const sc = new ShardConsumer({
      held,
      table: this.leaseTable,
      workerId: this.workerId,
      read: this.reader!,
      recordProcessorFactory: this.options.recordProcessorFactory,
      initialPosition: this.settings.initialPosition,
      parentShardPollIntervalMs: this.settings.parentShardPollIntervalMs,
      callProcessRecordsEvenForEmptyRecordList: this.options.callProcessRecordsEvenForEmptyRecordList ?? false,
      logger: this.logger,
      now: () => this.clock.now(),
      onLeaseLost: (h) => this.loseLease(h),
    });
    this.shardConsumers.set(lease.leaseKey, sc);
    void sc.done.then(() => this.shardConsumerDone(sc, held));
  }

  private async shardConsumerDone(sc: ShardConsumer, held: HeldLease): Promise<void> {
    if (this.shardConsumers.get(sc.shardId) === sc) this.shardConsumers.delete(sc.shardId);
    // A completed shard, a graceful shutdown or a failed consumer: give the lease up so that nobody
    // waits for it to expire.
    if (!held.lost) await this.releaseLease(held);
    if (this.held.get(held.leaseKey) === held) this.held.delete(held.leaseKey);
    // The children of a completed shard have leases now: look for them without waiting a full interval.
    if (sc.completed && this.state === 'RUNNING') this.wakeTaker();
  }

  private wakeTaker(): void {
    this.takerKick.controller?.abort();
  }

  private async releaseLease(held: HeldLease): Promise<void> {
    await held.exclusive(async () => {
      if (held.lost) return;
      try {
        const ok = await this.leaseTable.evictLease(held.lease);
        if (!ok) this.logger.warn({ leaseKey: held.leaseKey }, 'lease was already lost when releasing it');
      } catch (err) {
        this.logger.warn({ leaseKey: held.leaseKey, err: errorMessage(err) }, 'releasing lease failed');
      }
      held.lost = true;
    });
  }

  private loseLease(held: HeldLease): void {
    if (held.lost) return;
    held.lost = true;
    this.logger.info({ leaseKey: held.leaseKey }, 'lease lost');
    if (this.held.get(held.leaseKey) === held) this.held.delete(held.leaseKey);
    this.shardConsumers.get(held.leaseKey)?.stop('LEASE_LOST');
  }

  /** One pass of the lease renewer: bumps leaseCounter of every held lease. */
  async renewLeases(): Promise<void> {
    await Promise.all([...this.held.values()].map((held) => this.renewLease(held)));
  }

  private async renewLease(held: HeldLease): Promise<void> {
    await held.exclusive(async () => {
      if (held.lost) return;
      const known = held.lease;
      try {
        const renewed = await this.leaseTable.renewLease(known);
        if (renewed) {
          held.lease = renewed;
          held.lastRenewedAt = this.clock.now();
          return;
        }
        // The condition failed: the write may still have been ours (a retried request).
        const current = await this.leaseTable.getLease(known.leaseKey);
        if (current && current.leaseOwner === this.workerId && current.leaseCounter === known.leaseCounter + 1) {
          held.lease = { ...known, leaseCounter: current.leaseCounter };
          held.lastRenewedAt = this.clock.now();
          return;
        }
      } catch (err) {
        if (!isConditionalFailure(err)) this.logger.warn({ leaseKey: known.leaseKey, err: errorMessage(err) }, 'renewing lease failed');
        if (this.clock.now() - held.lastRenewedAt <= this.settings.failoverTimeMs) return;
      }
      queueMicrotask(() => this.loseLease(held));
    });
  }

  /**
   * Graceful shutdown: stops taking leases, calls shutdownRequested (with a checkpointer) on every
   * processor, then releases the leases (leaseOwner removed by a conditional update).
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    const starting = this.startPromise;
    const failed = this.state === 'FAILED';
    this.state = 'SHUTTING_DOWN';
    this.stopLoops.abort();
    if (starting) await starting.catch(() => undefined);
    if (failed || (this.state as ConsumerState) === 'FAILED') return;
    this.state = 'SHUTTING_DOWN';
    await this.stopAll();
    this.state = 'SHUT_DOWN';
    this.runningReject(new Error('consumer shut down before it was running'));
    this.logger.info({ workerId: this.workerId }, 'consumer shut down');
  }

  /** Stops every shard consumer (shutdownRequested), releases the leases, stops the loops and closes own clients. */
  private async stopAll(): Promise<void> {
    this.stopLoops.abort();
    const consumers = [...this.shardConsumers.values()];
    for (const sc of consumers) sc.stop('REQUESTED');
    await Promise.all(consumers.map((sc) => sc.done));
    await Promise.all([...this.held.values()].map((h) => this.releaseLease(h)));
    this.held.clear();
    this.stopRenewer.abort();
    await Promise.all(this.loops);
    for (const c of this.ownClients) c.destroy();
  }
}
