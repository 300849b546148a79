import type { MetricRow } from '../storage/catalog.js';
import type { Clock } from '../util/clock.js';
import { FIELDS, MinuteBuckets, minuteOf } from './buckets.js';
import { H, S, SHARD_LEVEL_METRICS, STREAM_METRICS } from './names.js';
import { mergeRow, type MetricsStore } from './store.js';

/** What the recorder needs of a stream: its key, name and enabled shard-level metrics. */
export interface MeteredStream {
  readonly key: string;
  readonly name: string;
  readonly meta: { readonly shardLevelMetrics: readonly string[] };
}

/** A metric's value in one minute, as CloudWatch's Sum, SampleCount and Maximum statistics. */
export interface MetricPoint {
  minute: number;
  sum: number;
  count: number;
  max: number;
}

/** The buckets of one stream and of its shards. */
export class StreamMetrics {
  readonly stream: MinuteBuckets;
  readonly shards = new Map<number, MinuteBuckets>();
  /** The shard-level metrics enabled, as bits by index in SHARD_LEVEL_METRICS. */
  private mask = 0;
  private maskOf: readonly string[] | undefined;

  constructor(
    readonly key: string,
    public name: string,
    minute: number,
  ) {
    this.stream = new MinuteBuckets(STREAM_METRICS.length, minute);
  }

  /** The enabled-metrics mask, recomputed only when the stream's list is another array. */
  enabled(list: readonly string[]): number {
    if (list !== this.maskOf) {
      this.maskOf = list;
      let m = 0;
      for (const name of list) {
        const i = SHARD_LEVEL_METRICS.indexOf(name as (typeof SHARD_LEVEL_METRICS)[number]);
        if (i >= 0) m |= 1 << i;
      }
      this.mask = m;
    }
    return this.mask;
  }

  shard(index: number, minute: number): MinuteBuckets {
    let b = this.shards.get(index);
    if (!b) {
      b = new MinuteBuckets(SHARD_LEVEL_METRICS.length, minute);
      this.shards.set(index, b);
    }
    return b;
  }
}

export interface RecorderOptions {
  clock: Clock;
  store: MetricsStore;
  /** How long completed minutes are kept (minutes). */
  retentionMinutes: number;
  /** The key of the stream that has this name now, if any. */
  keyOf(name: string): string | undefined;
}

/**
 * Stream- and shard-level Kinesis metrics in one-minute buckets. The record* methods are the hot
 * path: a map lookup and a few additions each. flush() (from the service's tick) writes completed
 * minutes to the store and deletes those older than the retention.
 */
export class MetricsRecorder {
  private readonly streams = new Map<string, StreamMetrics>();
  private lastFlushMinute = -1;
  private flushing: Promise<void> | undefined;
  /** Counts the flushes started, so that a query can tell one ran while it read the store. */
  private flushesStarted = 0;

  constructor(private readonly opts: RecorderOptions) {}

  get retentionMinutes(): number {
    return this.opts.retentionMinutes;
  }

  /** Every stream with buckets in this process. */
  all(): IterableIterator<StreamMetrics> {
    return this.streams.values();
  }

  private of(stream: MeteredStream): StreamMetrics {
    let m = this.streams.get(stream.key);
    if (!m) {
      m = new StreamMetrics(stream.key, stream.name, minuteOf(this.opts.clock.now()));
      this.streams.set(stream.key, m);
    }
    return m;
  }

  /** Records appended to one shard: `records` records of `bytes` bytes (data and partition keys). */
  recordIncoming(stream: MeteredStream, shard: number, records: number, bytes: number, now: number): void {
    const m = this.of(stream);
    const minute = minuteOf(now);
    m.stream.add(S.IncomingBytes, bytes, minute);
    m.stream.add(S.IncomingRecords, records, minute);
    const mask = m.enabled(stream.meta.shardLevelMetrics);
    if (mask & ((1 << H.IncomingBytes) | (1 << H.IncomingRecords))) {
      const b = m.shard(shard, minute);
      if (mask & (1 << H.IncomingBytes)) b.add(H.IncomingBytes, bytes, minute);
      if (mask & (1 << H.IncomingRecords)) b.add(H.IncomingRecords, records, minute);
    }
  }

