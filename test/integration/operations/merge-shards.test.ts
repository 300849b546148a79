import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  MergeShardsCommand,
  PutRecordCommand,
  SplitShardCommand,
  type KinesisClient,
  type MergeShardsCommandInput,
} from '@aws-sdk/client-kinesis';
import { evenHashRanges } from '../../../src/util/hash-key.js';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  expectError,
  NOT_NULL,
  shardId,
  streamNotFound,
  texts,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { describeShards, isOpen, readToEnd } from '../../helpers/resharding.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('MergeShards', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ shardLimit: 50, updateStreamDelayMs: 0 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const merge = (input: Partial<MergeShardsCommandInput>) => client.send(new MergeShardsCommand(input as MergeShardsCommandInput));
  const create = async (name: string, shards: number) => {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    clock.advance(1000);
  };
  const range = (n: number, i: number) => evenHashRanges(n)[i]!;

  it('closes two adjacent shards and creates one child over both ranges, naming both parents', async () => {
    await create('merge', 3);
    const put = (i: number, data: string) =>
      client.send(
        new PutRecordCommand({ StreamName: 'merge', PartitionKey: 'p', ExplicitHashKey: range(3, i).start.toString(), Data: Buffer.from(data) }),
      );
    await put(0, 'a0');
    await put(1, 'b0');
    await put(1, 'b1');
    clock.advance(3000);
    await merge({ StreamName: 'merge', ShardToMerge: shardId(0), AdjacentShardToMerge: shardId(1) });
    assert.equal(
      (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'merge' }))).StreamDescriptionSummary!.OpenShardCount,
      2,
    );
    const shards = await describeShards(client, 'merge');
    assert.deepEqual(
      shards.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId, isOpen(s), s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]),
      [
        [shardId(0), undefined, undefined, false, '0', range(3, 0).end.toString()],
        [shardId(1), undefined, undefined, false, range(3, 1).start.toString(), range(3, 1).end.toString()],
        [shardId(2), undefined, undefined, true, range(3, 2).start.toString(), range(3, 2).end.toString()],
        [shardId(3), shardId(0), shardId(1), true, '0', range(3, 1).end.toString()],
      ],
    );
    const childStart = BigInt(shards[3]!.SequenceNumberRange!.StartingSequenceNumber!);
    for (const parent of shards.slice(0, 2)) {
      assert.ok(childStart > BigInt(parent.SequenceNumberRange!.EndingSequenceNumber!));
    }
    const child = { ShardId: shardId(3), ParentShards: [shardId(0), shardId(1)], HashKeyRange: shards[3]!.HashKeyRange };
    const end0 = await readToEnd(client, 'merge', shardId(0));
    assert.deepEqual(texts(end0.records), ['a0']);
    assert.deepEqual(end0.childShards, [child], 'the merged child lists exactly its two parents');
    const end1 = await readToEnd(client, 'merge', shardId(1));
    assert.deepEqual(texts(end1.records), ['b0', 'b1']);
    assert.deepEqual(end1.childShards, [child]);
    assert.equal((await put(1, 'b2')).ShardId, shardId(3));
  });

  it('merges a pair given in either order, ShardToMerge becoming the ParentShardId', async () => {
    await create('merge-rev', 4);
    await merge({ StreamARN: arnOf('merge-rev'), ShardToMerge: shardId(3), AdjacentShardToMerge: shardId(2) });
    const shards = await describeShards(client, 'merge-rev');
    const child = shards.find((s) => s.ShardId === shardId(4))!;
    assert.equal(child.ParentShardId, shardId(3));
    assert.equal(child.AdjacentParentShardId, shardId(2));
    assert.deepEqual(child.HashKeyRange, {
      StartingHashKey: range(4, 2).start.toString(),
      EndingHashKey: range(4, 3).end.toString(),
    });
    const end = await readToEnd(client, 'merge-rev', shardId(2));
    assert.deepEqual(end.childShards[0]!.ParentShards, [shardId(3), shardId(2)]);
  });

  it('merges shards that earlier splits left adjacent', async () => {
    await create('merge-split', 1);
    await client.send(new SplitShardCommand({ StreamName: 'merge-split', ShardToSplit: shardId(0), NewStartingHashKey: '1000' }));
    await merge({ StreamName: 'merge-split', ShardToMerge: 'shardId-1', AdjacentShardToMerge: '2' });
    const open = (await describeShards(client, 'merge-split')).filter(isOpen);
    assert.deepEqual(
      open.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId, s.HashKeyRange!.StartingHashKey]),
      [[shardId(3), shardId(1), shardId(2), '0']],
    );
  });

  describe('errors', () => {
    before(async () => {
      await create('merge-err', 4);
      await merge({ StreamName: 'merge-err', ShardToMerge: shardId(0), AdjacentShardToMerge: shardId(1) });
      await client.send(new CreateStreamCommand({ StreamName: 'merge-od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    });

    it('refuses shards that are not adjacent', async () => {
      const message = (a: number, b: number) =>
        `Shards ${shardId(a)} and ${shardId(b)} in stream merge-err under account ${ACCOUNT} are not an adjacent pair of shards eligible for merging`;
      await expectError(merge({ StreamName: 'merge-err', ShardToMerge: shardId(4), AdjacentShardToMerge: shardId(3) }), 'InvalidArgumentException', message(4, 3));
      await expectError(merge({ StreamName: 'merge-err', ShardToMerge: shardId(3), AdjacentShardToMerge: shardId(3) }), 'InvalidArgumentException', message(3, 3));
    });

    it('refuses a closed shard', async () => {
      await expectError(
        merge({ StreamName: 'merge-err', ShardToMerge: shardId(4), AdjacentShardToMerge: shardId(1) }),
        'InvalidArgumentException',
        `Shard ${shardId(1)} in stream merge-err under account ${ACCOUNT} has already been merged or split, ` +
          'and thus is not eligible for merging or splitting.',
      );
    });

    it('refuses unknown shards and streams', async () => {
      await expectError(
        merge({ StreamName: 'merge-err', ShardToMerge: shardId(2), AdjacentShardToMerge: 'shardId-5' }),
        'ResourceNotFoundException',
        `Could not find shard ${shardId(5)} in stream merge-err under account ${ACCOUNT}.`,
      );
      await expectError(
        merge({ StreamName: 'nope', ShardToMerge: shardId(0), AdjacentShardToMerge: shardId(1) }),
        'ResourceNotFoundException',
        streamNotFound('nope'),
      );
      await expectError(
        merge({ StreamName: 'merge-err', ShardToMerge: shardId(0), AdjacentShardToMerge: '2.14E4' }),
        'ResourceNotFoundException',
        `Could not find shard 2.14E4 in stream merge-err under account ${ACCOUNT}.`,
      );
      // AWS looks the stream up first (shard-ids.test.ts).
      await expectError(merge({ StreamName: 'nope', ShardToMerge: shardId(0), AdjacentShardToMerge: '2.14E4' }), 'ResourceNotFoundException', streamNotFound('nope'));
    });

    it('refuses an ON_DEMAND stream', async () => {
      await expectError(
        merge({ StreamName: 'merge-od', ShardToMerge: shardId(0), AdjacentShardToMerge: shardId(1) }),
        'ValidationException',
        `Request is invalid. Stream merge-od under account ${ACCOUNT} is in On-Demand mode.`,
      );
    });

    it('validates the request shape', async () => {
      await expectError(
        merge({ StreamName: 'merge-err', ShardToMerge: shardId(2) }),
        'ValidationException',
        validationMessage(violation(null, 'adjacentShardToMerge', NOT_NULL)),
      );
    });
  });
});
