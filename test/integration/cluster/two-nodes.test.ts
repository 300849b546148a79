/**
 * Two Tributary nodes on one three-server JetStream cluster: whatever is done through one node is
 * seen through the other at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { registerActive, SdkSubscription } from '../../helpers/fan-out.js';
import { createStream, drain, expectError, getIterator, HASH_KEY_MAX, readShard, shardId, streamNotFound } from '../../helpers/kinesis.js';
import type { TestServer } from '../../helpers/server.js';
import { eventually, skipWithoutNats, startCluster, type TestCluster } from './cluster.js';

function strictlyIncreasing(records: readonly _Record[]): void {
  for (let i = 1; i < records.length; i++) {
    assert.ok(
      BigInt(records[i]!.SequenceNumber!) > BigInt(records[i - 1]!.SequenceNumber!),
      `sequence number ${i} (${records[i]!.SequenceNumber}) is above the one before (${records[i - 1]!.SequenceNumber})`,
    );
  }
}

function payload(i: number): Uint8Array {
  // Binary, with every byte value, so that "byte for byte" means something.
  const b = Buffer.alloc(64 + (i % 200));
  for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j * 7) & 0xff;
  return b;
}

describe('two nodes on one JetStream cluster', { skip: skipWithoutNats() }, () => {
  let cluster: TestCluster;
  let a: TestServer;
  let b: TestServer;
  let ca: KinesisClient;
  let cb: KinesisClient;

  before(async () => {
    cluster = await startCluster();
    a = await cluster.node({ consumerDelayMs: 0, subscriptionHeartbeatMs: 200, updateStreamDelayMs: 0 });
    b = await cluster.node({ consumerDelayMs: 0, subscriptionHeartbeatMs: 200, updateStreamDelayMs: 0 });
    ca = a.client();
    cb = b.client();
  });
  after(() => cluster?.destroy());

  it('serves a stream created through A at once through B: describe, put, read', async () => {
    await createStream(ca, 'made-on-a', 2);
    const d = await cb.send(new DescribeStreamSummaryCommand({ StreamName: 'made-on-a' }));
    assert.equal(d.StreamDescriptionSummary!.StreamStatus, 'ACTIVE');
    assert.equal(d.StreamDescriptionSummary!.OpenShardCount, 2);
    const put = await cb.send(new PutRecordCommand({ StreamName: 'made-on-a', PartitionKey: 'k', Data: Buffer.from('via b') }));
    const records = await readShard(ca, 'made-on-a', put.ShardId!);
    assert.deepEqual(
      records.map((r) => Buffer.from(r.Data!).toString()),
      ['via b'],
    );
  });

  it('reads through B, byte for byte and in order, what was put through A', async () => {
    await createStream(ca, 'a-to-b', 3);
    const sent = new Map<string, { seq: string; data: Uint8Array }[]>();
    for (let i = 0; i < 120; i += 12) {
      const batch = Array.from({ length: 12 }, (_, j) => ({ PartitionKey: `pk-${i + j}`, Data: payload(i + j) }));
      const r = await ca.send(new PutRecordsCommand({ StreamName: 'a-to-b', Records: batch }));
      assert.equal(r.FailedRecordCount, 0);
      r.Records!.forEach((e, j) => {
        const list = sent.get(e.ShardId!) ?? [];
        list.push({ seq: e.SequenceNumber!, data: batch[j]!.Data });
        sent.set(e.ShardId!, list);
      });
    }
    assert.equal(sent.size, 3, 'the keys spread over every shard');
    for (const [shard, expected] of sent) {
      const got = await readShard(cb, 'a-to-b', shard);
      assert.deepEqual(
        got.map((r) => r.SequenceNumber),
        expected.map((e) => e.seq),
        `shard ${shard}: the same records in the same order`,
      );
      got.forEach((r, i) => assert.ok(Buffer.from(r.Data!).equals(Buffer.from(expected[i]!.data)), `record ${i} byte for byte`));
      strictlyIncreasing(got);
    }
  });

  it('continues through B with an iterator A handed out', async () => {
    await createStream(ca, 'iterators', 1);
    const first = await ca.send(new PutRecordCommand({ StreamName: 'iterators', PartitionKey: 'k', Data: Buffer.from('one') }));
    const onA = await ca.send(
      new GetRecordsCommand({ ShardIterator: await getIterator(ca, 'iterators', shardId(0), 'TRIM_HORIZON') }),
    );
    assert.equal(onA.Records!.length, 1);
    const second = await ca.send(new PutRecordCommand({ StreamName: 'iterators', PartitionKey: 'k', Data: Buffer.from('two') }));
    const onB = await cb.send(new GetRecordsCommand({ ShardIterator: onA.NextShardIterator }));
    assert.deepEqual(
      onB.Records!.map((r) => r.SequenceNumber),
      [second.SequenceNumber],
    );
    assert.notEqual(first.SequenceNumber, second.SequenceNumber);
  });

  it('delivers to a SubscribeToShard on B the records put through A', async () => {
    await createStream(ca, 'fan-out', 1);
    const arn = await registerActive(ca, 'fan-out', 'app');
    const sub = await SdkSubscription.open(cb, arn, shardId(0), { Type: 'LATEST' });
    try {
      await sub.next();
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await ca.send(new PutRecordCommand({ StreamName: 'fan-out', PartitionKey: `k${i}`, Data: Buffer.from(`r${i}`) }));
        sent.push(r.SequenceNumber!);
      }
      const got: _Record[] = [];
      while (got.length < sent.length) {
        const ev = await sub.next();
        got.push(...(ev.Records ?? []));
      }
      assert.deepEqual(
        got.map((r) => r.SequenceNumber),
        sent,
      );
      assert.deepEqual(
        got.map((r) => Buffer.from(r.Data!).toString()),
        sent.map((_, i) => `r${i}`),
      );
    } finally {
      sub.abort.abort();
    }
  });

  it('routes through B to the children of a shard split through A, and B reads the parent to its end', async () => {
    await createStream(ca, 'split-on-a', 1);
    const before = await cb.send(new PutRecordCommand({ StreamName: 'split-on-a', PartitionKey: 'k', Data: Buffer.from('before') }));
    assert.equal(before.ShardId, shardId(0));
    await ca.send(
      new SplitShardCommand({ StreamName: 'split-on-a', ShardToSplit: shardId(0), NewStartingHashKey: ((HASH_KEY_MAX + 1n) / 2n).toString() }),
    );
    const shards = (await cb.send(new ListShardsCommand({ StreamName: 'split-on-a' }))).Shards!;
    assert.deepEqual(
      shards.map((s) => s.ShardId),
      [shardId(0), shardId(1), shardId(2)],
    );
    assert.ok(shards[0]!.SequenceNumberRange!.EndingSequenceNumber, 'B sees the parent closed');
    for (let i = 0; i < 10; i++) {
      const r = await cb.send(new PutRecordCommand({ StreamName: 'split-on-a', PartitionKey: `key-${i}`, Data: Buffer.from(`after ${i}`) }));
      assert.ok([shardId(1), shardId(2)].includes(r.ShardId!), `record ${i} went to a child, not ${r.ShardId}`);
    }
    const parent = await cb.send(
      new GetRecordsCommand({ ShardIterator: await getIterator(cb, 'split-on-a', shardId(0), 'TRIM_HORIZON') }),
    );
    assert.deepEqual(
      parent.Records!.map((r) => r.SequenceNumber),
      [before.SequenceNumber],
    );
    const end = await cb.send(new GetRecordsCommand({ ShardIterator: parent.NextShardIterator }));
    assert.deepEqual(end.Records, []);
    assert.equal(end.NextShardIterator, undefined, 'the closed parent ends');
    assert.deepEqual(
      end.ChildShards!.map((c) => c.ShardId),
      [shardId(1), shardId(2)],
    );
  });

  it('answers ResourceNotFoundException through B for a stream deleted through A', async () => {
    await createStream(ca, 'deleted-on-a', 1);
    await cb.send(new DescribeStreamCommand({ StreamName: 'deleted-on-a' }));
    await ca.send(new DeleteStreamCommand({ StreamName: 'deleted-on-a' }));
    await expectError(cb.send(new DescribeStreamCommand({ StreamName: 'deleted-on-a' })), 'ResourceNotFoundException', streamNotFound('deleted-on-a'));
    await expectError(
      cb.send(new PutRecordCommand({ StreamName: 'deleted-on-a', PartitionKey: 'k', Data: Buffer.from('x') })),
      'ResourceNotFoundException',
    );
  });

  it('refuses through B a stream name just created through A', async () => {
    await createStream(ca, 'taken', 1);
    await expectError(createStream(cb, 'taken', 1), 'ResourceInUseException');
  });

  it('keeps sequence numbers strictly increasing when both nodes append to one shard at once', async () => {
    await createStream(ca, 'both-write', 1);
    const write = async (client: KinesisClient, node: string) => {
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        const batch = Array.from({ length: 5 }, (_, j) => ({ PartitionKey: 'same', Data: Buffer.from(`${node}-${i}-${j}`) }));
        const r = await client.send(new PutRecordsCommand({ StreamName: 'both-write', Records: batch }));
        assert.equal(r.FailedRecordCount, 0, JSON.stringify(r.Records!.filter((e) => e.ErrorCode)));
        out.push(...r.Records!.map((e) => e.SequenceNumber!));
      }
      return out;
    };
    const [fromA, fromB] = await Promise.all([write(ca, 'a'), write(cb, 'b')]);
    const acknowledged = new Set([...fromA, ...fromB]);
    assert.equal(acknowledged.size, 400, 'every acknowledged record has its own sequence number');
    const records = (await drain(ca, await getIterator(ca, 'both-write', shardId(0), 'TRIM_HORIZON'))).records;
    assert.equal(records.length, 400);
    strictlyIncreasing(records);
    assert.deepEqual(new Set(records.map((r) => r.SequenceNumber)), acknowledged);
    // Each node's own records keep the order in which it wrote them.
    for (const node of ['a', 'b']) {
      const mine = records.map((r) => Buffer.from(r.Data!).toString()).filter((t) => t.startsWith(`${node}-`));
      const expected = Array.from({ length: 40 }, (_, i) => Array.from({ length: 5 }, (_, j) => `${node}-${i}-${j}`)).flat();
      assert.deepEqual(mine, expected);
    }
  });

  it('runs the background work on one node only', async () => {
    await eventually(async () => {
      const held = [a.kinesis.lease.held, b.kinesis.lease.held];
      assert.equal(held.filter(Boolean).length, 1, `exactly one holder: ${held}`);
    }, 10_000);
  });
});
