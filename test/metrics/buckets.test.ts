import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIELDS, MINUTE_MS, MinuteBuckets, minuteOf } from '../../src/metrics/buckets.js';
import { familyName } from '../../src/metrics/prometheus.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import { MemoryMetricsStore } from '../../src/metrics/store.js';
import { snakeCase } from '../../src/metrics/names.js';
import { ManualClock } from '../../src/util/clock.js';

function fields(values: Float64Array, metric: number): [number, number, number] {
  const o = metric * FIELDS;
  return [values[o]!, values[o + 1]!, values[o + 2]!];
}

describe('MinuteBuckets', () => {
  it('adds samples to the current minute: sum, count and maximum', () => {
    const b = new MinuteBuckets(2, 100);
    b.add(0, 5, 100);
    b.add(0, 7, 100);
    b.add(1, 3, 100);
    assert.deepEqual(fields(b.values, 0), [12, 2, 7]);
    assert.deepEqual(fields(b.values, 1), [3, 1, 3]);
    assert.equal(b.completed.length, 0);
  });

  it('completes a minute when the clock enters the next one, and keeps totals', () => {
    const b = new MinuteBuckets(1, 100);
    b.add(0, 5, 100);
    b.add(0, 1, 101);
    b.add(0, 2, 103);
    assert.deepEqual(
      b.completed.map((c) => [c.minute, ...fields(c.values, 0)]),
      [
        [100, 5, 1, 5],
        [101, 1, 1, 1],
      ],
    );
    assert.equal(b.minute, 103);
    assert.equal(b.total(0), 8);
    const drained = b.drain();
    assert.equal(drained.length, 2);
    assert.equal(b.completed.length, 0);
    assert.equal(b.total(0), 8, 'draining does not change the totals');
  });

  it('skips empty minutes and counts a sample from an earlier minute in the current one', () => {
    const b = new MinuteBuckets(1, 10);
    b.roll(11);
    b.roll(12);
    assert.equal(b.completed.length, 0);
    b.add(0, 4, 9);
    assert.equal(b.minute, 12);
    assert.deepEqual(fields(b.values, 0), [4, 1, 4]);
  });

  it('gives a level from the current minute, else from the last minute that had one', () => {
    const b = new MinuteBuckets(1, 0);
    assert.equal(b.level(0), undefined);
    b.add(0, 30, 0);
    b.add(0, 10, 0);
    assert.equal(b.level(0), 30);
    b.roll(1);
    assert.equal(b.level(0), 30);
    b.add(0, 5, 1);
    assert.equal(b.level(0), 5);
  });

  it('completes the current minute on demand (shutdown)', () => {
    const b = new MinuteBuckets(1, 7);
    b.completeNow();
    assert.equal(b.completed.length, 0);
    b.add(0, 1, 7);
    b.completeNow();
    assert.deepEqual(b.drain().map((c) => c.minute), [7]);
  });

  it('maps times to minutes', () => {
    assert.equal(minuteOf(0), 0);
    assert.equal(minuteOf(MINUTE_MS - 1), 0);
    assert.equal(minuteOf(MINUTE_MS), 1);
  });
});

describe('metric names', () => {
  it('turns CloudWatch names into Prometheus names', () => {
    assert.equal(snakeCase('PutRecords.ThrottledRecords'), 'put_records_throttled_records');
    assert.equal(familyName('stream', 'IncomingBytes'), 'tributary_kinesis_stream_incoming_bytes_total');
    assert.equal(familyName('stream', 'PutRecord.Latency'), 'tributary_kinesis_stream_put_record_latency_milliseconds');
    assert.equal(familyName('shard', 'IteratorAgeMilliseconds'), 'tributary_kinesis_shard_iterator_age_milliseconds');
  });
});

describe('MetricsRecorder', () => {
  const stream = (metrics: string[] = []) => ({ key: 's~1', name: 's', meta: { shardLevelMetrics: metrics } });

  function recorder(clock: ManualClock, retentionMinutes = 180) {
    const store = new MemoryMetricsStore();
    return { store, rec: new MetricsRecorder({ clock, store, retentionMinutes, keyOf: (n) => (n === 's' ? 's~1' : undefined) }) };
  }

  it('answers queries from memory and from the store alike', async () => {
    const clock = new ManualClock(1000 * MINUTE_MS);
    const { store, rec } = recorder(clock);
    const s = stream();
    rec.recordIncoming(s, 0, 3, 30, clock.now());
    clock.advance(MINUTE_MS);
    rec.recordIncoming(s, 0, 1, 10, clock.now());
    await rec.flush();
    assert.deepEqual((await store.read('s~1', 0, 2000)).map((r) => [r.name, r.minute, r.sum]).sort(), [
      ['IncomingBytes', 1000, 30],
      ['IncomingRecords', 1000, 3],
    ]);
    assert.deepEqual(await rec.query('s', 'IncomingRecords', 1000, 1001), [
      { minute: 1000, sum: 3, count: 1, max: 3 },
      { minute: 1001, sum: 1, count: 1, max: 1 },
    ]);
    assert.deepEqual(await rec.query('s', 'IncomingRecords', 1001, 1001), [{ minute: 1001, sum: 1, count: 1, max: 1 }]);
    assert.deepEqual(await rec.query('unknown', 'IncomingRecords', 0, 2000), []);
  });

  it('counts shard-level metrics only while they are enabled', async () => {
    const clock = new ManualClock(0);
    const { rec } = recorder(clock);
    rec.recordIncoming(stream(), 2, 1, 5, clock.now());
    const enabled = stream(['IncomingBytes']);
    rec.recordIncoming(enabled, 2, 1, 5, clock.now());
    rec.recordGetRecords(enabled, 2, 1, 5, 0, 1, clock.now());
    assert.deepEqual(await rec.query('s', 'IncomingBytes', 0, 0, 2), [{ minute: 0, sum: 5, count: 1, max: 5 }]);
    assert.deepEqual(await rec.query('s', 'IncomingRecords', 0, 0, 2), []);
    assert.deepEqual(await rec.query('s', 'OutgoingBytes', 0, 0, 2), []);
    assert.deepEqual(await rec.query('s', 'IncomingBytes', 0, 0), [{ minute: 0, sum: 10, count: 2, max: 5 }]);
  });

  it('deletes stored minutes older than the retention', async () => {
    const clock = new ManualClock(0);
    const { store, rec } = recorder(clock, 60);
    rec.recordIncoming(stream(), 0, 1, 1, clock.now());
    clock.advance(MINUTE_MS);
    await rec.flush();
    assert.equal((await store.read('s~1', 0, 0)).length, 2);
    clock.advance(60 * MINUTE_MS);
    await rec.flush();
    assert.equal((await store.read('s~1', 0, 0)).length, 0);
  });

  it('sums many samples into one bucket per minute and shard', async () => {
    const clock = new ManualClock(0);
    const { rec } = recorder(clock);
    const s = stream(['IncomingBytes', 'IncomingRecords']);
    const n = 20_000;
    for (let i = 0; i < n; i++) rec.recordIncoming(s, i & 3, 1, 100, i);
    const rows = await rec.query('s', 'IncomingRecords', 0, 0);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.sum, n);
  });
});
