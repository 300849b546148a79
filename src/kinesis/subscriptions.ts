import type { WireFormat } from '../protocol/decode.js';
import { eventMessage, exceptionMessage, type EventSink } from '../protocol/eventstream.js';
import type { ConsumerMeta } from './consumers.js';
import { openRecords } from './at-rest.js';
import { toRecordOutput } from './records.js';
import type { KinesisContext } from './context.js';
import { shardIdOf, type Shard } from './shard.js';
import type { Stream } from './stream.js';
import type { ShardLog } from '../storage/types.js';

/**
 * Enhanced fan-out delivery: the live SubscribeToShard subscriptions of one Kinesis service.
 *
 * A subscription reads its shard's log from its own position and writes SubscribeToShardEvent
 * messages to its event stream. It reads while there is something to read and the transport takes
 * more; then it waits for one of: an append to its shard (the write path calls `appended`), the
 * transport draining, its read allowance refilling, or its heartbeat timer. Nothing polls the log.
 * When the engine is shared by several nodes (JetStream), appends made elsewhere are learnt from
 * the engine's announcements (watchAppends), followed while a shard has subscribers here.
 *
 * Logic runs on the injected clock (subscription lifetime, the per-consumer read allowance, the
 * SubscribeToShard call rate); timers only decide when to look again.
 */

/** Records in one event, at most. */
export const EVENT_MAX_RECORDS = 10_000;
/** Record bytes (data and partition keys) in one event, at most (one larger record still goes alone). */
export const EVENT_MAX_BYTES = 2 * 1024 * 1024;
/** SubscribeToShard calls for one consumer and shard: one per this many ms. */
export const SUBSCRIBE_INTERVAL_MS = 1_000;
/** A new subscription for the same consumer and shard is refused for this long after a successful one. */
export const TAKEOVER_AFTER_MS = 5_000;
/** Past this many admission records, those of idle consumer/shard pairs are dropped. */
const GATE_PRUNE_THRESHOLD = 4_096;

/** The shape of ChildShards in events and GetRecords. */
export function childShardsOf(stream: Stream, shard: Shard) {
  return stream.shards
    .filter((c) => c.meta.parentIndex === shard.index || c.meta.adjacentParentIndex === shard.index)
    .sort((a, b) => a.index - b.index)
    .map((c) => ({
      ShardId: c.id,
      ParentShards: [c.meta.parentIndex, c.meta.adjacentParentIndex]
        .filter((p): p is number => p !== undefined)
        .map(shardIdOf),
      HashKeyRange: { StartingHashKey: c.meta.startingHashKey, EndingHashKey: c.meta.endingHashKey },
    }));
}

/** When calls for one consumer and shard were last let through and last succeeded (clock ms). */
interface Gate {
  lastCall: number;
  lastSuccess: number;
  current: Subscription | undefined;
}

export interface SubscriptionParams {
  stream: Stream;
  shard: Shard;
  consumer: ConsumerMeta;
  consumerArn: string;
  /** The log offset to start reading from. */
  position: number;
  /** The continuation sequence number to report before any record is delivered. */
  continuation: string;
}

export interface SubscriptionInfo {
  streamKey: string;
  shardIndex: number;
  consumerName: string;
  /** The next log offset it reads. */
  position: number;
  /** Waiting for the transport to drain. */
  blocked: boolean;
}

export interface FanOutStats {
  /** Subscriptions whose event stream is open. */
  subscriptions: number;
  /** Timers those subscriptions hold. */
  timers: number;
  /** Consumer/shard pairs whose call history is kept for the rate rules. */
  gates: number;
}

export class FanOut {
  /** stream key → shard index → live subscriptions */
  private readonly byShard = new Map<string, Map<number, Set<Subscription>>>();
  /** Stops following another node's appends, per "stream key\nshard index" with subscribers. */
  private readonly watching = new Map<string, () => void>();
  private readonly gates = new Map<string, Gate>();
  private live = 0;
  /** Timers currently held by subscriptions. */
  timers = 0;

