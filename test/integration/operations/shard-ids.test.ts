/**
 * Shard ids as AWS reads them. Every case below is one of AWS's recorded answers in the
 * kinesalite test suite (test/getShardIterator.js, test/splitShard.js, test/mergeShards.js): AWS
 * takes the text after the last hyphen of a ShardId (or the whole id) as a decimal number from 0 to
 * 2147483647, whatever comes before the hyphen and however many leading zeros it has, names the
 * shard `shardId-` + 12 digits in its messages, and calls an id that is no number at all "Could not
 * find shard …". SplitShard and MergeShards look the stream up before the shard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { shardIndexOf } from '../../../src/kinesis/shard.js';
import {
  ACCOUNT,
  createStream,
  drain,
  expectError,
  getIterator,
  shardId,
  shardNotFound,
  streamNotFound,
  texts,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const couldNotFind = (shard: string, stream: string) => `Could not find shard ${shard} in stream ${stream} under account ${ACCOUNT}.`;

describe('shard ids', () => {
  it('are read from the digits after the last hyphen, with any prefix and leading zeros', () => {
    const cases: Array<[string, number | undefined]> = [
      ['shardId-000000000001', 1],
      ['shard-0', 0],
      ['x-0', 0],
      ['0', 0],
      ['00000000000000000001', 1],
      ['a-00002147483647', 2147483647],
      ['shardId-2147483647', 2147483647],
      ['-7', 7],
      ['a-b-3', 3],
      ['ABKLFD8', undefined],
      ['2.14E4', undefined],
      ['2147483648', undefined],
      ['shardId-', undefined],
      ['shardId-1a', undefined],
      ['', undefined],
    ];
    for (const [id, index] of cases) assert.equal(shardIndexOf(id), index, id);
  });

  describe('through the SDK', () => {
    let server: TestServer;
    let client: KinesisClient;
    before(async () => {
      server = await startTestServer({ updateStreamDelayMs: 0 });
      client = server.client();
      await createStream(client, 'ids', 2);
      await client.send(new PutRecordCommand({ StreamName: 'ids', PartitionKey: 'k', ExplicitHashKey: '0', Data: Buffer.from('first') }));
    });
    after(() => server.destroy());

    it('GetShardIterator takes any spelling of a shard that exists', async () => {
      for (const id of ['shard-0', 'x-0', '0', '00000000000000000000', 'a-000', shardId(0)]) {
        const iterator = await getIterator(client, 'ids', id, 'TRIM_HORIZON');
        assert.deepEqual(texts((await drain(client, iterator)).records), ['first'], id);
      }
    });

    it('GetShardIterator names a missing shard by its normalised id', async () => {
      for (const [id, normalised] of [
        ['a-00002147483647', 'shardId-002147483647'],
        ['shardId-5', shardId(5)],
        ['00000000000000000002', shardId(2)],
      ] as const) {
        await expectError(getIterator(client, 'ids', id, 'LATEST'), 'ResourceNotFoundException', shardNotFound('ids', normalised));
      }
    });

    it('GetShardIterator calls an id that is no number "Could not find shard"', async () => {
      for (const id of ['ABKLFD8', '2.14E4', '2147483648']) {
        await expectError(getIterator(client, 'ids', id, 'LATEST'), 'ResourceNotFoundException', couldNotFind(id, 'ids'));
      }
    });

    it('ListShards starts after any spelling of ExclusiveStartShardId', async () => {
      for (const id of ['x-0', '0', '000000000000000', shardId(0)]) {
        const r = await client.send(new ListShardsCommand({ StreamName: 'ids', ExclusiveStartShardId: id }));
        assert.deepEqual(r.Shards?.map((s) => s.ShardId), [shardId(1)], id);
      }
    });

    it('SplitShard and MergeShards report an unknown stream before an unknown shard', async () => {
      await expectError(
        client.send(new SplitShardCommand({ StreamName: 'nope', ShardToSplit: 'ABKLFD8', NewStartingHashKey: '10' })),
        'ResourceNotFoundException',
        streamNotFound('nope'),
      );
      await expectError(
        client.send(new MergeShardsCommand({ StreamName: 'nope', ShardToMerge: 'ABKLFD8', AdjacentShardToMerge: 'x' })),
        'ResourceNotFoundException',
        streamNotFound('nope'),
      );
      await expectError(
        client.send(new MergeShardsCommand({ StreamName: 'ids', ShardToMerge: '2.14E4', AdjacentShardToMerge: shardId(1) })),
        'ResourceNotFoundException',
        couldNotFind('2.14E4', 'ids'),
      );
      await expectError(
        client.send(new SplitShardCommand({ StreamName: 'ids', ShardToSplit: 'b-00000000009', NewStartingHashKey: '10' })),
        'ResourceNotFoundException',
        couldNotFind(shardId(9), 'ids'),
      );
    });

    it('MergeShards and SplitShard take any spelling of shards that exist', async () => {
      await client.send(new MergeShardsCommand({ StreamName: 'ids', ShardToMerge: 'one-0', AdjacentShardToMerge: '00001' }));
      const merged = await client.send(new ListShardsCommand({ StreamName: 'ids' }));
      const child = merged.Shards!.find((s) => s.ParentShardId === shardId(0));
      assert.equal(child?.ShardId, shardId(2));
      assert.equal(child?.AdjacentParentShardId, shardId(1));
      await client.send(new SplitShardCommand({ StreamName: 'ids', ShardToSplit: 'x-2', NewStartingHashKey: '1000' }));
      const split = await client.send(new ListShardsCommand({ StreamName: 'ids' }));
      assert.deepEqual(
        split.Shards!.filter((s) => s.ParentShardId === shardId(2)).map((s) => s.ShardId),
        [shardId(3), shardId(4)],
      );
    });
  });
});