  /** Records one shard's write limits refused. */
  recordWriteThrottled(stream: MeteredStream, shard: number, records: number, now: number): void {
    const m = this.of(stream);
    const minute = minuteOf(now);
    m.stream.add(S.WriteProvisionedThroughputExceeded, records, minute);
    if (m.enabled(stream.meta.shardLevelMetrics) & (1 << H.WriteProvisionedThroughputExceeded)) {
      m.shard(shard, minute).add(H.WriteProvisionedThroughputExceeded, records, minute);
    }
  }

  /** A PutRecord call that reached the stream. */
  recordPutRecord(stream: MeteredStream, ok: boolean, bytes: number, latencyMs: number, now: number): void {
    const b = this.of(stream).stream;
    const minute = minuteOf(now);
    if (ok) b.add(S['PutRecord.Bytes'], bytes, minute);
    b.add(S['PutRecord.Success'], ok ? 1 : 0, minute);
    b.add(S['PutRecord.Latency'], latencyMs, minute);
  }

  /** A PutRecords call that reached the stream. */
  recordPutRecords(
    stream: MeteredStream,
    total: number,
    throttled: number,
    bytes: number,
    latencyMs: number,
    now: number,
    failed = 0,
  ): void {
    const b = this.of(stream).stream;
    const minute = minuteOf(now);
    const ok = total - throttled - failed;
    b.add(S['PutRecords.Bytes'], bytes, minute);
    b.add(S['PutRecords.Records'], ok, minute);
    b.add(S['PutRecords.SuccessfulRecords'], ok, minute);
    // Records refused by an internal failure (a storage fault), as AWS counts FailedRecords.
    b.add(S['PutRecords.FailedRecords'], failed, minute);
    b.add(S['PutRecords.ThrottledRecords'], throttled, minute);
    b.add(S['PutRecords.TotalRecords'], total, minute);
    b.add(S['PutRecords.Success'], 1, minute);
    b.add(S['PutRecords.Latency'], latencyMs, minute);
  }

  /** A GetRecords call that returned records (or none) from a shard. */
  recordGetRecords(
    stream: MeteredStream,
    shard: number,
    records: number,
    bytes: number,
    iteratorAgeMs: number,
    latencyMs: number,
    now: number,
  ): void {
    const m = this.of(stream);
    const minute = minuteOf(now);
    const b = m.stream;
    b.add(S['GetRecords.Bytes'], bytes, minute);
    b.add(S['GetRecords.Records'], records, minute);
    b.add(S['GetRecords.Success'], 1, minute);
    b.add(S['GetRecords.Latency'], latencyMs, minute);
    b.add(S['GetRecords.IteratorAgeMilliseconds'], iteratorAgeMs, minute);
    const mask = m.enabled(stream.meta.shardLevelMetrics);
    if (mask & ((1 << H.OutgoingBytes) | (1 << H.OutgoingRecords) | (1 << H.IteratorAgeMilliseconds))) {
      const sb = m.shard(shard, minute);
      if (mask & (1 << H.OutgoingBytes)) sb.add(H.OutgoingBytes, bytes, minute);
      if (mask & (1 << H.OutgoingRecords)) sb.add(H.OutgoingRecords, records, minute);
      if (mask & (1 << H.IteratorAgeMilliseconds)) sb.add(H.IteratorAgeMilliseconds, iteratorAgeMs, minute);
    }
  }

  /** A GetRecords call that a shard's read limits refused. */
  recordReadThrottled(stream: MeteredStream, shard: number, now: number): void {
    const m = this.of(stream);
    const minute = minuteOf(now);
    m.stream.add(S.ReadProvisionedThroughputExceeded, 1, minute);
    m.stream.add(S['GetRecords.Success'], 0, minute);
    if (m.enabled(stream.meta.shardLevelMetrics) & (1 << H.ReadProvisionedThroughputExceeded)) {
      m.shard(shard, minute).add(H.ReadProvisionedThroughputExceeded, 1, minute);
    }
  }

  /** A SubscribeToShard call refused for calling more than once a second. */
  recordSubscribeRateExceeded(stream: MeteredStream, now: number): void {
    this.of(stream).stream.add(S['SubscribeToShard.RateExceeded'], 1, minuteOf(now));
  }

