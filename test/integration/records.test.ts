import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { startTestServer, type TestServer } from '../helpers/server.js';

function md5Hash(key: string): bigint {
  return BigInt('0x' + createHash('md5').update(key, 'utf8').digest('hex'));
}

async function readAll(client: KinesisClient, streamName: string, shardId: string) {
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  let iterator = ShardIterator;
  const out = [];
  for (;;) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    out.push(...(r.Records ?? []));
    iterator = r.NextShardIterator;
    if (!r.Records?.length || r.MillisBehindLatest === 0) break;
  }
  return out;
}

describe('records: put, route and read back', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer();
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'routing', ShardCount: 3 }));
  });
  after(() => server.destroy());

  it('routes each record to the shard whose range holds MD5(partition key), in order per key', async () => {
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: 'routing' }));
    assert.equal(Shards.length, 3);
    const owner = (h: bigint) =>
      Shards.find((s: Shard) => BigInt(s.HashKeyRange!.StartingHashKey!) <= h && h <= BigInt(s.HashKeyRange!.EndingHashKey!))!;
    const sent: { key: string; data: string; shard: string; seq: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const key = `key-${i % 7}`;
      const data = `record ${i} of ${key}`;
      const r = await client.send(new PutRecordCommand({ StreamName: 'routing', PartitionKey: key, Data: Buffer.from(data) }));
      assert.equal(r.ShardId, owner(md5Hash(key)).ShardId);
      assert.match(r.SequenceNumber!, /^\d{56}$/);
      sent.push({ key, data, shard: r.ShardId!, seq: r.SequenceNumber! });
    }
    const batch = await client.send(
      new PutRecordsCommand({
        StreamName: 'routing',
        Records: Array.from({ length: 40 }, (_, i) => ({ PartitionKey: `key-${i % 7}`, Data: Buffer.from(`batch ${i}`) })),
      }),
    );
    assert.equal(batch.FailedRecordCount, 0);
    assert.equal(batch.Records!.length, 40);
    batch.Records!.forEach((r, i) => {
      const key = `key-${i % 7}`;
      assert.equal(r.ShardId, owner(md5Hash(key)).ShardId);
      sent.push({ key, data: `batch ${i}`, shard: r.ShardId!, seq: r.SequenceNumber! });
    });
    for (const shard of Shards) {
      const got = await readAll(client, 'routing', shard.ShardId!);
      const expected = sent.filter((s) => s.shard === shard.ShardId);
      assert.deepEqual(
        got.map((r) => [r.PartitionKey, Buffer.from(r.Data!).toString(), r.SequenceNumber]),
        expected.map((s) => [s.key, s.data, s.seq]),
      );
      for (let i = 1; i < got.length; i++) {
        assert.ok(BigInt(got[i]!.SequenceNumber!) > BigInt(got[i - 1]!.SequenceNumber!), 'sequence numbers increase');
      }
    }
  });
});
