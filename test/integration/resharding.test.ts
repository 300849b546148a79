import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
  type PutRecordCommandOutput,
  type ShardFilter,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { evenHashRanges } from '../../src/util/hash-key.js';
import { ManualClock } from '../../src/util/clock.js';
import { getIterator, HASH_KEY_MAX, shardId, text, texts, wholeSecond } from '../helpers/kinesis.js';
import { assertTiles, describeShards, isOpen, listAll, readLineage, readToEnd } from '../helpers/resharding.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const HALF = (HASH_KEY_MAX + 1n) / 2n;

describe('resharding under a continuous put load', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ fsync: 'never', updateStreamDelayMs: 0 });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'load', ShardCount: 2 }));
  });
  after(() => server.destroy());

  it('loses no acknowledged record, and a parent’s records all precede its children’s', async () => {
    interface Ack {
      data: string;
      key: string;
      shard: string;
      seq: string;
    }
    const acks: Ack[] = [];
    let stop = false;
    const waiters: { count: number; resolve: () => void }[] = [];
    const reached = (count: number) =>
      new Promise<void>((resolve) => {
        if (acks.length >= count) resolve();
        else waiters.push({ count, resolve });
      });
    const producer = async (p: number) => {
      for (let batch = 0; !stop; batch++) {
        const records = Array.from({ length: 8 }, (_, i) => ({
          PartitionKey: `key-${p}-${i % 4}`,
          Data: Buffer.from(`${p}/${batch}/${i}`),
        }));
        const r = await client.send(new PutRecordsCommand({ StreamName: 'load', Records: records }));
        assert.equal(r.FailedRecordCount, 0);
        r.Records!.forEach((e, i) =>
          acks.push({ data: `${p}/${batch}/${i}`, key: records[i]!.PartitionKey, shard: e.ShardId!, seq: e.SequenceNumber! }),
        );
        for (const w of waiters.filter((x) => acks.length >= x.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    };
    const producers = Array.from({ length: 8 }, (_, p) => producer(p));
    await reached(400);
    await client.send(new SplitShardCommand({ StreamName: 'load', ShardToSplit: shardId(0), NewStartingHashKey: (HALF / 2n).toString() }));
    const afterSplit = acks.length;
    await reached(afterSplit + 400);
    // shardId-000000000003 is [H/4, H/2 - 1], next to shardId-000000000001 [H/2, max].
    await client.send(new MergeShardsCommand({ StreamName: 'load', ShardToMerge: shardId(3), AdjacentShardToMerge: shardId(1) }));
    const afterMerge = acks.length;
    await reached(afterMerge + 400);
    stop = true;
    await Promise.all(producers);

    const shards = await describeShards(client, 'load');
    assert.deepEqual(
      shards.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId, isOpen(s)]),
      [
        [shardId(0), undefined, undefined, false],
        [shardId(1), undefined, undefined, false],
        [shardId(2), shardId(0), undefined, true],
        [shardId(3), shardId(0), undefined, false],
        [shardId(4), shardId(3), shardId(1), true],
      ],
    );
    const byShard = new Map<string, Ack[]>();
    for (const a of acks) (byShard.get(a.shard) ?? byShard.set(a.shard, []).get(a.shard)!).push(a);
    for (const id of [0, 1, 2, 3, 4].map(shardId)) assert.ok(byShard.get(id)?.length, `${id} took acknowledged writes`);

    // Every acknowledged record is read back, once, from the shard and with the number it was acknowledged with.
    const read = await readLineage(client, 'load', [shardId(0), shardId(1)]);
    const found = new Map<string, _Record & { shard?: string }>();
    for (const r of read.records) {
      assert.ok(!found.has(text(r)), `${text(r)} is read once`);
      found.set(text(r), r);
    }
    assert.equal(found.size, acks.length, 'nothing more and nothing less than what was acknowledged');
    for (const a of acks) {
      const r = found.get(a.data);
      assert.ok(r, `acknowledged record ${a.data} is read back`);
      assert.equal(r.SequenceNumber, a.seq);
      assert.equal(r.PartitionKey, a.key);
    }
    // Within a shard, numbers follow acknowledgement order per key; across a reshard, parents come first.
    const seqOf = (id: string) => (byShard.get(id) ?? []).map((a) => BigInt(a.seq));
    for (const parent of shards.filter((s) => !isOpen(s))) {
      const ending = BigInt(parent.SequenceNumberRange!.EndingSequenceNumber!);
      const parentMax = seqOf(parent.ShardId!).reduce((m, x) => (x > m ? x : m), 0n);
      assert.ok(parentMax < ending, `${parent.ShardId}'s records precede its EndingSequenceNumber`);
      for (const child of shards.filter((s) => s.ParentShardId === parent.ShardId || s.AdjacentParentShardId === parent.ShardId)) {
        const childStart = BigInt(child.SequenceNumberRange!.StartingSequenceNumber!);
        assert.ok(childStart > ending, `${child.ShardId} starts after ${parent.ShardId} ends`);
        for (const x of seqOf(child.ShardId!)) assert.ok(x > parentMax, `${child.ShardId}'s records follow ${parent.ShardId}'s`);
      }
    }
    // Read in lineage order, each key's records come in the order they were acknowledged.
    const ackOrder = new Map<string, string[]>();
    for (const a of acks) (ackOrder.get(a.key) ?? ackOrder.set(a.key, []).get(a.key)!).push(a.data);
    const readOrder = new Map<string, string[]>();
    for (const r of read.records) (readOrder.get(r.PartitionKey!) ?? readOrder.set(r.PartitionKey!, []).get(r.PartitionKey!)!).push(text(r));
    assert.deepEqual(readOrder, ackOrder);
  });
});

