import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  ListShardsCommand,
  PutRecordCommand,
  type KinesisClient,
  type PutRecordCommandInput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
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
  SEQUENCE_PATTERN,
  shardId,
  streamNotFound,
  texts,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** Shard boundaries of a 3-shard stream, as AWS lays them out. */
const SHARD0_END = 113427455640312821154458202477256070484n;
const SHARD2_START = 226854911280625642308916404954512140970n;

/** The same sequence number with its arrival-time field set to another second. */
function withArrivalSecond(seq: string, second: number): string {
  const h = BigInt(seq).toString(16);
  return BigInt('0x' + h.slice(0, 29) + second.toString(16).padStart(9, '0') + h.slice(38)).toString();
}

describe('PutRecord', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  let shards: Shard[];
  before(async () => {
    server = await startTestServer({ fsync: 'never' }, { clock });
    client = server.client();
    await createStream(client, 'pr', 3);
    shards = (await client.send(new ListShardsCommand({ StreamName: 'pr' }))).Shards!;
  });
  after(() => server.destroy());

  const put = (input: Partial<PutRecordCommandInput>) =>
    client.send(new PutRecordCommand({ StreamName: 'pr', PartitionKey: 'k', Data: Buffer.from('x'), ...input }));

  function owner(hash: bigint): string {
    return shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= hash && hash <= BigInt(s.HashKeyRange!.EndingHashKey!))!.ShardId!;
  }

  it('routes by the MD5 of the partition key and returns the shard and a sequence number', async () => {
    await createStream(client, 'pr-route', 3);
    const keys = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const byShard = new Map<string, string[]>();
    for (const key of keys) {
      const r = await client.send(new PutRecordCommand({ StreamName: 'pr-route', PartitionKey: key, Data: Buffer.from(key) }));
      assert.equal(r.ShardId, owner(md5Hash(key)), key);
      assert.match(r.SequenceNumber!, /^\d{56}$/);
      byShard.set(r.ShardId!, [...(byShard.get(r.ShardId!) ?? []), key]);
    }
    assert.equal(byShard.size, 3, 'thirty keys reach all three shards');
    for (const [shard, sent] of byShard) {
      const got = await readShard(client, 'pr-route', shard);
      assert.deepEqual(texts(got), sent);
      assert.deepEqual(got.map((r) => r.PartitionKey), sent);
    }
  });

  it('gives strictly increasing sequence numbers within a shard', async () => {
    const seqs: bigint[] = [];
    for (let i = 0; i < 20; i++) {
      if (i % 5 === 0) clock.advance(1000);
      const r = await put({ PartitionKey: 'same-key' });
      seqs.push(BigInt(r.SequenceNumber!));
    }
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!);
  });

  it('routes by ExplicitHashKey over the partition key, over the whole range 0 .. 2^128-1', async () => {
    const key = 'routed-elsewhere';
    const cases: Array<[bigint, string]> = [
      [0n, shardId(0)],
      [SHARD0_END, shardId(0)],
      [SHARD0_END + 1n, shardId(1)],
      [SHARD2_START - 1n, shardId(1)],
      [SHARD2_START, shardId(2)],
      [HASH_KEY_MAX, shardId(2)],
    ];
    for (const [hash, expected] of cases) {
      const r = await put({ PartitionKey: key, ExplicitHashKey: hash.toString(), Data: Buffer.from(hash.toString()) });
      assert.equal(r.ShardId, expected, `hash key ${hash}`);
    }
    const last = await readShard(client, 'pr', shardId(2));
    const tail = last.slice(-2);
    assert.deepEqual(texts(tail), [SHARD2_START.toString(), HASH_KEY_MAX.toString()]);
    assert.deepEqual(tail.map((r) => r.PartitionKey), [key, key], 'the partition key is stored as given');
  });

  it('refuses an ExplicitHashKey above 2^128-1 with InvalidArgumentException, and malformed ones with ValidationException', async () => {
    const over = (HASH_KEY_MAX + 1n).toString();
    await expectError(
      put({ ExplicitHashKey: over }),
      'InvalidArgumentException',
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${over}`,
    );
    const max39 = '9'.repeat(39);
    await expectError(
      put({ ExplicitHashKey: max39 }),
      'InvalidArgumentException',
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${max39}`,
    );
    for (const bad of ['1'.repeat(40), '-1', '01', '1e5', ' 1']) {
      await expectError(put({ ExplicitHashKey: bad }), 'ValidationException', validationMessage(violation(bad, 'explicitHashKey', HASH_KEY_PATTERN)));
    }
  });

  it('with SequenceNumberForOrdering, gives a number greater than the one supplied', async () => {
    let previous = (await put({ PartitionKey: 'ordered' })).SequenceNumber!;
    for (let i = 0; i < 5; i++) {
      const r = await put({ PartitionKey: 'ordered', SequenceNumberForOrdering: previous });
      assert.ok(BigInt(r.SequenceNumber!) > BigInt(previous));
      previous = r.SequenceNumber!;
    }
    const fromAnotherShard = (await put({ ExplicitHashKey: '0' })).SequenceNumber!;
    const r = await put({ ExplicitHashKey: HASH_KEY_MAX.toString(), SequenceNumberForOrdering: fromAnotherShard });
    assert.equal(r.ShardId, shardId(2));
  });

  it('refuses a SequenceNumberForOrdering that is not a sequence number, or is from the future', async () => {
    const message = (seq: string) => `ExclusiveMinimumSequenceNumber ${seq} used in PutRecord on stream pr under account ${ACCOUNT} is invalid.`;
    await expectError(put({ SequenceNumberForOrdering: '12345' }), 'InvalidArgumentException', message('12345'));
    const real = (await put({})).SequenceNumber!;
    const future = withArrivalSecond(real, Math.floor(clock.now() / 1000) + 60);
    await expectError(put({ SequenceNumberForOrdering: future }), 'InvalidArgumentException', message(future));
    await expectError(
      put({ SequenceNumberForOrdering: '0x1' }),
      'ValidationException',
      validationMessage(violation('0x1', 'sequenceNumberForOrdering', SEQUENCE_PATTERN)),
    );
  });

  it('stores empty and binary data exactly', async () => {
    await createStream(client, 'pr-bytes');
    const payloads = [Buffer.alloc(0), Buffer.from([0, 255, 10, 13, 0]), Buffer.from('{"json":true}')];
    for (const Data of payloads) {
      await client.send(new PutRecordCommand({ StreamName: 'pr-bytes', PartitionKey: 'k', Data }));
    }
    const got = await readShard(client, 'pr-bytes', shardId(0));
    assert.deepEqual(got.map((r) => Buffer.from(r.Data!)), payloads);
  });

  it('accepts a record of 1 MiB counting its partition key, and refuses one byte more', async () => {
    const key = 'kk';
    const fits = await put({ PartitionKey: key, Data: Buffer.alloc(MiB - key.length, 1) });
    assert.match(fits.SequenceNumber!, /^\d{56}$/);
    await expectError(
      put({ PartitionKey: key, Data: Buffer.alloc(MiB - key.length + 1, 1) }),
      'ValidationException',
      /^1 validation error detected: Value 'java\.nio\.HeapByteBuffer\[pos=0 lim=1048575 cap=1048575\]' at 'data' failed to satisfy constraint: /,
    );
    await expectError(
      put({ PartitionKey: key, Data: Buffer.alloc(MiB + 1) }),
      'ValidationException',
      validationMessage(violation(blobText(MiB + 1), 'data', lengthAtMost(MiB))),
    );
  });

  it('follows the stream\'s MaxRecordSizeInKiB', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'pr-large', ShardCount: 1, MaxRecordSizeInKiB: 2048 }));
    const big = Buffer.alloc(2 * MiB - 1, 7);
    await client.send(new PutRecordCommand({ StreamName: 'pr-large', PartitionKey: 'k', Data: big }));
    await expectError(
      client.send(new PutRecordCommand({ StreamName: 'pr-large', PartitionKey: 'k', Data: Buffer.alloc(2 * MiB + 1) })),
      'ValidationException',
      validationMessage(violation(blobText(2 * MiB + 1), 'data', lengthAtMost(2 * MiB))),
    );
    const [stored] = await readShard(client, 'pr-large', shardId(0));
    assert.deepEqual(Buffer.from(stored!.Data!), big);
  });

  it('requires a partition key on a stream that routes by partition key, even with an ExplicitHashKey', async () => {
    const message = validationMessage(violation(null, 'partitionKey', NOT_NULL));
    await expectError(client.send(new PutRecordCommand({ StreamName: 'pr', Data: Buffer.from('x') })), 'ValidationException', message);
    await expectError(
      client.send(new PutRecordCommand({ StreamName: 'pr', ExplicitHashKey: '7', Data: Buffer.from('x') })),
      'ValidationException',
      message,
    );
  });

  it('accepts StreamARN instead of, or together with, StreamName; refuses a mismatching pair', async () => {
    const byArn = await client.send(new PutRecordCommand({ StreamARN: arnOf('pr'), PartitionKey: 'k', Data: Buffer.from('a') }));
    assert.equal(byArn.ShardId, owner(md5Hash('k')));
    await client.send(new PutRecordCommand({ StreamARN: arnOf('pr'), StreamName: 'pr', PartitionKey: 'k', Data: Buffer.from('a') }));
    await expectError(
      client.send(new PutRecordCommand({ StreamARN: arnOf('pr'), StreamName: 'pr-bytes', PartitionKey: 'k', Data: Buffer.from('a') })),
      'InvalidArgumentException',
      `StreamARN ${arnOf('pr')} and StreamName pr-bytes do not refer to the same stream.`,
    );
  });

  it('refuses a stream that does not exist with ResourceNotFoundException', async () => {
    await expectError(put({ StreamName: 'pr-missing' }), 'ResourceNotFoundException', streamNotFound('pr-missing'));
    await expectError(
      client.send(new PutRecordCommand({ StreamARN: arnOf('pr-missing'), PartitionKey: 'k', Data: Buffer.from('a') })),
      'ResourceNotFoundException',
      streamNotFound('pr-missing'),
    );
  });

  it('validates its input with AWS messages', async () => {
    const longName = 'a'.repeat(129);
    const longKey = 'k'.repeat(257);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, validationMessage(violation(null, 'data', NOT_NULL))],
      [
        { StreamName: '', PartitionKey: '', Data: Buffer.alloc(0), ExplicitHashKey: '', SequenceNumberForOrdering: '' },
        validationMessage(
          violation('', 'sequenceNumberForOrdering', SEQUENCE_PATTERN),
          violation('', 'partitionKey', lengthAtLeast(1)),
          violation('', 'explicitHashKey', HASH_KEY_PATTERN),
          violation('', 'streamName', NAME_PATTERN),
          violation('', 'streamName', lengthAtLeast(1)),
        ),
      ],
      [
        { StreamName: longName, PartitionKey: longKey, Data: Buffer.from('x') },
        validationMessage(violation(longKey, 'partitionKey', lengthAtMost(256)), violation(longName, 'streamName', lengthAtMost(128))),
      ],
      [
        { StreamARN: 'arn:aws:kinesis:us-east-1:123:stream/pr', PartitionKey: 'k', Data: Buffer.from('x') },
        validationMessage(
          violation('arn:aws:kinesis:us-east-1:123:stream/pr', 'streamARN', 'Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+'),
        ),
      ],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new PutRecordCommand(input as never)), 'ValidationException', message);
    }
  });
});
