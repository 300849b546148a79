import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateStreamCommand, DescribeStreamCommand, type DescribeStreamCommandInput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ARN_PATTERN,
  arnOf,
  expectError,
  HASH_KEY_MAX,
  lengthAtLeast,
  lengthAtMost,
  NAME_PATTERN,
  shardId,
  streamNotFound,
  validationMessage,
  valueAtLeast,
  valueAtMost,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CREATE_MS = 1000;

describe('DescribeStream', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  let createdAt: number;
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: CREATE_MS }, { clock });
    client = server.client();
    createdAt = clock.now();
    await client.send(new CreateStreamCommand({ StreamName: 'dst', ShardCount: 3 }));
    await client.send(new CreateStreamCommand({ StreamName: 'dst-seven', ShardCount: 7 }));
    await client.send(new CreateStreamCommand({ StreamName: 'dst-wide', ShardCount: 101 }));
    clock.advance(CREATE_MS);
  });
  after(() => server.destroy());

  const describeStream = async (input: Partial<DescribeStreamCommandInput>) =>
    (await client.send(new DescribeStreamCommand(input))).StreamDescription!;

  it('describes the stream and its shards', async () => {
    const d = await describeStream({ StreamName: 'dst' });
    assert.equal(d.StreamName, 'dst');
    assert.equal(d.StreamARN, arnOf('dst'));
    assert.equal(d.StreamStatus, 'ACTIVE');
    assert.deepEqual(d.StreamModeDetails, { StreamMode: 'PROVISIONED' });
    assert.equal(d.RetentionPeriodHours, 24);
    assert.equal(d.StreamCreationTimestamp!.getTime(), createdAt);
    assert.deepEqual(d.EnhancedMonitoring, [{ ShardLevelMetrics: [] }]);
    assert.equal(d.EncryptionType, 'NONE');
    assert.equal(d.KeyId, undefined);
    assert.equal(d.HasMoreShards, false);
    assert.deepEqual(
      d.Shards!.map((s) => [s.ShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]),
      [
        [shardId(0), '0', '113427455640312821154458202477256070484'],
        [shardId(1), '113427455640312821154458202477256070485', '226854911280625642308916404954512140969'],
        [shardId(2), '226854911280625642308916404954512140970', HASH_KEY_MAX.toString()],
      ],
    );
    for (const s of d.Shards!) {
      assert.match(s.SequenceNumberRange!.StartingSequenceNumber!, /^\d{56}$/);
      assert.equal(s.SequenceNumberRange!.EndingSequenceNumber, undefined);
      assert.equal(s.ParentShardId, undefined);
      assert.equal(s.AdjacentParentShardId, undefined);
    }
  });

  it('pages with Limit, ExclusiveStartShardId and HasMoreShards', async () => {
    const pages: string[][] = [];
    let start: string | undefined;
    for (;;) {
      const d = await describeStream({ StreamName: 'dst-seven', Limit: 3, ExclusiveStartShardId: start });
      const ids = d.Shards!.map((s) => s.ShardId!);
      pages.push(ids);
      if (!d.HasMoreShards) break;
      start = ids[ids.length - 1];
    }
    assert.deepEqual(pages, [
      [0, 1, 2].map(shardId),
      [3, 4, 5].map(shardId),
      [6].map(shardId),
    ]);
    const exact = await describeStream({ StreamName: 'dst-seven', Limit: 7 });
    assert.equal(exact.Shards!.length, 7);
    assert.equal(exact.HasMoreShards, false);
    const past = await describeStream({ StreamName: 'dst-seven', ExclusiveStartShardId: shardId(6) });
    assert.deepEqual(past.Shards, []);
    assert.equal(past.HasMoreShards, false);
  });

  it('returns at most 100 shards, whatever the Limit', async () => {
    const byDefault = await describeStream({ StreamName: 'dst-wide' });
    assert.equal(byDefault.Shards!.length, 100);
    assert.equal(byDefault.HasMoreShards, true);
    const large = await describeStream({ StreamName: 'dst-wide', Limit: 10_000 });
    assert.equal(large.Shards!.length, 100);
    assert.equal(large.HasMoreShards, true);
    const rest = await describeStream({ StreamName: 'dst-wide', ExclusiveStartShardId: shardId(99) });
    assert.deepEqual(rest.Shards!.map((s) => s.ShardId), [shardId(100)]);
    assert.equal(rest.HasMoreShards, false);
  });

  it('shows a CREATING stream without shards', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'dst-new', ShardCount: 2 }));
    const creating = await describeStream({ StreamName: 'dst-new' });
    assert.equal(creating.StreamStatus, 'CREATING');
    assert.deepEqual(creating.Shards, []);
    assert.equal(creating.HasMoreShards, false);
    clock.advance(CREATE_MS);
    const active = await describeStream({ StreamName: 'dst-new' });
    assert.equal(active.StreamStatus, 'ACTIVE');
    assert.equal(active.Shards!.length, 2);
  });

  it('accepts StreamARN instead of, or together with, StreamName; refuses a mismatching pair', async () => {
    assert.equal((await describeStream({ StreamARN: arnOf('dst') })).StreamName, 'dst');
    assert.equal((await describeStream({ StreamARN: arnOf('dst'), StreamName: 'dst' })).StreamName, 'dst');
    await expectError(
      client.send(new DescribeStreamCommand({ StreamARN: arnOf('dst'), StreamName: 'dst-seven' })),
      'InvalidArgumentException',
      `StreamARN ${arnOf('dst')} and StreamName dst-seven do not refer to the same stream.`,
    );
  });

  it('refuses a stream that does not exist with ResourceNotFoundException', async () => {
    await expectError(client.send(new DescribeStreamCommand({ StreamName: 'dst-missing' })), 'ResourceNotFoundException', streamNotFound('dst-missing'));
    await expectError(client.send(new DescribeStreamCommand({ StreamARN: arnOf('dst-missing') })), 'ResourceNotFoundException', streamNotFound('dst-missing'));
    await expectError(client.send(new DescribeStreamCommand({})), 'InvalidArgumentException', 'Either StreamName or StreamARN must be provided.');
  });

  it('validates its input with AWS messages', async () => {
    const long = 'a'.repeat(129);
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { StreamName: '', Limit: 0, ExclusiveStartShardId: '' },
        validationMessage(
          violation('0', 'limit', valueAtLeast(1)),
          violation('', 'exclusiveStartShardId', NAME_PATTERN),
          violation('', 'exclusiveStartShardId', lengthAtLeast(1)),
          violation('', 'streamName', NAME_PATTERN),
          violation('', 'streamName', lengthAtLeast(1)),
        ),
      ],
      [
        { StreamName: long, Limit: 100_000, ExclusiveStartShardId: long },
        validationMessage(
          violation('100000', 'limit', valueAtMost(10000)),
          violation(long, 'exclusiveStartShardId', lengthAtMost(128)),
          violation(long, 'streamName', lengthAtMost(128)),
        ),
      ],
      [{ StreamARN: 'dst' }, validationMessage(violation('dst', 'streamARN', ARN_PATTERN))],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new DescribeStreamCommand(input as never)), 'ValidationException', message);
    }
  });
});