describe('a split-then-merge topology (injected clock)', () => {
  const clock = new ManualClock(wholeSecond());
  const t0 = clock.now();
  let server: TestServer;
  let client: KinesisClient;
  const puts: Record<string, PutRecordCommandOutput> = {};
  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 0 }, { clock });
    client = server.client();
    const put = async (name: string, key: bigint) => {
      puts[name] = await client.send(
        new PutRecordCommand({ StreamName: 'topo', PartitionKey: name, ExplicitHashKey: key.toString(), Data: Buffer.from(name) }),
      );
    };
    await client.send(new CreateStreamCommand({ StreamName: 'topo', ShardCount: 2 }));
    await put('r0', 0n);
    await put('r1', HALF);
    clock.set(t0 + 10_000);
    // 0 = [0, H/2 - 1] splits into 2 = [0, H/4 - 1] and 3 = [H/4, H/2 - 1].
    await client.send(new SplitShardCommand({ StreamName: 'topo', ShardToSplit: shardId(0), NewStartingHashKey: (HALF / 2n).toString() }));
    await put('r2', 0n);
    await put('r3', HALF / 2n);
    await put('r4', HALF);
    clock.set(t0 + 20_000);
    // 3 and 1 merge into 4 = [H/4, max].
    await client.send(new MergeShardsCommand({ StreamName: 'topo', ShardToMerge: shardId(3), AdjacentShardToMerge: shardId(1) }));
    await put('r5', HALF / 2n);
    await put('r6', HASH_KEY_MAX);
    clock.set(t0 + 30_000);
  });
  after(() => server.destroy());

  const ids = async (filter?: ShardFilter) => (await listAll(client, { StreamName: 'topo', ShardFilter: filter })).map((s) => s.ShardId);
  const at = (ms: number) => new Date(t0 + ms);

  it('routed every record to the shard open for its key at the time', () => {
    assert.deepEqual(
      Object.entries(puts).map(([name, r]) => [name, r.ShardId]),
      [
        ['r0', shardId(0)],
        ['r1', shardId(1)],
        ['r2', shardId(2)],
        ['r3', shardId(3)],
        ['r4', shardId(1)],
        ['r5', shardId(4)],
        ['r6', shardId(4)],
      ],
    );
  });

  it('describes parents as closed, with EndingSequenceNumber, and children with their parents', async () => {
    const shards = await describeShards(client, 'topo');
    const quarter = (HALF / 2n).toString();
    assert.deepEqual(
      shards.map((s) => [
        s.ShardId,
        s.ParentShardId,
        s.AdjacentParentShardId,
        s.HashKeyRange!.StartingHashKey,
        s.HashKeyRange!.EndingHashKey,
        s.SequenceNumberRange!.EndingSequenceNumber !== undefined,
      ]),
      [
        [shardId(0), undefined, undefined, '0', (HALF - 1n).toString(), true],
        [shardId(1), undefined, undefined, HALF.toString(), HASH_KEY_MAX.toString(), true],
        [shardId(2), shardId(0), undefined, '0', (HALF / 2n - 1n).toString(), false],
        [shardId(3), shardId(0), undefined, quarter, (HALF - 1n).toString(), true],
        [shardId(4), shardId(3), shardId(1), quarter, HASH_KEY_MAX.toString(), false],
      ],
    );
  });

  it('lists exactly the right shards for every ShardFilter', async () => {
    assert.deepEqual(await ids(), [0, 1, 2, 3, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'FROM_TRIM_HORIZON' }), [0, 1, 2, 3, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TRIM_HORIZON' }), [0, 1].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_LATEST' }), [2, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'AFTER_SHARD_ID', ShardId: shardId(1) }), [2, 3, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: at(-HOUR) }), [0, 1].map(shardId), 'clamped to the trim horizon');
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: at(5_000) }), [0, 1].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: at(10_000) }), [0, 1].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: at(15_000) }), [1, 2, 3].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TIMESTAMP', Timestamp: at(25_000) }), [2, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'FROM_TIMESTAMP', Timestamp: at(5_000) }), [0, 1, 2, 3, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'FROM_TIMESTAMP', Timestamp: at(15_000) }), [1, 2, 3, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'FROM_TIMESTAMP', Timestamp: at(25_000) }), [2, 4].map(shardId));
  });

  it('tiles the hash range with every AT_ filter, at any instant', async () => {
    for (const type of ['AT_TRIM_HORIZON', 'AT_LATEST'] as const) {
      assertTiles(await listAll(client, { StreamName: 'topo', ShardFilter: { Type: type } }), type);
    }
    for (let ms = -1000; ms <= 30_000; ms += 250) {
      for (const t of [ms, ms + 1]) {
        const shards = await listAll(client, { StreamName: 'topo', ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: at(t) } });
        assertTiles(shards, `AT_TIMESTAMP t0 + ${t} ms`);
      }
    }
  });

  it('ends a parent with its children and no NextShardIterator, and the children follow in order', async () => {
    const end0 = await readToEnd(client, 'topo', shardId(0));
    assert.deepEqual(texts(end0.records), ['r0']);
    assert.deepEqual(end0.childShards.map((c) => [c.ShardId, c.ParentShards]), [
      [shardId(2), [shardId(0)]],
      [shardId(3), [shardId(0)]],
    ]);
    const end3 = await readToEnd(client, 'topo', shardId(3));
    assert.deepEqual(texts(end3.records), ['r3']);
    assert.deepEqual(end3.childShards.map((c) => [c.ShardId, c.ParentShards]), [[shardId(4), [shardId(3), shardId(1)]]]);
    const end1 = await readToEnd(client, 'topo', shardId(1), 1);
    assert.deepEqual(texts(end1.records), ['r1', 'r4']);
    assert.deepEqual(end1.childShards, end3.childShards, 'both parents of a merge name the same child');
    const all = await readLineage(client, 'topo', [shardId(0), shardId(1)]);
    assert.deepEqual(texts(all.records).sort(), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    assert.ok(all.order.indexOf(shardId(4)) > Math.max(all.order.indexOf(shardId(1)), all.order.indexOf(shardId(3))));
  });

  it('reports how long a closed shard has been closed as MillisBehindLatest at its end', async () => {
    // shardId-000000000000 closed 1 ms after the split request, at t0 + 10,001 ms.
    const end = await readToEnd(client, 'topo', shardId(0));
    assert.equal(end.millisBehindLatest, 30_000 - 10_001);
    const first = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'topo', shardId(0), 'TRIM_HORIZON') }));
    assert.equal(first.Records!.length, 1);
    assert.ok(first.NextShardIterator, 'the call that returns the last records still gives an iterator');
  });

  it('gives iterators on closed shards: LATEST at the end, AT_SEQUENCE_NUMBER, AT_TIMESTAMP', async () => {
    const latest = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'topo', shardId(1), 'LATEST') }));
    assert.deepEqual(latest.Records, []);
    assert.equal(latest.NextShardIterator, undefined);
    assert.deepEqual(latest.ChildShards!.map((c) => c.ShardId), [shardId(4)]);
    const atSeq = await client.send(
      new GetRecordsCommand({
        ShardIterator: await getIterator(client, 'topo', shardId(1), 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: puts.r4!.SequenceNumber }),
      }),
    );
    assert.deepEqual(texts(atSeq.Records!), ['r4']);
    const atTime = await client.send(
      new GetRecordsCommand({ ShardIterator: await getIterator(client, 'topo', shardId(1), 'AT_TIMESTAMP', { Timestamp: at(5_000) }) }),
    );
    assert.deepEqual(texts(atTime.Records!), ['r4']);
  });

  it('stops listing a closed shard once the retention period has passed since it closed', async () => {
    clock.set(t0 + 10_001 + 24 * HOUR);
    assert.deepEqual(await ids(), [0, 1, 2, 3, 4].map(shardId));
    clock.set(t0 + 10_002 + 24 * HOUR);
    assert.deepEqual(await ids(), [1, 2, 3, 4].map(shardId));
    assert.deepEqual((await describeShards(client, 'topo')).map((s) => s.ShardId), [1, 2, 3, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TRIM_HORIZON' }), [1, 2, 3].map(shardId));
    assertTiles(await listAll(client, { StreamName: 'topo', ShardFilter: { Type: 'AT_TRIM_HORIZON' } }));
    clock.set(t0 + 20_002 + 24 * HOUR);
    assert.deepEqual(await ids(), [2, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'AT_TRIM_HORIZON' }), [2, 4].map(shardId));
    assert.deepEqual(await ids({ Type: 'FROM_TIMESTAMP', Timestamp: at(0) }), [2, 4].map(shardId));
  });
});