  constructor(readonly k: KinesisContext) {}

  /** Number of open subscriptions. */
  get count(): number {
    return this.live;
  }

  stats(): FanOutStats {
    return { subscriptions: this.live, timers: this.timers, gates: this.gates.size };
  }

  /** What each open subscription is doing (for tests and diagnostics). */
  list(): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    for (const shards of this.byShard.values()) for (const subs of shards.values()) for (const s of subs) out.push(s.info());
    return out;
  }

  /** The write path: records appended to this shard are now visible. Cheap when nobody listens. */
  appended(streamKey: string, shardIndex: number): void {
    if (this.live === 0) return;
    const subs = this.byShard.get(streamKey)?.get(shardIndex);
    if (subs === undefined) return;
    for (const s of subs) s.notify();
  }

  /** Something about the stream changed (shards closed, consumers deregistered, deletion): look again. */
  streamChanged(streamKey: string): void {
    if (this.live === 0) return;
    const shards = this.byShard.get(streamKey);
    if (shards === undefined) return;
    for (const subs of shards.values()) for (const s of subs) s.notify();
  }

  /**
   * The rate rules, checked before a subscription is granted: one call per second per consumer and
   * shard (LimitExceededException), and no second subscription within 5 s of a successful one
   * (ResourceInUseException). Throws, or records the success and returns the admission key.
   */
  admit(key: string, limitError: () => Error, inUseError: () => Error): void {
    const now = this.k.now;
    let gate = this.gates.get(key);
    if (gate !== undefined) {
      if (now - gate.lastCall < SUBSCRIBE_INTERVAL_MS) throw limitError();
      gate.lastCall = now;
      if (now - gate.lastSuccess < TAKEOVER_AFTER_MS) throw inUseError();
      gate.lastSuccess = now;
      return;
    }
    if (this.gates.size >= GATE_PRUNE_THRESHOLD) this.prune(now);
    gate = { lastCall: now, lastSuccess: now, current: undefined };
    this.gates.set(key, gate);
  }

  /** Opens a subscription on an event stream whose initial-response has been written. */
  open(key: string, params: SubscriptionParams, sink: EventSink, format: WireFormat): Subscription {
    let gate = this.gates.get(key);
    if (gate === undefined) {
      gate = { lastCall: this.k.now, lastSuccess: this.k.now, current: undefined };
      this.gates.set(key, gate);
    }
    const previous = gate.current;
    const sub = new Subscription(this, key, params, sink, format);
    gate.current = sub;
    // The newer subscription takes over; the older one is told why and ends.
    previous?.takenOver();
    let shards = this.byShard.get(params.stream.key);
    if (shards === undefined) this.byShard.set(params.stream.key, (shards = new Map()));
    let subs = shards.get(params.shard.index);
    if (subs === undefined) {
      shards.set(params.shard.index, (subs = new Set()));
      const watcher = this.k.logs.appendWatch;
      if (watcher) {
        const streamKey = params.stream.key;
        const index = params.shard.index;
        this.watching.set(`${streamKey}\n${index}`, watcher.watchAppends(streamKey, index, () => this.appended(streamKey, index)));
      }
    }
    subs.add(sub);
    this.live++;
    sink.onClose(() => sub.release());
    sub.begin();
    return sub;
  }

  /** Called by a subscription once its event stream is closed. */
  removed(sub: Subscription): void {
    const shards = this.byShard.get(sub.streamKey);
    const subs = shards?.get(sub.shardIndex);
    if (subs?.delete(sub)) {
      this.live--;
      if (subs.size === 0) {
        const key = `${sub.streamKey}\n${sub.shardIndex}`;
        this.watching.get(key)?.();
        this.watching.delete(key);
        shards!.delete(sub.shardIndex);
        if (shards!.size === 0) this.byShard.delete(sub.streamKey);
      }
    }
    const gate = this.gates.get(sub.gateKey);
    if (gate?.current === sub) gate.current = undefined;
  }

  /** Ends every subscription (server shutdown). */
  close(): void {
    for (const shards of [...this.byShard.values()]) {
      for (const subs of [...shards.values()]) for (const s of [...subs]) s.shutdown();
    }
  }

  private prune(now: number): void {
    for (const [key, gate] of this.gates) {
      if (gate.current === undefined && now - gate.lastCall >= TAKEOVER_AFTER_MS) this.gates.delete(key);
    }
  }
}

