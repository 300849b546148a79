import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
  type Shard,
} from '@aws-sdk/client-kinesis';
import {
  arnOf,
  blobText,
  createStream,
  expectError,
  HASH_KEY_MAX,
  HASH_KEY_PATTERN,
  lengthAtLeast,
  lengthAtMost,
  md5Hash,
  MiB,
  NAME_PATTERN,
  NOT_NULL,
  readShard,
  shardId,
  streamNotFound,
  texts,
  validationMessage,
  violation,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const entry = (PartitionKey: string | undefined, data: string | Buffer, ExplicitHashKey?: string): PutRecordsRequestEntry => ({
  PartitionKey,
  Data: typeof data === 'string' ? Buffer.from(data) : data,
  ExplicitHashKey,
});

describe('PutRecords', () => {
  let server: TestServer;
  let client: KinesisClient;
  let shards: Shard[];
  before(async () => {
    server = await startTestServer({ fsync: 'never' });
    client = server.client();
    await createStream(client, 'prs', 3);
    shards = (await client.send(new ListShardsCommand({ StreamName: 'prs' }))).Shards!;
  });
  after(() => server.destroy());

  const putRecords = (Records: PutRecordsRequestEntry[], stream = 'prs') => client.send(new PutRecordsCommand({ StreamName: stream, Records }));

  function owner(hash: bigint): string {
    return shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= hash && hash <= BigInt(s.HashKeyRange!.EndingHashKey!))!.ShardId!;
  }

  it('answers every entry in request order, with FailedRecordCount 0', async () => {
    await createStream(client, 'prs-order', 3);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i % 11}`);
    const r = await putRecords(keys.map((k, i) => entry(k, `m${i}`)), 'prs-order');
    assert.equal(r.FailedRecordCount, 0);
    assert.equal(r.Records!.length, keys.length);
    r.Records!.forEach((res, i) => {
      assert.equal(res.ShardId, owner(md5Hash(keys[i]!)), `entry ${i}`);
      assert.match(res.SequenceNumber!, /^\d{56}$/);
      assert.equal(res.ErrorCode, undefined);
      assert.equal(res.ErrorMessage, undefined);
    });
    for (const shard of shards) {
      const expected = r.Records!.flatMap((res, i) => (res.ShardId === shard.ShardId ? [{ data: `m${i}`, seq: res.SequenceNumber }] : []));
      const got = await readShard(client, 'prs-order', shard.ShardId!);
      assert.deepEqual(
        got.map((x) => ({ data: Buffer.from(x.Data!).toString(), seq: x.SequenceNumber })),
        expected,
        'each shard holds its entries in request order, under the numbers returned',
      );
    }
  });

  it('routes entries by ExplicitHashKey where given', async () => {
    const r = await putRecords([
      entry('a', 'low', '0'),
      entry('a', 'high', HASH_KEY_MAX.toString()),
      entry('a', 'by-key'),
      entry('zzz', 'middle', (HASH_KEY_MAX / 2n).toString()),
    ]);
    assert.deepEqual(
      r.Records!.map((x) => x.ShardId),
      [shardId(0), shardId(2), owner(md5Hash('a')), shardId(1)],
    );
  });

  it('takes 500 entries, including empty data', async () => {
    await createStream(client, 'prs-500');
    const r = await putRecords(Array.from({ length: 500 }, (_, i) => entry(`k${i}`, i % 2 ? '' : `d${i}`)), 'prs-500');
    assert.equal(r.FailedRecordCount, 0);
    assert.equal(r.Records!.length, 500);
    const got = await readShard(client, 'prs-500', shardId(0));
    assert.deepEqual(texts(got), Array.from({ length: 500 }, (_, i) => (i % 2 ? '' : `d${i}`)));
  });

  it('refuses 501 entries, or none', async () => {
    const member = 'com\\.amazonaws\\.kinesis\\.v20131202\\.PutRecordsRequestEntry@[0-9a-f]+';
    await expectError(
      putRecords(Array.from({ length: 501 }, () => entry('k', 'x'))),
      'ValidationException',
      new RegExp(
        `^1 validation error detected: Value '\\[${member}(, ${member}){500}\\]' at 'records' failed to satisfy constraint: ` +
          'Member must have length less than or equal to 500$',
      ),
    );
    await expectError(putRecords([]), 'ValidationException', validationMessage(violation('[]', 'records', lengthAtLeast(1))));
  });

  it('refuses the whole request when one ExplicitHashKey is out of range, writing nothing', async () => {
    await createStream(client, 'prs-atomic');
    const over = (HASH_KEY_MAX + 1n).toString();
    await expectError(
      putRecords([entry('a', 'one'), entry('b', 'two'), entry('c', 'three', over)], 'prs-atomic'),
      'InvalidArgumentException',
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${over}`,
    );
    assert.deepEqual(await readShard(client, 'prs-atomic', shardId(0)), []);
  });

  it('names each invalid entry by its place in the list', async () => {
    const long = 'p'.repeat(257);
    await expectError(
      client.send(
        new PutRecordsCommand({
          StreamName: '',
          Records: [entry('', 'a'), entry(long, 'b'), entry('k', 'c', 'x1'), { PartitionKey: 'k' } as PutRecordsRequestEntry],
        }),
      ),
      'ValidationException',
      validationMessage(
        violation('', 'records.1.member.partitionKey', lengthAtLeast(1)),
        violation(long, 'records.2.member.partitionKey', lengthAtMost(256)),
        violation('x1', 'records.3.member.explicitHashKey', HASH_KEY_PATTERN),
        violation(null, 'records.4.member.data', NOT_NULL),
        violation('', 'streamName', NAME_PATTERN),
        violation('', 'streamName', lengthAtLeast(1)),
      ),
    );
  });

  it('lists at most ten violations', async () => {
    const errors = Array.from({ length: 10 }, (_, i) => violation('', `records.${i + 1}.member.partitionKey`, lengthAtLeast(1)));
    await expectError(
      putRecords(Array.from({ length: 12 }, () => entry('', 'x'))),
      'ValidationException',
      validationMessage(...errors),
    );
  });

  it('requires a partition key on every entry of a stream that routes by partition key', async () => {
    await expectError(
      putRecords([entry('a', '1'), entry(undefined, '2'), entry('c', '3'), entry(undefined, '4', '12')]),
      'ValidationException',
      validationMessage(
        violation(null, 'records.2.member.partitionKey', NOT_NULL),
        violation(null, 'records.4.member.partitionKey', NOT_NULL),
      ),
    );
  });

  it('refuses an entry over 1 MiB, counting its partition key', async () => {
    await expectError(
      putRecords([entry('a', 'small'), entry('b', Buffer.alloc(MiB + 1))]),
      'ValidationException',
      validationMessage(violation(blobText(MiB + 1), 'records.2.member.data', lengthAtMost(MiB))),
    );
    await expectError(
      putRecords([entry('a', 'small'), entry('bb', Buffer.alloc(MiB - 1))]),
      'ValidationException',
      /^1 validation error detected: Value 'java\.nio\.HeapByteBuffer\[pos=0 lim=1048575 cap=1048575\]' at 'records\.2\.member\.data' /,
    );
  });

  it('takes exactly 10 MiB of data and partition keys, and refuses one byte more', async () => {
    await createStream(client, 'prs-10mib');
    const full = Array.from({ length: 10 }, (_, i) => entry(String(i), Buffer.alloc(MiB - 1, i)));
    const r = await putRecords(full, 'prs-10mib');
    assert.equal(r.FailedRecordCount, 0);
    assert.equal(r.Records!.length, 10);
    const over = [...full.slice(0, 9), entry('9x', Buffer.alloc(MiB - 2))];
    over.push(entry('y', Buffer.alloc(0)));
    await expectError(putRecords(over, 'prs-10mib'), 'InvalidArgumentException', 'Records size exceeds 10 MB limit');
    const stored = await readShard(client, 'prs-10mib', shardId(0));
    assert.equal(stored.length, 10, 'only the accepted request was written');
  });

  it('accepts StreamARN instead of, or together with, StreamName; refuses a mismatching pair', async () => {
    const byArn = await client.send(new PutRecordsCommand({ StreamARN: arnOf('prs'), Records: [entry('k', 'a')] }));
    assert.equal(byArn.Records![0]!.ShardId, owner(md5Hash('k')));
    const both = await client.send(new PutRecordsCommand({ StreamARN: arnOf('prs'), StreamName: 'prs', Records: [entry('k', 'a')] }));
    assert.equal(both.FailedRecordCount, 0);
    await expectError(
      client.send(new PutRecordsCommand({ StreamARN: arnOf('prs'), StreamName: 'prs-500', Records: [entry('k', 'a')] })),
      'InvalidArgumentException',
      `StreamARN ${arnOf('prs')} and StreamName prs-500 do not refer to the same stream.`,
    );
  });

  it('refuses a stream that does not exist with ResourceNotFoundException', async () => {
    await expectError(putRecords([entry('k', 'a')], 'prs-missing'), 'ResourceNotFoundException', streamNotFound('prs-missing'));
  });

  it('validates a missing Records list', async () => {
    await expectError(
      client.send(new PutRecordsCommand({} as never)),
      'ValidationException',
      validationMessage(violation(null, 'records', NOT_NULL)),
    );
  });
});