describe('ON_DEMAND streams scaling themselves (injected clock)', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ fsync: 'never', updateStreamDelayMs: 0 }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'hot', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    await client.send(new CreateStreamCommand({ StreamName: 'warm', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    await client.send(new CreateStreamCommand({ StreamName: 'fixed', ShardCount: 4 }));
  });
  after(() => server.destroy());

  /** Writes `count` small records to shardId-000000000000 of a stream within the current clock second. */
  async function load(stream: string, count: number): Promise<void> {
    for (let sent = 0; sent < count; sent += 500) {
      const n = Math.min(500, count - sent);
      const records = Array.from({ length: n }, (_, i) => ({ PartitionKey: 'k', ExplicitHashKey: String(i), Data: Buffer.from('x') }));
      const r = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
      assert.equal(r.FailedRecordCount, 0);
    }
  }
  const open = async (stream: string) => (await listAll(client, { StreamName: stream, ShardFilter: { Type: 'AT_LATEST' } })).map((s) => s.ShardId);

  it('splits a shard written at 90% of its record limit for 60 s, and not one written at 70%', async () => {
    const width = evenHashRanges(4)[0]!;
    for (let second = 0; second < 60; second++) {
      await load('hot', 900);
      await load('warm', 700);
      await load('fixed', 900);
      clock.advance(1000);
      await server.kinesis.tick();
      if (second < 59) assert.deepEqual(await open('hot'), [0, 1, 2, 3].map(shardId), `still 4 shards after ${second + 1} s`);
    }
    assert.deepEqual(await open('hot'), [1, 2, 3, 4, 5].map(shardId));
    const shards = await describeShards(client, 'hot');
    const middle = width.start + (width.end - width.start + 1n) / 2n;
    assert.deepEqual(
      shards.filter((s) => s.ParentShardId !== undefined).map((s) => [s.ShardId, s.ParentShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]),
      [
        [shardId(4), shardId(0), '0', (middle - 1n).toString()],
        [shardId(5), shardId(0), middle.toString(), width.end.toString()],
      ],
    );
    const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'hot' }))).StreamDescriptionSummary!;
    assert.equal(summary.StreamStatus, 'ACTIVE');
    assert.equal(summary.OpenShardCount, 5);
    const end = await readToEnd(client, 'hot', shardId(0));
    assert.equal(end.records.length, 60 * 900, 'every record written before the split is in the parent');
    assert.deepEqual(await open('warm'), [0, 1, 2, 3].map(shardId), '70% of the limit is not enough');
    assert.deepEqual(await open('fixed'), [0, 1, 2, 3].map(shardId), 'PROVISIONED streams never split by themselves');
    await load('hot', 10);
    assert.deepEqual((await readToEnd(client, 'hot', shardId(0))).records.length, 60 * 900, 'new writes go to the children');
  });

  it('gives a child a window of its own before it can split again', async () => {
    for (let second = 0; second < 59; second++) {
      await load('hot', 900);
      clock.advance(1000);
      await server.kinesis.tick();
    }
    assert.deepEqual(await open('hot'), [1, 2, 3, 4, 5].map(shardId));
    await load('hot', 900);
    clock.advance(1000);
    await server.kinesis.tick();
    assert.deepEqual(await open('hot'), [1, 2, 3, 5, 6, 7].map(shardId));
  });
});

