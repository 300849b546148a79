import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  MergeShardsCommand,
  PutRecordCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type SplitShardCommandInput,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  expectError,
  HASH_KEY_MAX,
  HASH_KEY_PATTERN,
  NOT_NULL,
  shardId,
  streamNotFound,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { describeShards, isOpen, listAll } from '../../helpers/resharding.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const HALF = (HASH_KEY_MAX + 1n) / 2n;

function notActive(stream: string, state: string): string {
  return `Stream ${stream} under account ${ACCOUNT} not ACTIVE, instead in state ${state}`;
}

describe('SplitShard', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ shardLimit: 20, updateStreamDelayMs: 0 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const split = (input: Partial<SplitShardCommandInput>) => client.send(new SplitShardCommand(input as SplitShardCommandInput));
  const create = async (name: string, shards: number) => {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    clock.advance(1000);
  };

  it('closes the shard and creates two children that divide its range at NewStartingHashKey', async () => {
    await create('split', 2);
    const put = (key: bigint) =>
      client.send(new PutRecordCommand({ StreamName: 'split', PartitionKey: 'p', ExplicitHashKey: key.toString(), Data: Buffer.from('x') }));
    const before = await put(5n);
    assert.equal(before.ShardId, shardId(0));
    const key = HALF / 2n;
    clock.advance(2000);
    const r = await split({ StreamName: 'split', ShardToSplit: shardId(0), NewStartingHashKey: key.toString() });
    assert.equal(r.$metadata.httpStatusCode, 200);
    const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'split' }))).StreamDescriptionSummary!;
    assert.equal(summary.StreamStatus, 'ACTIVE');
    assert.equal(summary.OpenShardCount, 3);

    const shards = await describeShards(client, 'split');
    assert.deepEqual(
      shards.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]),
      [
        [shardId(0), undefined, undefined, '0', (HALF - 1n).toString()],
        [shardId(1), undefined, undefined, HALF.toString(), HASH_KEY_MAX.toString()],
        [shardId(2), shardId(0), undefined, '0', (key - 1n).toString()],
        [shardId(3), shardId(0), undefined, key.toString(), (HALF - 1n).toString()],
      ],
    );
    const [parent, , low, high] = shards;
    assert.ok(!isOpen(parent!), 'the parent is closed');
    const ending = BigInt(parent!.SequenceNumberRange!.EndingSequenceNumber!);
    assert.match(parent!.SequenceNumberRange!.EndingSequenceNumber!, /^\d{56}$/);
    assert.ok(BigInt(before.SequenceNumber!) < ending, "the parent's records precede its EndingSequenceNumber");
    for (const child of [low!, high!]) {
      assert.ok(isOpen(child));
      assert.ok(BigInt(child.SequenceNumberRange!.StartingSequenceNumber!) > ending, "a child's numbers exceed its parent's");
    }
    const lowPut = await put(5n);
    const highPut = await put(key);
    assert.deepEqual([lowPut.ShardId, highPut.ShardId], [shardId(2), shardId(3)], 'keys now route to the children');
    assert.ok(BigInt(lowPut.SequenceNumber!) > ending);
  });

  it('accepts the stream by ARN and the shard id in its short forms', async () => {
    await create('split-forms', 1);
    await split({ StreamARN: arnOf('split-forms'), ShardToSplit: '0', NewStartingHashKey: HALF.toString() });
    await split({ StreamName: 'split-forms', ShardToSplit: 'shardId-1', NewStartingHashKey: (HALF / 2n).toString() });
    const open = (await listAll(client, { StreamName: 'split-forms' })).filter(isOpen).map((s) => s.ShardId);
    assert.deepEqual(open, [shardId(2), shardId(3), shardId(4)]);
  });

  it('keeps the stream UPDATING, with its old shards, until the update delay has passed', async () => {
    const delayed = await startTestServer({ createStreamDelayMs: 500, updateStreamDelayMs: 500 }, { clock });
    try {
      const c = delayed.client();
      await c.send(new CreateStreamCommand({ StreamName: 'slow', ShardCount: 2 }));
      clock.advance(500);
      await c.send(new SplitShardCommand({ StreamName: 'slow', ShardToSplit: shardId(1), NewStartingHashKey: (HALF + 10n).toString() }));
      const status = async () => (await c.send(new DescribeStreamSummaryCommand({ StreamName: 'slow' }))).StreamDescriptionSummary!.StreamStatus;
      assert.equal(await status(), 'UPDATING');
      assert.deepEqual((await describeShards(c, 'slow')).map((s) => [s.ShardId, isOpen(s)]), [
        [shardId(0), true],
        [shardId(1), true],
      ]);
      const during = await c.send(
        new PutRecordCommand({ StreamName: 'slow', PartitionKey: 'p', ExplicitHashKey: HASH_KEY_MAX.toString(), Data: Buffer.from('d') }),
      );
      assert.equal(during.ShardId, shardId(1), 'writes go on to the old shard while UPDATING');
      await expectError(
        c.send(new SplitShardCommand({ StreamName: 'slow', ShardToSplit: shardId(0), NewStartingHashKey: '10' })),
        'ResourceInUseException',
        notActive('slow', 'UPDATING'),
      );
      await expectError(
        c.send(new MergeShardsCommand({ StreamName: 'slow', ShardToMerge: shardId(0), AdjacentShardToMerge: shardId(1) })),
        'ResourceInUseException',
        notActive('slow', 'UPDATING'),
      );
      await expectError(
        c.send(new UpdateShardCountCommand({ StreamName: 'slow', TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' })),
        'ResourceInUseException',
        notActive('slow', 'UPDATING'),
      );
      clock.advance(499);
      assert.equal(await status(), 'UPDATING');
      clock.advance(1);
      assert.equal(await status(), 'ACTIVE');
      const shards = await describeShards(c, 'slow');
      assert.deepEqual(shards.map((s) => [s.ShardId, s.ParentShardId, isOpen(s)]), [
        [shardId(0), undefined, true],
        [shardId(1), undefined, false],
        [shardId(2), shardId(1), true],
        [shardId(3), shardId(1), true],
      ]);
      assert.ok(BigInt(during.SequenceNumber!) < BigInt(shards[1]!.SequenceNumberRange!.EndingSequenceNumber!));
    } finally {
      await delayed.destroy();
    }
  });

  describe('errors', () => {
    before(async () => {
      await create('split-err', 2);
      await split({ StreamName: 'split-err', ShardToSplit: shardId(0), NewStartingHashKey: '1000' });
      await client.send(new CreateStreamCommand({ StreamName: 'split-od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
      await client.send(new CreateStreamCommand({ StreamName: 'split-creating', ShardCount: 1 }));
    });

    it('refuses an unknown stream', async () => {
      await expectError(
        split({ StreamName: 'nope', ShardToSplit: shardId(0), NewStartingHashKey: '10' }),
        'ResourceNotFoundException',
        streamNotFound('nope'),
      );
    });

    it('refuses an unknown shard, naming it as given when it is no shard id at all', async () => {
      await expectError(
        split({ StreamName: 'split-err', ShardToSplit: 'shardId-9', NewStartingHashKey: '10' }),
        'ResourceNotFoundException',
        `Could not find shard ${shardId(9)} in stream split-err under account ${ACCOUNT}.`,
      );
      await expectError(
        split({ StreamName: 'split-err', ShardToSplit: 'ABKLFD8', NewStartingHashKey: '10' }),
        'ResourceNotFoundException',
        `Could not find shard ABKLFD8 in stream split-err under account ${ACCOUNT}.`,
      );
      // AWS looks the stream up first (shard-ids.test.ts).
      await expectError(split({ StreamName: 'nope', ShardToSplit: 'ABKLFD8', NewStartingHashKey: '10' }), 'ResourceNotFoundException', streamNotFound('nope'));
    });

    it('refuses a closed shard', async () => {
      await expectError(
        split({ StreamName: 'split-err', ShardToSplit: shardId(0), NewStartingHashKey: '10' }),
        'InvalidArgumentException',
        `Shard ${shardId(0)} in stream split-err under account ${ACCOUNT} has already been merged or split, ` +
          'and thus is not eligible for merging or splitting.',
      );
    });

    it('refuses a NewStartingHashKey without room on both sides', async () => {
      // shardId-000000000002 is [0, 999].
      const message = (key: string) =>
        `NewStartingHashKey ${key} used in SplitShard() on shard ${shardId(2)} in stream split-err under account ${ACCOUNT} ` +
        "is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 999.";
      for (const key of ['0', '1', '999', '5000', HASH_KEY_MAX.toString()]) {
        await expectError(split({ StreamName: 'split-err', ShardToSplit: shardId(2), NewStartingHashKey: key }), 'InvalidArgumentException', message(key));
      }
      // The extremes that leave both children a key of their own are accepted.
      await split({ StreamName: 'split-err', ShardToSplit: shardId(2), NewStartingHashKey: '2' });
      await split({ StreamName: 'split-err', ShardToSplit: shardId(3), NewStartingHashKey: (HALF - 2n).toString() });
    });

    it('refuses a split beyond the account shard quota, counting the shard it adds', async () => {
      const limits = server.kinesis.openShardCount();
      const free = 20 - limits;
      assert.ok(free >= 0);
      const fill = `split-fill`;
      if (free > 0) await create(fill, free);
      await expectError(
        split({ StreamName: 'split-err', ShardToSplit: shardId(1), NewStartingHashKey: (HALF + 10n).toString() }),
        'LimitExceededException',
        `This request would exceed the shard limit for the account ${ACCOUNT} in us-east-1. Current shard count for the account: 20. ` +
          'Limit: 20. Number of additional shards that would have resulted from this request: 1. Refer to the AWS Service Limits page ' +
          '(https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.',
      );
    });

    it('refuses an ON_DEMAND stream', async () => {
      await expectError(
        split({ StreamName: 'split-od', ShardToSplit: shardId(0), NewStartingHashKey: '10' }),
        'ValidationException',
        `Request is invalid. Stream split-od under account ${ACCOUNT} is in On-Demand mode.`,
      );
    });

    it('refuses a stream that is not ACTIVE', async () => {
      const delayed = await startTestServer({ createStreamDelayMs: 500 }, { clock });
      try {
        const c = delayed.client();
        await c.send(new CreateStreamCommand({ StreamName: 'young', ShardCount: 1 }));
        await expectError(
          c.send(new SplitShardCommand({ StreamName: 'young', ShardToSplit: shardId(0), NewStartingHashKey: '10' })),
          'ResourceInUseException',
          notActive('young', 'CREATING'),
        );
      } finally {
        await delayed.destroy();
      }
    });

    it('validates the request shape', async () => {
      await expectError(
        split({ StreamName: 'split-err', ShardToSplit: shardId(1), NewStartingHashKey: '0123' }),
        'ValidationException',
        validationMessage(violation('0123', 'newStartingHashKey', HASH_KEY_PATTERN)),
      );
      await expectError(
        split({ StreamName: 'split-err', NewStartingHashKey: '10' }),
        'ValidationException',
        validationMessage(violation(null, 'shardToSplit', NOT_NULL)),
      );
    });
  });
});