  /** A SubscribeToShardEvent with records pushed to a consumer. */
  recordSubscribeEvent(stream: MeteredStream, records: number, bytes: number, millisBehind: number, now: number): void {
    const b = this.of(stream).stream;
    const minute = minuteOf(now);
    b.add(S['SubscribeToShardEvent.Bytes'], bytes, minute);
    b.add(S['SubscribeToShardEvent.Records'], records, minute);
    b.add(S['SubscribeToShardEvent.MillisBehindLatest'], millisBehind, minute);
  }

  /**
   * Writes completed minutes to the store and applies the retention. Cheap when the clock is still in
   * the minute of the last call. `all` also writes the current minutes (on shutdown).
   */
  flush(all = false): Promise<void> {
    if (this.flushing) return all ? this.flushing.then(() => this.flush(true)) : this.flushing;
    const minute = minuteOf(this.opts.clock.now());
    if (!all && minute === this.lastFlushMinute) return Promise.resolve();
    this.flushesStarted++;
    this.flushing = this.write(minute, all).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(minute: number, all: boolean): Promise<void> {
    const rows: MetricRow[] = [];
    for (const m of this.streams.values()) {
      collect(m.key, -1, m.stream, STREAM_METRICS, minute, all, rows);
      for (const [index, b] of m.shards) collect(m.key, index, b, SHARD_LEVEL_METRICS, minute, all, rows);
      if (this.opts.keyOf(m.name) !== m.key && !m.stream.hasSamples()) this.streams.delete(m.key);
    }
    if (rows.length > 0) await this.opts.store.append(rows);
    if (minute !== this.lastFlushMinute) {
      this.lastFlushMinute = minute;
      await this.opts.store.deleteBefore(minute - this.opts.retentionMinutes);
    }
  }

  /**
   * One metric of a stream, minute by minute in [fromMinute, toMinute] (minutes since the epoch):
   * stored minutes and those still in memory together. `shard` (an index) asks for a shard-level
   * metric. Minutes without samples are left out.
   */
  async query(streamName: string, name: string, fromMinute: number, toMinute: number, shard = -1): Promise<MetricPoint[]> {
    const key = this.opts.keyOf(streamName);
    if (key === undefined) return [];
    // A flush moves minutes from memory to the store: one that starts while the store is read
    // would take its minutes out of both answers, so the read is repeated after it.
    let stored: MetricRow[];
    for (;;) {
      await this.flushing;
      const started = this.flushesStarted;
      stored = await this.opts.store.read(key, fromMinute, toMinute);
      if (this.flushing === undefined && this.flushesStarted === started) break;
    }
    const byMinute = new Map<number, MetricRow>();
    const add = (r: MetricRow) => {
      if (r.name !== name || r.shard !== shard || r.minute < fromMinute || r.minute > toMinute) return;
      const have = byMinute.get(r.minute);
      if (have) mergeRow(have, r);
      else byMinute.set(r.minute, { ...r });
    };
    for (const r of stored) add(r);
    const m = this.streams.get(key);
    if (m) {
      const b = shard < 0 ? m.stream : m.shards.get(shard);
      const names: readonly string[] = shard < 0 ? STREAM_METRICS : SHARD_LEVEL_METRICS;
      if (b) {
        const pending: MetricRow[] = [];
        collectFrom(key, shard, b.completed, names, pending);
        collectFrom(key, shard, [{ minute: b.minute, values: b.values }], names, pending);
        for (const r of pending) add(r);
      }
    }
    return [...byMinute.values()]
      .sort((a, b) => a.minute - b.minute)
      .map((r) => ({ minute: r.minute, sum: r.sum, count: r.count, max: r.max }));
  }
}

function collect(
  key: string,
  shard: number,
  b: MinuteBuckets,
  names: readonly string[],
  minute: number,
  all: boolean,
  rows: MetricRow[],
): void {
  b.roll(minute);
  if (all) b.completeNow();
  if (b.completed.length > 0) collectFrom(key, shard, b.drain(), names, rows);
}

/** The rows of completed (or current) minutes: one per metric that had samples in a minute. */
export function collectFrom(
  key: string,
  shard: number,
  minutes: readonly { minute: number; values: Float64Array }[],
  names: readonly string[],
  rows: MetricRow[],
): void {
  for (const { minute, values } of minutes) {
    for (let i = 0; i < names.length; i++) {
      const o = i * FIELDS;
      const count = values[o + 1]!;
      if (count === 0) continue;
      rows.push({ stream: key, shard, minute, name: names[i]!, sum: values[o]!, count, max: values[o + 2]! });
    }
  }
}