describe('resharding across a restart (injected clock)', () => {
  it('applies a resharding accepted before the restart, and keeps closed shards closed', async () => {
    const clock = new ManualClock(wholeSecond());
    const dataDir = tempDir();
    const options = { createStreamDelayMs: 1000, updateStreamDelayMs: 1000 };
    try {
      let server = await startTestServer(options, { clock, dataDir });
      let client = server.client();
      await client.send(new CreateStreamCommand({ StreamName: 'again', ShardCount: 2 }));
      clock.advance(1000);
      await client.send(new PutRecordCommand({ StreamName: 'again', PartitionKey: 'a', ExplicitHashKey: '0', Data: Buffer.from('before') }));
      await client.send(new SplitShardCommand({ StreamName: 'again', ShardToSplit: shardId(0), NewStartingHashKey: '1000' }));
      await server.destroy();

      server = await startTestServer(options, { clock, dataDir });
      client = server.client();
      const status = async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'again' }))).StreamDescriptionSummary!;
      assert.equal((await status()).StreamStatus, 'UPDATING');
      assert.equal((await status()).OpenShardCount, 2);
      clock.advance(1000);
      assert.equal((await status()).StreamStatus, 'ACTIVE');
      assert.equal((await status()).OpenShardCount, 3);
      await server.destroy();

      server = await startTestServer(options, { clock, dataDir });
      client = server.client();
      const end = await readToEnd(client, 'again', shardId(0));
      assert.deepEqual(texts(end.records), ['before']);
      assert.deepEqual(end.childShards.map((c) => c.ShardId), [shardId(2), shardId(3)]);
      const r = await client.send(new PutRecordCommand({ StreamName: 'again', PartitionKey: 'a', ExplicitHashKey: '0', Data: Buffer.from('after') }));
      assert.equal(r.ShardId, shardId(2));
      await server.destroy();
    } finally {
      removeDir(dataDir);
    }
  });
});
