/**
 * Firehose delivery-stream metrics under Firehose's CloudWatch names, in one-minute buckets per
 * delivery stream, written to the same metrics store as the Kinesis metrics (as the stream
 * `firehose/<name>`) and read at `/metrics`. `DataFreshness` is the age in seconds of the oldest
 * record of each delivered batch (a level: read by its maximum); latencies are in milliseconds.
 */
import type { MetricRow } from '../storage/catalog.js';
import type { Clock } from '../util/clock.js';
import { MinuteBuckets, minuteOf } from './buckets.js';
import { mergeRow, type MetricsStore } from './store.js';
import { collectFrom, type MetricPoint } from './recorder.js';

/** Where a delivery stream delivers, as Firehose's metric names spell it. */
export type DeliveryTarget = 'S3' | 'HttpEndpoint' | 'Redshift';

export const FIREHOSE_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'IncomingPutRequests',
  'PutRecord.Bytes',
  'PutRecord.Latency',
  'PutRecord.Requests',
  'PutRecordBatch.Bytes',
  'PutRecordBatch.Latency',
  'PutRecordBatch.Records',
  'PutRecordBatch.Requests',
  'DataReadFromKinesisStream.Bytes',
  'DataReadFromKinesisStream.Records',
  'DeliveryToS3.Bytes',
  'DeliveryToS3.Records',
  'DeliveryToS3.Success',
  'DeliveryToS3.DataFreshness',
  'DeliveryToS3.ObjectCount',
  'DeliveryToHttpEndpoint.Bytes',
  'DeliveryToHttpEndpoint.Records',
  'DeliveryToHttpEndpoint.Success',
  'DeliveryToHttpEndpoint.DataFreshness',
  'DeliveryToRedshift.Bytes',
  'DeliveryToRedshift.Records',
  'DeliveryToRedshift.Success',
] as const;

export type FirehoseMetricName = (typeof FIREHOSE_METRICS)[number];

const F = Object.fromEntries(FIREHOSE_METRICS.map((n, i) => [n, i])) as Record<FirehoseMetricName, number>;

/** The metrics-store stream a delivery stream's rows are kept under. */
export function firehoseMetricsKey(name: string): string {
  return `firehose/${name}`;
}

export class FirehoseMetrics {
  private readonly streams = new Map<string, MinuteBuckets>();
  private lastFlushMinute = -1;
  private flushing: Promise<void> | undefined;

  constructor(private readonly opts: { clock: Clock; store: MetricsStore }) {}

  /** Every delivery stream with buckets in this process, by name. */
  all(): IterableIterator<[string, MinuteBuckets]> {
    return this.streams.entries();
  }

  private of(name: string): MinuteBuckets {
    let b = this.streams.get(name);
    if (!b) {
      b = new MinuteBuckets(FIREHOSE_METRICS.length, minuteOf(this.opts.clock.now()));
      this.streams.set(name, b);
    }
    return b;
  }

  /** A PutRecord or PutRecordBatch call that was accepted. */
  recordPut(name: string, call: 'PutRecord' | 'PutRecordBatch', records: number, bytes: number, latencyMs: number, now: number): void {
    const b = this.of(name);
    const minute = minuteOf(now);
    b.add(F.IncomingBytes, bytes, minute);
    b.add(F.IncomingRecords, records, minute);
    b.add(F.IncomingPutRequests, 1, minute);
    if (call === 'PutRecord') {
      b.add(F['PutRecord.Bytes'], bytes, minute);
      b.add(F['PutRecord.Latency'], latencyMs, minute);
      b.add(F['PutRecord.Requests'], 1, minute);
    } else {
      b.add(F['PutRecordBatch.Bytes'], bytes, minute);
      b.add(F['PutRecordBatch.Latency'], latencyMs, minute);
      b.add(F['PutRecordBatch.Records'], records, minute);
      b.add(F['PutRecordBatch.Requests'], 1, minute);
    }
  }

  /** Records a Kinesis-source delivery stream read from its stream. */
  recordSourceRead(name: string, records: number, bytes: number, now: number): void {
    const b = this.of(name);
    const minute = minuteOf(now);
    b.add(F['DataReadFromKinesisStream.Bytes'], bytes, minute);
    b.add(F['DataReadFromKinesisStream.Records'], records, minute);
    // What a Kinesis source reads is what comes into the delivery stream.
    b.add(F.IncomingBytes, bytes, minute);
    b.add(F.IncomingRecords, records, minute);
  }

