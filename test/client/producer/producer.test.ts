import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../../src/client/aggregation.js';
import {
  InvalidUserRecordError,
  Producer,
  type ProducerOptions,
  type PutResult,
  recordHashKey,
  UserRecordFailedError,
} from '../../../src/client/index.js';
import { OffsetClock } from '../../../src/util/clock.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { assertExactlyOnceInOrder, payload, readStream } from './read-back.js';

/** Resolves once `cond` holds, checking whenever the event loop has run a little; fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function createActive(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
}

interface Put {
  key: string;
  n: number;
  promise: Promise<PutResult>;
}

function putAll(producer: Producer, keys: number, perKey: number, size: number, prefix: string): { puts: Put[]; expected: Map<string, number> } {
  const puts: Put[] = [];
  const expected = new Map<string, number>();
  for (let n = 0; n < perKey; n++) {
    for (let k = 0; k < keys; k++) {
      const key = `${prefix}${k}`;
      puts.push({ key, n, promise: producer.put(key, payload(key, n, size)) });
    }
  }
  for (let k = 0; k < keys; k++) expected.set(`${prefix}${k}`, perKey);
  return { puts, expected };
}

/** Every put() result names the shard and sequence number (and place in its aggregate) the stream holds the record at. */
async function assertResultsMatchStream(client: KinesisClient, stream: string, puts: readonly Put[]): Promise<void> {
  const read = await readStream(client, stream);
  const where = new Map<string, string>();
  for (const r of read) where.set(Buffer.from(r.data).toString('utf8').split('/').slice(0, 2).join('/'), `${r.shardId} ${r.sequenceNumber} ${r.aggregated ? r.subSequenceNumber : '-'}`);
  for (const p of puts) {
    const res = await p.promise;
    const got = `${res.shardId} ${res.sequenceNumber} ${res.subSequenceNumber ?? '-'}`;
    assert.equal(got, where.get(`${p.key}/${p.n}`), `${p.key}/${p.n}`);
  }
}

describe('Producer against a server enforcing shard limits', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    // Write limits as AWS's (1 MiB/s, 1,000 records/s per shard); reads unlimited so reading back is quick.
    server = await startTestServer({
      limits: 'on',
      fsync: 'never',
      shardReadBytesPerSecond: 0,
      shardReadCallsPerSecond: 0,
      shardIteratorCallsPerSecond: 0,
      updateStreamDelayMs: 0,
    });
    client = server.client();
  });
  after(() => server.destroy());

  for (const aggregation of [false, true]) {
    it(`writes 20,000 records far above the limit, aggregation ${aggregation ? 'on' : 'off'}: each once, in per-key order`, async () => {
      const stream = `load-${aggregation ? 'agg' : 'plain'}`;
      // One shard: 50 keys give up to 50 entries per call without aggregation, well above 1,000 records/s.
      await createActive(client, stream, 1);
      const producer = new Producer({
        streamName: stream,
        kinesisClient: client,
        aggregation,
        // Four times the shard limits, so that the service throttles and the producer must retry.
        rateLimitPercent: 400,
        maxBufferedTimeMs: 20,
        retryBaseMs: 20,
        retryMaxMs: 200,
        recordTtlMs: 120_000,
      });
      const { puts, expected } = putAll(producer, 50, 400, 200, 'key-');
      const results = await Promise.all(puts.map((p) => p.promise));
      await producer.close();
      const m = producer.metrics();
      assert.equal(m.userRecordsPut, 20_000);
      assert.equal(m.userRecordsFailed, 0);
      assert.equal(m.outstanding, 0);
      assert.equal(m.putLatencyMs.count, 20_000);
      assert.ok(m.putLatencyMs.p50 > 0 && m.putLatencyMs.p99 >= m.putLatencyMs.p50);
      if (aggregation) {
        assert.ok(m.aggregatedRecordsPut > 0, 'records were aggregated');
        assert.ok(m.recordsPut < 2_000, `${m.recordsPut} Kinesis records for 20,000 user records`);
        assert.ok(results.some((r) => r.subSequenceNumber !== undefined && r.subSequenceNumber > 0));
      } else {
        assert.equal(m.recordsPut, 20_000);
        assert.equal(m.aggregatedRecordsPut, 0);
        assert.ok(m.retries > 0, 'the producer retried throttled records');
        assert.ok(m.throttles > 0, 'the service throttled');
        assert.ok((m.errorsByCode.ProvisionedThroughputExceededException ?? 0) > 0);
        assert.ok(results.some((r) => r.attempts.length > 1 && r.attempts.at(-1)!.success));
        const retried = results.find((r) => r.attempts.length > 1)!;
        assert.equal(retried.attempts[0]!.errorCode, 'ProvisionedThroughputExceededException');
        assert.match(retried.attempts[0]!.errorMessage!, /^Rate exceeded for shard shardId-\d{12} in stream load-plain/);
      }
      const read = await readStream(client, stream);
      assertExactlyOnceInOrder(read, expected);
      await assertResultsMatchStream(client, stream, puts);
    });
  }

  it('keeps the rate under the shard limits at rateLimitPercent 100, so the service rarely throttles', async () => {
    const stream = 'paced';
    await createActive(client, stream, 1);
    const producer = new Producer({ streamName: stream, kinesisClient: client, aggregation: false, maxBufferedTimeMs: 20, recordTtlMs: 60_000 });
    const { puts, expected } = putAll(producer, 40, 60, 100, 'p-');
    await Promise.all(puts.map((p) => p.promise));
    await producer.close();
    const m = producer.metrics();
    assert.equal(m.userRecordsPut, 2_400);
    // Both limiters run on the wall clock, so a stalled event loop on a loaded machine can let a few
    // requests through early; "rarely" means at most 1% of the records.
    assert.ok(m.throttles <= 24, `${m.throttles} throttles for 2,400 records at 100%`);
    assertExactlyOnceInOrder(await readStream(client, stream), expected);
  });
});