type EndReason =
  | { kind: 'clean' }
  | { kind: 'exception'; type: string; message: string };

/** One SubscribeToShard event stream. */
export class Subscription {
  readonly streamKey: string;
  readonly shardIndex: number;
  private readonly k: KinesisContext;
  private readonly streamName: string;
  private readonly consumerName: string;
  private readonly consumerCreatedAt: number;
  private readonly consumerArn: string;
  private position: number;
  private continuation: string;
  /** Clock time at which the subscription ends. */
  private readonly endsAt: number;

  private running = false;
  private notified = false;
  private heartbeatDue = false;
  private sentFirst = false;
  private awaitingDrain = false;
  private ending = false;
  private released = false;
  /** Real time (performance.now) of the last event written. */
  private lastSentAt = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private throttleTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  /** The read allowance (bytes), refilled by the clock. */
  private allowance: number;
  private allowanceAt: number;

  constructor(
    private readonly fanOut: FanOut,
    readonly gateKey: string,
    p: SubscriptionParams,
    private readonly sink: EventSink,
    private readonly format: WireFormat,
  ) {
    this.k = fanOut.k;
    this.streamKey = p.stream.key;
    this.streamName = p.stream.name;
    this.shardIndex = p.shard.index;
    this.consumerName = p.consumer.name;
    this.consumerCreatedAt = p.consumer.createdAt;
    this.consumerArn = p.consumerArn;
    this.position = p.position;
    this.continuation = p.continuation;
    const now = this.k.now;
    this.endsAt = now + this.k.settings.subscriptionLifetimeMs;
    this.allowance = this.rate;
    this.allowanceAt = now;
  }

  /** The read allowance's rate in bytes/s; 0 when there is none (also when limits are off altogether). */
  private get rate(): number {
    const s = this.k.settings;
    return s.limits?.enabled === false ? 0 : s.fanOutReadBytesPerSecond;
  }

  info(): SubscriptionInfo {
    return {
      streamKey: this.streamKey,
      shardIndex: this.shardIndex,
      consumerName: this.consumerName,
      position: this.position,
      blocked: this.sink.blocked,
    };
  }

  begin(): void {
    this.lastSentAt = performance.now();
    this.armHeartbeat(this.k.settings.subscriptionHeartbeatMs);
    void this.pump();
  }

  /** New records, or a change to the stream: read again if idle. */
  notify(): void {
    if (this.ending) return;
    if (this.running) {
      this.notified = true;
      return;
    }
    void this.pump();
  }

  /** A newer subscription for the same consumer and shard took over. */
  takenOver(): void {
    this.end({
      kind: 'exception',
      type: 'ResourceInUseException',
      message:
        `Subscription to shard ${shardIdOf(this.shardIndex)} of stream ${this.streamName} under account ` +
        `${this.k.settings.accountId} for consumer ${this.consumerName} was taken over by a newer subscription.`,
    });
  }

  /** Server shutdown. */
  shutdown(): void {
    this.end({ kind: 'clean' });
  }

