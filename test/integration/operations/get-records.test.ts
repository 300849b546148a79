import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteStreamCommand,
  GetRecordsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  arnOf,
  createStream,
  drain,
  expectError,
  getIterator,
  javaDate,
  lengthAtLeast,
  lengthAtMost,
  NOT_NULL,
  shardId,
  shardNotFound,
  texts,
  validationMessage,
  valueAtLeast,
  valueAtMost,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const SHARD0 = shardId(0);

describe('GetRecords', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ fsync: 'never' }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  async function put(stream: string, data: string | Uint8Array, key = 'k') {
    const Data = typeof data === 'string' ? Buffer.from(data) : data;
    return client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: key, Data }));
  }

  it('returns each record with its data, partition key, sequence number and arrival time', async () => {
    await createStream(client, 'gr-basic');
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const sent = [
      { key: 'alpha', data: Buffer.from('first'), at: clock.now() },
      { key: 'beta', data: Buffer.alloc(0), at: clock.now() + 1500 },
      { key: 'ünïcode-κλειδί', data: binary, at: clock.now() + 3250 },
    ];
    const seqs: string[] = [];
    for (const s of sent) {
      clock.set(s.at);
      seqs.push((await put('gr-basic', s.data, s.key)).SequenceNumber!);
    }
    const r = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-basic', SHARD0, 'TRIM_HORIZON') }));
    assert.equal(r.Records!.length, 3);
    r.Records!.forEach((rec, i) => {
      assert.equal(rec.SequenceNumber, seqs[i]);
      assert.equal(rec.PartitionKey, sent[i]!.key);
      assert.deepEqual(Buffer.from(rec.Data!), sent[i]!.data);
      assert.ok(rec.ApproximateArrivalTimestamp instanceof Date);
      assert.equal(rec.ApproximateArrivalTimestamp.getTime(), sent[i]!.at);
    });
    assert.equal(r.MillisBehindLatest, 0);
    assert.equal(typeof r.NextShardIterator, 'string');
    assert.equal(r.ChildShards, undefined, 'an open shard has no ChildShards');
  });

  it('returns no more records than Limit, anywhere from 1 to 10,000', async () => {
    await createStream(client, 'gr-limit');
    for (let i = 0; i < 5; i++) await put('gr-limit', `r${i}`);
    const first = await client.send(
      new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-limit', SHARD0, 'TRIM_HORIZON'), Limit: 1 }),
    );
    assert.deepEqual(texts(first.Records!), ['r0']);
    const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator, Limit: 3 }));
    assert.deepEqual(texts(second.Records!), ['r1', 'r2', 'r3']);
    const third = await client.send(new GetRecordsCommand({ ShardIterator: second.NextShardIterator, Limit: 10_000 }));
    assert.deepEqual(texts(third.Records!), ['r4']);
    const tip = await client.send(new GetRecordsCommand({ ShardIterator: third.NextShardIterator, Limit: 10_000 }));
    assert.deepEqual(tip.Records, []);
    assert.equal(tip.MillisBehindLatest, 0);
  });

  it('returns every record available up to Limit after a burst, whatever the size of the records read before', async () => {
    await createStream(client, 'gr-burst');
    // A first read of a one-byte record: the shard's records were small so far.
    await put('gr-burst', 'a');
    const small = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-burst', SHARD0, 'TRIM_HORIZON') }));
    assert.deepEqual(texts(small.Records!), ['a']);
    // Then a burst of larger records in several PutRecords calls.
    const data = (i: number) => Buffer.alloc(40_000, i);
    for (let call = 0; call < 4; call++) {
      const r = await client.send(
        new PutRecordsCommand({
          StreamName: 'gr-burst',
          Records: Array.from({ length: 4 }, (_, j) => ({ PartitionKey: `k${j}`, Data: data(call * 4 + j) })),
        }),
      );
      assert.equal(r.FailedRecordCount, 0);
    }
    const first = await client.send(new GetRecordsCommand({ ShardIterator: small.NextShardIterator, Limit: 10 }));
    assert.equal(first.Records!.length, 10, 'all 10 asked for are available');
    assert.ok(first.MillisBehindLatest! > 0);
    const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator, Limit: 10 }));
    assert.equal(second.Records!.length, 6, 'the rest');
    assert.equal(second.MillisBehindLatest, 0);
    const all = [...first.Records!, ...second.Records!];
    all.forEach((r, i) => assert.deepEqual(Buffer.from(r.Data!), data(i)));
  });

  it('returns at most 10,000 records in one call, and the rest from the next iterator', async () => {
    await createStream(client, 'gr-many');
    const total = 10_050;
    for (let start = 0; start < total; start += 500) {
      const n = Math.min(500, total - start);
      const r = await client.send(
        new PutRecordsCommand({
          StreamName: 'gr-many',
          Records: Array.from({ length: n }, (_, i) => ({ PartitionKey: 'k', Data: Buffer.from(String(start + i)) })),
        }),
      );
      assert.equal(r.FailedRecordCount, 0);
    }
    const first = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-many', SHARD0, 'TRIM_HORIZON') }));
    assert.equal(first.Records!.length, 10_000);
    assert.ok(first.MillisBehindLatest! > 0, 'records remain, so the consumer is not caught up');
    const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
    assert.equal(second.Records!.length, 50);
    assert.equal(second.MillisBehindLatest, 0);
    const all = [...first.Records!, ...second.Records!];
    assert.deepEqual(texts(all), Array.from({ length: total }, (_, i) => String(i)));
    for (let i = 1; i < all.length; i++) {
      assert.ok(BigInt(all[i]!.SequenceNumber!) > BigInt(all[i - 1]!.SequenceNumber!));
    }
  });

  it('returns at most 10 MiB of data in one call', async () => {
    await createStream(client, 'gr-big');
    const blob = (i: number) => Buffer.alloc(1_000_000, i);
    for (const batch of [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]) {
      await client.send(
        new PutRecordsCommand({ StreamName: 'gr-big', Records: batch.map((i) => ({ PartitionKey: 'k', Data: blob(i) })) }),
      );
    }
    const first = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-big', SHARD0, 'TRIM_HORIZON') }));
    assert.equal(first.Records!.length, 10, '10 records of 1,000,001 bytes fit in 10 MiB, 11 do not');
    assert.ok(first.MillisBehindLatest! > 0);
    const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
    assert.equal(second.Records!.length, 1);
    assert.deepEqual(Buffer.from(second.Records![0]!.Data!), blob(10));
  });

  it('reports MillisBehindLatest 0 when caught up and more than 0 while records remain', async () => {
    await createStream(client, 'gr-behind');
    await put('gr-behind', 'old');
    clock.advance(60_000);
    await put('gr-behind', 'newer');
    clock.advance(5_000);
    const it0 = await getIterator(client, 'gr-behind', SHARD0, 'TRIM_HORIZON');
    const one = await client.send(new GetRecordsCommand({ ShardIterator: it0, Limit: 1 }));
    assert.deepEqual(texts(one.Records!), ['old']);
    assert.ok(one.MillisBehindLatest! >= 5_000 && one.MillisBehindLatest! <= 65_000, `behind: ${one.MillisBehindLatest}`);
    const rest = await client.send(new GetRecordsCommand({ ShardIterator: one.NextShardIterator }));
    assert.deepEqual(texts(rest.Records!), ['newer']);
    assert.equal(rest.MillisBehindLatest, 0);
    clock.advance(290_000);
    const idle = await client.send(new GetRecordsCommand({ ShardIterator: rest.NextShardIterator }));
    assert.deepEqual(idle.Records, []);
    assert.equal(idle.MillisBehindLatest, 0, 'an idle, caught-up consumer stays at 0 however much time passes');
  });

  it('reports more than 0 while records remain even when they arrived this very millisecond', async () => {
    await createStream(client, 'gr-same-ms');
    for (const s of ['a', 'b', 'c']) await put('gr-same-ms', s);
    const it0 = await getIterator(client, 'gr-same-ms', SHARD0, 'TRIM_HORIZON');
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it0, Limit: 2 }));
    assert.deepEqual(texts(r.Records!), ['a', 'b']);
    assert.ok(r.MillisBehindLatest! > 0, `0 would tell the consumer it is caught up: ${r.MillisBehindLatest}`);
    const empty = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-same-ms', SHARD0, 'LATEST') }));
    assert.equal(empty.MillisBehindLatest, 0);
  });

  it('chains NextShardIterator through the shard; every iterator stays a fixed position', async () => {
    await createStream(client, 'gr-chain');
    for (let i = 0; i < 7; i++) await put('gr-chain', `c${i}`);
    const iterators: string[] = [await getIterator(client, 'gr-chain', SHARD0, 'TRIM_HORIZON')];
    const seen: string[] = [];
    for (;;) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: iterators[iterators.length - 1], Limit: 2 }));
      seen.push(...texts(r.Records!));
      iterators.push(r.NextShardIterator!);
      if (r.Records!.length === 0) break;
    }
    assert.deepEqual(seen, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    assert.equal(iterators.length, 6, 'four pages of at most 2, then an empty page at the tip');
    const again = await client.send(new GetRecordsCommand({ ShardIterator: iterators[1], Limit: 2 }));
    assert.deepEqual(texts(again.Records!), ['c2', 'c3'], 'an iterator that was used before reads the same records again');
    await put('gr-chain', 'c7');
    const tip = await client.send(new GetRecordsCommand({ ShardIterator: iterators[iterators.length - 1] }));
    assert.deepEqual(texts(tip.Records!), ['c7'], 'the iterator from the tip sees later writes');
  });

  it('accepts the StreamARN of the iterator\'s stream', async () => {
    await createStream(client, 'gr-arn');
    await put('gr-arn', 'x');
    const r = await client.send(
      new GetRecordsCommand({ ShardIterator: await getIterator(client, 'gr-arn', SHARD0, 'TRIM_HORIZON'), StreamARN: arnOf('gr-arn') }),
    );
    assert.deepEqual(texts(r.Records!), ['x']);
  });

  it('refuses an iterator older than 300 seconds with ExpiredIteratorException', async () => {
    await createStream(client, 'gr-expiry');
    await put('gr-expiry', 'x');
    const issued = clock.now();
    const iterator = await getIterator(client, 'gr-expiry', SHARD0, 'TRIM_HORIZON');
    clock.advance(300_000);
    const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    assert.deepEqual(texts(r.Records!), ['x'], 'exactly 300 s old is still valid');
    const renewedAt = clock.now();
    clock.advance(1);
    await expectError(
      client.send(new GetRecordsCommand({ ShardIterator: iterator })),
      'ExpiredIteratorException',
      `Iterator expired. The iterator was created at time ${javaDate(issued)} while right now it is ` +
        `${javaDate(issued + 300_001)} which is further in the future than the tolerated delay of 300000 milliseconds.`,
    );
    clock.set(renewedAt + 300_000);
    const next = await client.send(new GetRecordsCommand({ ShardIterator: r.NextShardIterator }));
    assert.deepEqual(next.Records, [], 'NextShardIterator is valid for 300 s from the call that returned it');
    clock.advance(1);
    await expectError(client.send(new GetRecordsCommand({ ShardIterator: r.NextShardIterator })), 'ExpiredIteratorException', /^Iterator expired\. /);
  });

  it('refuses a malformed or altered iterator with "Invalid ShardIterator."', async () => {
    await createStream(client, 'gr-garbage');
    const real = await getIterator(client, 'gr-garbage', SHARD0, 'LATEST');
    const altered = real.slice(0, 10) + (real[10] === 'A' ? 'B' : 'A') + real.slice(11);
    for (const bad of ['garbage', 'A'.repeat(52), altered, real.slice(4)]) {
      await expectError(client.send(new GetRecordsCommand({ ShardIterator: bad })), 'InvalidArgumentException', 'Invalid ShardIterator.');
    }
  });

  it('refuses an iterator of a deleted stream with ResourceNotFoundException', async () => {
    await createStream(client, 'gr-deleted', 2);
    const it1 = await getIterator(client, 'gr-deleted', shardId(1), 'TRIM_HORIZON');
    await client.send(new DeleteStreamCommand({ StreamName: 'gr-deleted' }));
    await expectError(
      client.send(new GetRecordsCommand({ ShardIterator: it1 })),
      'ResourceNotFoundException',
      shardNotFound('gr-deleted', shardId(1)),
    );
  });

  it('validates ShardIterator and Limit with AWS messages', async () => {
    const long = 'a'.repeat(513);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, validationMessage(violation(null, 'shardIterator', NOT_NULL))],
      [
        { ShardIterator: '', Limit: 0 },
        validationMessage(violation('0', 'limit', valueAtLeast(1)), violation('', 'shardIterator', lengthAtLeast(1))),
      ],
      [
        { ShardIterator: long, Limit: 10_001 },
        validationMessage(violation('10001', 'limit', valueAtMost(10000)), violation(long, 'shardIterator', lengthAtMost(512))),
      ],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new GetRecordsCommand(input as never)), 'ValidationException', message);
    }
  });

  it('reads what was written after the tip iterator was taken, and nothing from before it', async () => {
    await createStream(client, 'gr-latest');
    await put('gr-latest', 'before');
    const latest = await getIterator(client, 'gr-latest', SHARD0, 'LATEST');
    await put('gr-latest', 'after-1');
    await put('gr-latest', 'after-2');
    const { records } = await drain(client, latest);
    assert.deepEqual(texts(records), ['after-1', 'after-2']);
  });
});