  /** A batch delivered to the destination: `oldestArrival` dates its oldest record. */
  recordDelivered(name: string, target: DeliveryTarget, records: number, bytes: number, oldestArrival: number, now: number): void {
    const b = this.of(name);
    const minute = minuteOf(now);
    const freshness = Math.max(0, Math.floor((now - oldestArrival) / 1000));
    if (target === 'S3') {
      b.add(F['DeliveryToS3.Bytes'], bytes, minute);
      b.add(F['DeliveryToS3.Records'], records, minute);
      b.add(F['DeliveryToS3.Success'], 1, minute);
      b.add(F['DeliveryToS3.DataFreshness'], freshness, minute);
      b.add(F['DeliveryToS3.ObjectCount'], 1, minute);
    } else if (target === 'HttpEndpoint') {
      b.add(F['DeliveryToHttpEndpoint.Bytes'], bytes, minute);
      b.add(F['DeliveryToHttpEndpoint.Records'], records, minute);
      b.add(F['DeliveryToHttpEndpoint.Success'], 1, minute);
      b.add(F['DeliveryToHttpEndpoint.DataFreshness'], freshness, minute);
    } else {
      b.add(F['DeliveryToRedshift.Bytes'], bytes, minute);
      b.add(F['DeliveryToRedshift.Records'], records, minute);
      b.add(F['DeliveryToRedshift.Success'], 1, minute);
    }
  }

  /** An attempt at the destination that failed (it is retried): Success averages below 1. */
  recordDeliveryFailed(name: string, target: DeliveryTarget, now: number): void {
    const metric = target === 'S3' ? F['DeliveryToS3.Success'] : target === 'HttpEndpoint' ? F['DeliveryToHttpEndpoint.Success'] : F['DeliveryToRedshift.Success'];
    this.of(name).add(metric, 0, minuteOf(now));
  }

  /** Forgets a deleted delivery stream's buckets once they are written. */
  forget(name: string): void {
    const b = this.streams.get(name);
    if (b && !b.hasSamples()) this.streams.delete(name);
  }

  /** Writes completed minutes to the store (all minutes with `all`, on shutdown). */
  flush(all = false): Promise<void> {
    if (this.flushing) return all ? this.flushing.then(() => this.flush(true)) : this.flushing;
    const minute = minuteOf(this.opts.clock.now());
    if (!all && minute === this.lastFlushMinute) return Promise.resolve();
    this.flushing = this.write(minute, all).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(minute: number, all: boolean): Promise<void> {
    const rows: MetricRow[] = [];
    for (const [name, b] of this.streams) {
      b.roll(minute);
      if (all) b.completeNow();
      if (b.completed.length > 0) collectFrom(firehoseMetricsKey(name), -1, b.drain(), FIREHOSE_METRICS, rows);
    }
    this.lastFlushMinute = minute;
    if (rows.length > 0) await this.opts.store.append(rows);
  }

  /** One metric of a delivery stream, minute by minute in [fromMinute, toMinute]: stored and in memory. */
  async query(name: string, metric: FirehoseMetricName, fromMinute: number, toMinute: number): Promise<MetricPoint[]> {
    await this.flushing;
    const rows = await this.opts.store.read(firehoseMetricsKey(name), fromMinute, toMinute);
    const b = this.streams.get(name);
    if (b) collectFrom(firehoseMetricsKey(name), -1, [...b.completed, { minute: b.minute, values: b.values }], FIREHOSE_METRICS, rows);
    const byMinute = new Map<number, MetricRow>();
    for (const r of rows) {
      if (r.name !== metric || r.minute < fromMinute || r.minute > toMinute) continue;
      const have = byMinute.get(r.minute);
      if (have) mergeRow(have, r);
      else byMinute.set(r.minute, { ...r });
    }
    return [...byMinute.values()].sort((a, b) => a.minute - b.minute).map((r) => ({ minute: r.minute, sum: r.sum, count: r.count, max: r.max }));
  }
}