  /** The event stream is closed: drop everything this subscription holds. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.ending = true;
    this.clearTimer('heartbeatTimer');
    this.clearTimer('throttleTimer');
    this.clearTimer('graceTimer');
    this.fanOut.removed(this);
  }

  private async pump(): Promise<void> {
    if (this.running || this.ending) return;
    this.running = true;
    try {
      while (!this.ending) {
        this.notified = false;
        const found = this.locate();
        if (found === undefined) return;
        const { stream, shard } = found;
        if (this.sink.blocked) {
          // Stop reading until the transport drains: nothing piles up for a slow reader.
          if (!this.awaitingDrain) {
            this.awaitingDrain = true;
            this.sink.onDrain(() => {
              this.awaitingDrain = false;
              this.notify();
            });
          }
          return;
        }
        const budget = this.budget();
        const log = await this.k.retainedLog(stream, shard);
        if (this.ending) return;
        const end = shard.meta.endOffset;
        if (budget <= 0) {
          // Over the read allowance: only a heartbeat, if one is due, until it refills.
          if (this.heartbeatDue || !this.sentFirst) await this.sendEmpty(log, end);
          this.armThrottle(budget);
          return;
        }
        let limit = EVENT_MAX_RECORDS;
        if (end !== undefined) limit = Math.max(0, Math.min(limit, end - this.position));
        if (limit > 0) {
          const read = await log.read(this.position, limit, Math.min(EVENT_MAX_BYTES, budget));
          if (this.ending) return;
          if (read.records.length > 0) {
            const records = read.records;
            openRecords(this.k, stream.key, shard.index, records);
            const last = records[records.length - 1]!;
            this.position = read.nextOffset;
            this.continuation = shard.seq.encode(last.offset, last.timestamp);
            this.spend(read.bytes);
            const behind = await this.millisBehind(log, end);
            if (this.ending) return;
            this.k.metrics.recordSubscribeEvent(stream, records.length, read.bytes, behind, this.k.now);
            this.send({
              Records: records.map((r) => toRecordOutput(shard, r)),
              ContinuationSequenceNumber: this.continuation,
              MillisBehindLatest: behind,
            });
            continue;
          }
          // Records trimmed away by retention are skipped.
          if (read.nextOffset > this.position) this.position = read.nextOffset;
        }
        if (end !== undefined && this.position >= end) {
          // The end of a closed shard: one last event naming the children, then the stream ends.
          this.send({ Records: [], MillisBehindLatest: 0, ChildShards: childShardsOf(stream, shard) });
          this.end({ kind: 'clean' });
          return;
        }
        if (this.notified) continue;
        if (this.heartbeatDue || !this.sentFirst) {
          await this.sendEmpty(log, end);
          if (this.notified) continue;
        }
        return;
      }
    } catch {
      this.end({ kind: 'exception', type: 'InternalFailureException', message: 'Internal service failure.' });
    } finally {
      this.running = false;
    }
  }

  /**
   * The stream, consumer and shard this subscription reads, checked again each time it reads: a
   * deleted stream or deregistered consumer ends it with ResourceNotFoundException, and so does the
   * end of its lifetime (cleanly).
   */
  private locate(): { stream: Stream; shard: Shard } | undefined {
    const account = this.k.settings.accountId;
    if (this.k.now >= this.endsAt) {
      this.end({ kind: 'clean' });
      return undefined;
    }
    const stream = this.k.byStreamKey(this.streamKey);
    if (stream === undefined || stream.meta.status === 'DELETING') {
      this.end({
        kind: 'exception',
        type: 'ResourceNotFoundException',
        message: `Stream ${this.streamName} under account ${account} not found.`,
      });
      return undefined;
    }
    const consumer = stream.meta.consumers?.find(
      (c) => c.name === this.consumerName && c.createdAt === this.consumerCreatedAt,
    );
    if (consumer === undefined || consumer.status === 'DELETING') {
      this.end({ kind: 'exception', type: 'ResourceNotFoundException', message: `Consumer ${this.consumerArn} not found.` });
      return undefined;
    }
    const shard = stream.shard(this.shardIndex);
    if (shard === undefined) {
      this.end({
        kind: 'exception',
        type: 'ResourceNotFoundException',
        message: `Shard ${shardIdOf(this.shardIndex)} in stream ${this.streamName} under account ${account} does not exist`,
      });
      return undefined;
    }
    return { stream, shard };
  }

