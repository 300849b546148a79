import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FirehoseMetrics, firehoseMetricsKey } from '../../src/metrics/firehose.js';
import { MINUTE_MS, minuteOf } from '../../src/metrics/buckets.js';
import { MemoryMetricsStore } from '../../src/metrics/store.js';
import { ManualClock } from '../../src/util/clock.js';

test('Firehose metrics go to the store by the minute and are queried from store and memory together', async () => {
  const start = Date.UTC(2026, 5, 1, 12, 0, 0);
  const clock = new ManualClock(start);
  const store = new MemoryMetricsStore();
  const m = new FirehoseMetrics({ clock, store });
  m.recordPut('orders', 'PutRecordBatch', 10, 1_000, 3, clock.now());
  m.recordDelivered('orders', 'S3', 10, 1_000, start, start + 30_000);
  clock.advance(MINUTE_MS);
  m.recordPut('orders', 'PutRecord', 1, 50, 1, clock.now());
  m.recordDeliveryFailed('orders', 'HttpEndpoint', clock.now());
  await m.flush();
  // The first minute is in the store, the second still in memory.
  const stored = await store.read(firehoseMetricsKey('orders'), 0, Number.MAX_SAFE_INTEGER);
  assert.deepEqual(
    stored.filter((r) => r.name === 'IncomingRecords').map((r) => [r.minute, r.sum]),
    [[minuteOf(start), 10]],
  );
  const first = minuteOf(start);
  assert.deepEqual(await m.query('orders', 'IncomingRecords', first, first + 1), [
    { minute: first, sum: 10, count: 1, max: 10 },
    { minute: first + 1, sum: 1, count: 1, max: 1 },
  ]);
  assert.deepEqual(await m.query('orders', 'DeliveryToS3.DataFreshness', first, first + 1), [{ minute: first, sum: 30, count: 1, max: 30 }]);
  // A failed attempt is a Success sample of 0: the average falls below 1.
  assert.deepEqual(await m.query('orders', 'DeliveryToHttpEndpoint.Success', first, first + 1), [{ minute: first + 1, sum: 0, count: 1, max: 0 }]);
  assert.deepEqual(await m.query('orders', 'IncomingRecords', first + 2, first + 3), []);
  await m.flush(true);
  assert.equal((await store.read(firehoseMetricsKey('orders'), first + 1, first + 1)).find((r) => r.name === 'PutRecord.Requests')?.sum, 1);
});
