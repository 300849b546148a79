import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DisableEnhancedMonitoringCommand,
  EnableEnhancedMonitoringCommand,
  GetRecordsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { MINUTE_MS, minuteOf } from '../../src/metrics/buckets.js';
import { ManualClock } from '../../src/util/clock.js';
import { registerActive, SdkSubscription } from '../helpers/fan-out.js';
import { createStream, expectError, getIterator, HASH_KEY_MAX, shardId } from '../helpers/kinesis.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const SHARD0 = '0';
const SHARD1 = HASH_KEY_MAX.toString();

/** A clock at the start of a minute. */
function minuteClock(): ManualClock {
  return new ManualClock((minuteOf(Date.now()) + 1) * MINUTE_MS);
}

function put(client: KinesisClient, stream: string, data: string, hashKey?: string) {
  return client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from(data), ExplicitHashKey: hashKey }));
}

function sums(points: { minute: number; sum: number }[], m0: number): [number, number][] {
  return points.map((p) => [p.minute - m0, p.sum]);
}

describe('metrics', () => {
  describe('one-minute buckets', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = minuteClock();
    const m0 = minuteOf(clock.now());
    before(async () => {
      server = await startTestServer({}, { clock });
      client = server.client();
      await createStream(client, 'buckets', 1);
    });
    after(() => server.destroy());

    it('counts puts and gets in the minute they happen', async () => {
      await put(client, 'buckets', 'abc');
      await client.send(
        new PutRecordsCommand({
          StreamName: 'buckets',
          Records: ['xy', 'xy', 'xy'].map((d) => ({ PartitionKey: 'k', Data: Buffer.from(d) })),
        }),
      );
      const first = await client.send(
        new GetRecordsCommand({ ShardIterator: await getIterator(client, 'buckets', shardId(0), 'TRIM_HORIZON') }),
      );
      assert.equal(first.Records!.length, 4);
      clock.advance(MINUTE_MS);
      await put(client, 'buckets', 'hello');
      const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator! }));
      assert.equal(second.Records!.length, 1);

      const q = (name: string) => server.kinesis.metrics.query('buckets', name, m0, m0 + 1);
      assert.deepEqual(sums(await q('IncomingRecords'), m0), [[0, 4], [1, 1]]);
      // Data and partition key: "abc"+"k", 3 × ("xy"+"k"); then "hello"+"k".
      assert.deepEqual(sums(await q('IncomingBytes'), m0), [[0, 13], [1, 6]]);
      assert.deepEqual(sums(await q('PutRecord.Bytes'), m0), [[0, 4], [1, 6]]);
      assert.deepEqual(
        (await q('PutRecord.Success')).map((p) => [p.minute - m0, p.sum, p.count]),
        [[0, 1, 1], [1, 1, 1]],
      );
      assert.deepEqual(sums(await q('PutRecords.Bytes'), m0), [[0, 9]]);
      assert.deepEqual(sums(await q('PutRecords.TotalRecords'), m0), [[0, 3]]);
      assert.deepEqual(sums(await q('PutRecords.SuccessfulRecords'), m0), [[0, 3]]);
      assert.deepEqual(sums(await q('PutRecords.ThrottledRecords'), m0), [[0, 0]]);
      assert.deepEqual(sums(await q('GetRecords.Records'), m0), [[0, 4], [1, 1]]);
      assert.deepEqual(sums(await q('GetRecords.Bytes'), m0), [[0, 13], [1, 6]]);
      assert.deepEqual(sums(await q('GetRecords.Success'), m0), [[0, 1], [1, 1]]);
      const latency = await q('PutRecord.Latency');
      assert.deepEqual(latency.map((p) => p.count), [1, 1]);
      assert.ok(latency.every((p) => p.max >= 0));
      assert.deepEqual(await q('WriteProvisionedThroughputExceeded'), []);
      assert.deepEqual(await server.kinesis.metrics.query('buckets', 'IncomingRecords', m0 + 2, m0 + 5), []);
      // No shard-level metrics without enhanced monitoring.
      assert.deepEqual(await server.kinesis.metrics.query('buckets', 'IncomingRecords', m0, m0 + 1, 0), []);
    });
  });

  describe('shard-level metrics', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = minuteClock();
    const m0 = minuteOf(clock.now());
    before(async () => {
      server = await startTestServer({}, { clock });
      client = server.client();
      await createStream(client, 'shards', 2);
    });
    after(() => server.destroy());

    it('appear for the enabled metrics only, and stop after DisableEnhancedMonitoring', async () => {
      const q = (name: string, shard: number, from = m0, to = m0 + 1) =>
        server.kinesis.metrics.query('shards', name, from, to, shard);
      await put(client, 'shards', 'before', SHARD0);
      assert.deepEqual(await q('IncomingRecords', 0), []);

      await client.send(
        new EnableEnhancedMonitoringCommand({ StreamName: 'shards', ShardLevelMetrics: ['IncomingRecords', 'OutgoingBytes'] }),
      );
      await put(client, 'shards', 'a', SHARD0);
      await put(client, 'shards', 'b', SHARD0);
      await put(client, 'shards', 'c', SHARD1);
      assert.deepEqual(sums(await q('IncomingRecords', 0), m0), [[0, 2]]);
      assert.deepEqual(sums(await q('IncomingRecords', 1), m0), [[0, 1]]);
      assert.deepEqual(await q('IncomingBytes', 0), [], 'not enabled');

      const got = await client.send(
        new GetRecordsCommand({ ShardIterator: await getIterator(client, 'shards', shardId(0), 'TRIM_HORIZON') }),
      );
      assert.equal(got.Records!.length, 3);
      // "before", "a", "b", each with the partition key "k".
      assert.deepEqual(sums(await q('OutgoingBytes', 0), m0), [[0, 11]]);
      assert.deepEqual(await q('OutgoingRecords', 0), [], 'not enabled');

      await client.send(new DisableEnhancedMonitoringCommand({ StreamName: 'shards', ShardLevelMetrics: ['ALL'] }));
      clock.advance(MINUTE_MS);
      await put(client, 'shards', 'd', SHARD0);
      assert.deepEqual(await q('IncomingRecords', 0, m0 + 1, m0 + 1), []);
      assert.deepEqual(sums(await q('IncomingRecords', 0), m0), [[0, 2]], 'the earlier minute is kept');
      assert.deepEqual(
        sums(await server.kinesis.metrics.query('shards', 'IncomingRecords', m0, m0 + 1), m0),
        [[0, 4], [1, 1]],
        'stream-level metrics go on',
      );
    });
  });

  describe('throttling', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = minuteClock();
    const m0 = minuteOf(clock.now());
    before(async () => {
      server = await startTestServer({ limits: 'on', fsync: 'never' }, { clock });
      client = server.client();
      await createStream(client, 'busy', 1);
      await client.send(
        new EnableEnhancedMonitoringCommand({
          StreamName: 'busy',
          ShardLevelMetrics: ['WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded'],
        }),
      );
    });
    after(() => server.destroy());

    it('counts refused writes and reads', async () => {
      const batch = (n: number) =>
        client.send(
          new PutRecordsCommand({
            StreamName: 'busy',
            Records: Array.from({ length: n }, () => ({ PartitionKey: 'k', Data: Buffer.from('x') })),
          }),
        );
      assert.equal((await batch(500)).FailedRecordCount, 0);
      assert.equal((await batch(500)).FailedRecordCount, 0);
      assert.equal((await batch(5)).FailedRecordCount, 5);
      await expectError(put(client, 'busy', 'x'), 'ProvisionedThroughputExceededException');

      const q = (name: string, shard = -1) => server.kinesis.metrics.query('busy', name, m0, m0, shard);
      assert.deepEqual(sums(await q('WriteProvisionedThroughputExceeded'), m0), [[0, 6]]);
      assert.deepEqual(sums(await q('WriteProvisionedThroughputExceeded', 0), m0), [[0, 6]]);
      assert.deepEqual(sums(await q('PutRecords.ThrottledRecords'), m0), [[0, 5]]);
      assert.deepEqual(sums(await q('PutRecords.SuccessfulRecords'), m0), [[0, 1000]]);
      assert.deepEqual(sums(await q('IncomingRecords'), m0), [[0, 1000]]);
      assert.deepEqual(
        (await q('PutRecord.Success')).map((p) => [p.sum, p.count]),
        [[0, 1]],
      );

      const iterator = await getIterator(client, 'busy', shardId(0), 'LATEST');
      for (let i = 0; i < 5; i++) await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      await expectError(client.send(new GetRecordsCommand({ ShardIterator: iterator })), 'ProvisionedThroughputExceededException');
      assert.deepEqual(sums(await q('ReadProvisionedThroughputExceeded'), m0), [[0, 1]]);
      assert.deepEqual(sums(await q('ReadProvisionedThroughputExceeded', 0), m0), [[0, 1]]);
      assert.deepEqual((await q('GetRecords.Success')).map((p) => [p.sum, p.count]), [[5, 6]]);
    });
  });

  describe('enhanced fan-out', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = minuteClock();
    const m0 = minuteOf(clock.now());
    before(async () => {
      server = await startTestServer({ consumerDelayMs: 0, subscriptionHeartbeatMs: 200 }, { clock });
      client = server.client();
      await createStream(client, 'pushed', 1);
    });
    after(() => server.destroy());

    it('counts pushed events and refused subscriptions', async () => {
      await put(client, 'pushed', 'abc');
      await put(client, 'pushed', 'de');
      const arn = await registerActive(client, 'pushed', 'app');
      const sub = await SdkSubscription.open(client, arn, shardId(0), { Type: 'TRIM_HORIZON' });
      try {
        await sub.until(() => sub.texts().length === 2, 10_000, 'both records');
        await expectError(SdkSubscription.open(client, arn, shardId(0), { Type: 'TRIM_HORIZON' }), 'LimitExceededException');
        const q = (name: string) => server.kinesis.metrics.query('pushed', name, m0, m0);
        assert.deepEqual(sums(await q('SubscribeToShardEvent.Records'), m0), [[0, 2]]);
        assert.deepEqual(sums(await q('SubscribeToShardEvent.Bytes'), m0), [[0, 7]]);
        assert.equal((await q('SubscribeToShardEvent.MillisBehindLatest')).length, 1);
        assert.deepEqual(sums(await q('SubscribeToShard.RateExceeded'), m0), [[0, 1]]);
      } finally {
        sub.close();
      }
    });
  });

  describe('storage', () => {
    it('keeps metrics across a restart and deletes minutes older than the retention', async () => {
      const dataDir = tempDir();
      const clock = minuteClock();
      const m0 = minuteOf(clock.now());
      try {
        let server = await startTestServer({ metricsRetentionHours: 1 }, { clock, dataDir });
        await createStream(server.client(), 'kept', 1);
        await put(server.client(), 'kept', 'one');
        await put(server.client(), 'kept', 'two');
        await server.destroy();

        server = await startTestServer({ metricsRetentionHours: 1 }, { clock, dataDir });
        try {
          assert.deepEqual(sums(await server.kinesis.metrics.query('kept', 'IncomingRecords', m0, m0), m0), [[0, 2]]);
          await put(server.client(), 'kept', 'three');
          assert.deepEqual(sums(await server.kinesis.metrics.query('kept', 'IncomingRecords', m0, m0), m0), [[0, 3]]);

          clock.advance(30 * MINUTE_MS);
          await server.kinesis.tick();
          assert.deepEqual(sums(await server.kinesis.metrics.query('kept', 'IncomingRecords', m0, m0), m0), [[0, 3]]);

          clock.advance(31 * MINUTE_MS);
          await server.kinesis.tick();
          assert.deepEqual(await server.kinesis.metrics.query('kept', 'IncomingRecords', m0, m0), []);
        } finally {
          await server.destroy();
        }
      } finally {
        removeDir(dataDir);
      }
    });
  });

  describe('GET /metrics', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = minuteClock();
    before(async () => {
      server = await startTestServer({}, { clock });
      client = server.client();
      await createStream(client, 'scraped', 2);
      await client.send(new EnableEnhancedMonitoringCommand({ StreamName: 'scraped', ShardLevelMetrics: ['ALL'] }));
    });
    after(() => server.destroy());

    it('serves Prometheus text with stream and shard series', async () => {
      await put(client, 'scraped', 'abc', SHARD0);
      await put(client, 'scraped', 'de', SHARD1);
      clock.advance(MINUTE_MS);
      await put(client, 'scraped', 'f', SHARD1);
      await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'scraped', shardId(1), 'TRIM_HORIZON') }));

      const res = await fetch(`${server.endpoint}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const samples = new Map<string, number>();
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN)$/.exec(line);
        assert.ok(m, `not a Prometheus sample line: ${line}`);
        samples.set(m[1]! + (m[2] ?? ''), Number(m[3]));
      }
      assert.match(text, /^# TYPE tributary_kinesis_stream_incoming_records_total counter$/m);
      assert.match(text, /^# TYPE tributary_kinesis_stream_get_records_iterator_age_milliseconds gauge$/m);
      assert.equal(samples.get('tributary_kinesis_stream_incoming_records_total{stream="scraped"}'), 3);
      assert.equal(samples.get('tributary_kinesis_stream_incoming_bytes_total{stream="scraped"}'), 9);
      assert.equal(samples.get('tributary_kinesis_stream_get_records_records_total{stream="scraped"}'), 2);
      assert.equal(
        samples.get(`tributary_kinesis_shard_incoming_records_total{stream="scraped",shard="${shardId(0)}"}`),
        1,
      );
      assert.equal(
        samples.get(`tributary_kinesis_shard_incoming_records_total{stream="scraped",shard="${shardId(1)}"}`),
        2,
      );
      assert.equal(
        samples.get(`tributary_kinesis_shard_outgoing_bytes_total{stream="scraped",shard="${shardId(1)}"}`),
        5,
      );
      assert.ok(samples.has(`tributary_kinesis_shard_iterator_age_milliseconds{stream="scraped",shard="${shardId(1)}"}`));
    });

    it('is not served when turned off', async () => {
      const off = await startTestServer({ metricsEndpoint: 'off' });
      try {
        const res = await fetch(`${off.endpoint}/metrics`);
        assert.notEqual(res.status, 200);
        await res.arrayBuffer();
      } finally {
        await off.destroy();
      }
    });
  });
});