describe('Producer', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ fsync: 'never', updateStreamDelayMs: 0 });
    client = server.client();
  });
  after(() => server.destroy());

  it('resolves put() with the shard and sequence number GetRecords returns the record at', async () => {
    await createActive(client, 'where', 4);
    const shards = (await client.send(new ListShardsCommand({ StreamName: 'where' }))).Shards!;
    for (const aggregation of [false, true]) {
      const producer = new Producer({ streamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/where`, kinesisClient: client, aggregation });
      const keys = Array.from({ length: 12 }, (_, i) => `${aggregation}-${i}`);
      const datas = keys.map((k) => Buffer.from(`data of ${k}`));
      const results = await Promise.all(keys.map((k, i) => producer.put(k, datas[i]!)));
      await producer.close();
      for (let i = 0; i < keys.length; i++) {
        const res = results[i]!;
        const hash = recordHashKey(keys[i]!, undefined);
        const shard = shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= hash && hash <= BigInt(s.HashKeyRange!.EndingHashKey!))!;
        assert.equal(res.shardId, shard.ShardId, 'the shard whose range holds the key');
        assert.equal(res.attempts.length, 1);
        assert.equal(res.attempts[0]!.success, true);
        const it = await client.send(
          new GetShardIteratorCommand({
            StreamName: 'where',
            ShardId: res.shardId,
            ShardIteratorType: 'AT_SEQUENCE_NUMBER',
            StartingSequenceNumber: res.sequenceNumber,
          }),
        );
        const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }));
        const record = got.Records![0]!;
        assert.equal(record.SequenceNumber, res.sequenceNumber);
        const users = deaggregate(record);
        const user = users[res.subSequenceNumber ?? 0]!;
        assert.equal(user.partitionKey, keys[i]);
        assert.deepEqual(Buffer.from(user.data), datas[i]);
        assert.equal(user.aggregated, res.subSequenceNumber !== undefined);
      }
      if (aggregation) assert.ok(results.some((r) => r.subSequenceNumber !== undefined), 'some records shared an aggregated record');
    }
  });

  it('routes by explicit hash key and refuses bad records at once', async () => {
    await createActive(client, 'ehk', 2);
    const producer = new Producer({ streamName: 'ehk', kinesisClient: client, aggregation: false });
    const low = await producer.put('any', 'low', '0');
    const high = await producer.put('any', 'high', ((1n << 128n) - 1n).toString());
    assert.equal(low.shardId, 'shardId-000000000000');
    assert.equal(high.shardId, 'shardId-000000000001');
    await assert.rejects(producer.put('', 'x'), InvalidUserRecordError);
    await assert.rejects(producer.put('k'.repeat(257), 'x'), InvalidUserRecordError);
    await assert.rejects(producer.put('k', new Uint8Array(1024 * 1024)), InvalidUserRecordError);
    await assert.rejects(producer.put('k', 'x', (1n << 128n).toString()), InvalidUserRecordError);
    await assert.rejects(producer.put('k', 'x', '01'), InvalidUserRecordError);
    await producer.close();
    await assert.rejects(producer.put('k', 'x'), /closed/);
  });

  it('rejects after the time to live with every attempt when the stream is deleted', async () => {
    await createActive(client, 'doomed', 1);
    const clock = new OffsetClock();
    const producer = new Producer({ streamName: 'doomed', kinesisClient: client, clock, recordTtlMs: 10_000, retryBaseMs: 10, retryMaxMs: 50 });
    await producer.put('k', 'before');
    await client.send(new DeleteStreamCommand({ StreamName: 'doomed' }));
    const failing = producer.put('k', 'after');
    failing.catch(() => {});
    await until(() => (producer.metrics().errorsByCode.ResourceNotFoundException ?? 0) >= 6, 'failed attempts');
    clock.advance(10_000);
    const err = await failing.then(
      () => assert.fail('put() resolved on a deleted stream'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UserRecordFailedError);
    assert.equal(err.name, 'UserRecordFailedException');
    assert.equal(err.partitionKey, 'k');
    const putFailures = err.attempts.filter((a) => a.errorCode === 'ResourceNotFoundException');
    assert.ok(putFailures.length >= 2, `attempts: ${JSON.stringify(err.attempts)}`);
    assert.match(putFailures[0]!.errorMessage!, /Stream doomed under account 000000000000 not found/);
    assert.ok(err.attempts.every((a) => !a.success));
    assert.equal(err.attempts.at(-1)!.errorCode, 'Expired');
    await producer.close();
    assert.equal(producer.metrics().userRecordsFailed, 1);
  });

  it('rejects after the time to live when the stream never existed, with the ListShards failures', async () => {
    const clock = new OffsetClock();
    const producer = new Producer({ streamName: 'never-was', kinesisClient: client, clock, recordTtlMs: 10_000, retryBaseMs: 10, retryMaxMs: 50 });
    const failing = producer.put('k', 'x');
    failing.catch(() => {});
    await until(() => (producer.metrics().errorsByCode.ResourceNotFoundException ?? 0) >= 2, 'ListShards failures');
    clock.advance(10_000);
    const err = (await failing.catch((e: unknown) => e)) as UserRecordFailedError;
    assert.ok(err instanceof UserRecordFailedError);
    assert.ok(err.attempts.filter((a) => a.errorCode === 'ResourceNotFoundException').length >= 2);
    assert.equal(err.attempts.at(-1)!.errorCode, 'Expired');
    await producer.close();
  });

  it('rejects after the time to live when the server is gone', async () => {
    const gone = await startTestServer({ fsync: 'never' });
    const goneClient = gone.client();
    await createActive(goneClient, 'lost', 1);
    const clock = new OffsetClock();
    const producer = new Producer({
      streamName: 'lost',
      kinesisClient: goneClient,
      clock,
      recordTtlMs: 10_000,
      retryBaseMs: 10,
      retryMaxMs: 50,
      requestTimeoutMs: 1000,
    });
    await producer.put('k', 'before');
    await gone.destroy();
    const failing = producer.put('k', 'after');
    failing.catch(() => {});
    await until(() => Object.values(producer.metrics().errorsByCode).reduce((a, b) => a + b, 0) >= 3, 'failed calls');
    clock.advance(10_000);
    const err = (await failing.catch((e: unknown) => e)) as UserRecordFailedError;
    assert.ok(err instanceof UserRecordFailedError);
    const calls = err.attempts.slice(0, -1);
    assert.ok(calls.length >= 2, `attempts: ${JSON.stringify(err.attempts)}`);
    for (const a of calls) {
      assert.equal(a.success, false);
      assert.ok(a.errorCode && a.errorCode.length > 0);
    }
    assert.equal(err.attempts.at(-1)!.errorCode, 'Expired');
    await producer.close();
  });

  for (const aggregation of [false, true]) {
    it(`loses nothing and keeps per-key order while shards split, aggregation ${aggregation ? 'on' : 'off'}`, async () => {
      const stream = `split-${aggregation ? 'agg' : 'plain'}`;
      await createActive(client, stream, 1);
      const producer = new Producer({ streamName: stream, kinesisClient: client, aggregation, maxBufferedTimeMs: 5, recordTtlMs: 60_000 });
      const keys = 40;
      const rounds = 150;
      const puts: Promise<PutResult>[] = [];
      const expected = new Map<string, number>();
      for (let k = 0; k < keys; k++) expected.set(`s${k}`, rounds);
      const split = async (shardId: string) => {
        const shard = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards!.find((s) => s.ShardId === shardId)!;
        const lo = BigInt(shard.HashKeyRange!.StartingHashKey!);
        const hi = BigInt(shard.HashKeyRange!.EndingHashKey!);
        await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: ((lo + hi) / 2n).toString() }));
      };
      for (let n = 0; n < rounds; n++) {
        const round: Promise<PutResult>[] = [];
        for (let k = 0; k < keys; k++) round.push(producer.put(`s${k}`, payload(`s${k}`, n, 64)));
        puts.push(...round);
        if (n === 50) await split('shardId-000000000000');
        if (n === 100) await split('shardId-000000000001');
        // Let part of the rounds complete so that puts and splits interleave.
        if (n % 10 === 9) await Promise.all(round);
      }
      const results = await Promise.all(puts);
      await producer.close();
      const m = producer.metrics();
      assert.equal(m.userRecordsPut, keys * rounds);
      assert.ok(m.shardMapRefreshes >= 3, `${m.shardMapRefreshes} shard map refreshes`);
      const shardsUsed = new Set(results.map((r) => r.shardId));
      for (const id of ['shardId-000000000000', 'shardId-000000000002', 'shardId-000000000003', 'shardId-000000000004']) {
        assert.ok(shardsUsed.has(id), `records went to ${id}`);
      }
      assertExactlyOnceInOrder(await readStream(client, stream), expected);
    });
  }
});