  /** Bytes this subscription may read now (the allowance refills continuously up to one second's worth). */
  private budget(): number {
    const rate = this.rate;
    if (rate <= 0) return EVENT_MAX_BYTES;
    const now = this.k.now;
    if (now > this.allowanceAt) {
      this.allowance = Math.min(rate, this.allowance + ((now - this.allowanceAt) * rate) / 1000);
      this.allowanceAt = now;
    }
    return Math.floor(this.allowance);
  }

  private spend(bytes: number): void {
    if (this.rate > 0) this.allowance -= bytes;
  }

  private async millisBehind(log: ShardLog, end: number | undefined): Promise<number> {
    const tip = end ?? log.nextOffset;
    if (this.position >= tip) return 0;
    const now = this.k.now;
    const arrival = await log.timestampAt(this.position);
    return Math.max(1, now - (arrival ?? now));
  }

  private async sendEmpty(log: ShardLog, end: number | undefined): Promise<void> {
    const behind = await this.millisBehind(log, end);
    if (this.ending) return;
    this.send({ Records: [], ContinuationSequenceNumber: this.continuation, MillisBehindLatest: behind });
  }

  private send(event: object): void {
    this.sentFirst = true;
    this.heartbeatDue = false;
    this.lastSentAt = performance.now();
    this.sink.write(eventMessage('SubscribeToShardEvent', event, this.format));
  }

  /**
   * Ends the event stream: an exception message first if there is one, then a clean end. A peer
   * that is not reading would keep the buffered messages (and the stream) forever, so if the
   * stream has not closed within two heartbeat intervals it is dropped instead.
   */
  private end(reason: EndReason): void {
    if (this.ending) return;
    this.ending = true;
    this.clearTimer('heartbeatTimer');
    this.clearTimer('throttleTimer');
    if (this.sink.closed) {
      this.release();
      return;
    }
    if (reason.kind === 'exception') this.sink.write(exceptionMessage(reason.type, reason.message, this.format));
    this.sink.end();
    if (this.sink.closed) {
      this.release();
      return;
    }
    this.graceTimer = this.timer(() => {
      this.graceTimer = undefined;
      this.fanOut.timers--;
      this.sink.destroy();
      this.release();
    }, 2 * this.k.settings.subscriptionHeartbeatMs);
  }

  /** Keeps an idle stream alive: an empty event whenever nothing was sent for a heartbeat interval. */
  private armHeartbeat(delayMs: number): void {
    this.heartbeatTimer = this.timer(() => {
      this.heartbeatTimer = undefined;
      this.fanOut.timers--;
      if (this.ending) return;
      const interval = this.k.settings.subscriptionHeartbeatMs;
      const remaining = this.endsAt - this.k.now;
      if (remaining <= 0) {
        this.end({ kind: 'clean' });
        return;
      }
      const idle = performance.now() - this.lastSentAt;
      if (idle >= interval - 1) {
        this.heartbeatDue = true;
        this.notify();
        this.armHeartbeat(Math.min(interval, remaining));
      } else {
        this.armHeartbeat(Math.min(interval - idle, remaining));
      }
    }, delayMs);
  }

  /** Looks again once the read allowance has refilled to a useful amount. */
  private armThrottle(budget: number): void {
    if (this.throttleTimer !== undefined || this.ending) return;
    const rate = this.rate;
    const wanted = Math.min(rate, EVENT_MAX_BYTES) / 8;
    const delay = Math.min(1_000, Math.max(10, ((wanted - budget) * 1000) / rate));
    this.throttleTimer = this.timer(() => {
      this.throttleTimer = undefined;
      this.fanOut.timers--;
      this.notify();
    }, delay);
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    this.fanOut.timers++;
    return setTimeout(fn, Math.max(1, Math.ceil(ms)));
  }

  private clearTimer(name: 'heartbeatTimer' | 'throttleTimer' | 'graceTimer'): void {
    const t = this[name];
    if (t === undefined) return;
    clearTimeout(t);
    this[name] = undefined;
    this.fanOut.timers--;
  }
}
