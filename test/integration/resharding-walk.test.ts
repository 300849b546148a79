import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type GetRecordsCommandOutput,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { getIterator, HASH_KEY_MAX, md5Hash, shardId, text } from '../helpers/kinesis.js';
import { assertTiles, isOpen, listAll } from '../helpers/resharding.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const STREAM = 'walk';
const SPACE = HASH_KEY_MAX + 1n;
const BUCKETS = 32;

/** One partition key in each 1/32 of the hash-key space, so every shard of every generation takes some. */
function spreadKeys(): string[] {
  const keys: (string | undefined)[] = new Array(BUCKETS).fill(undefined);
  for (let i = 0, found = 0; found < BUCKETS; i++) {
    const key = `key-${i}`;
    const bucket = Number((md5Hash(key) * BigInt(BUCKETS)) / SPACE);
    if (keys[bucket] === undefined) {
      keys[bucket] = key;
      found++;
    }
  }
  return keys as string[];
}

interface Ack {
  key: string;
  n: number;
  shard: string;
  seq: string;
}

interface ReadRecord {
  shard: string;
  key: string;
  payload: string;
  seq: string;
}

interface Walk {
  records: ReadRecord[];
  /** Shard ids in the order they were started. */
  started: string[];
  /** Shard ids in the order they were read to their end (closed) or to their tip (open). */
  finished: string[];
  /** The parents each child was announced with, by every parent that announced it. */
  announced: Map<string, string[][]>;
}

/**
 * Reads the whole stream from its oldest shards: each shard from TRIM_HORIZON, a closed one to the
 * end that names its children, an open one to its tip; a child starts only once every parent it was
 * announced with is finished. Among ready shards, `pick` takes the first or the last in line.
 */
async function walk(client: KinesisClient, pick: 'first' | 'last'): Promise<Walk> {
  const oldest = await listAll(client, { StreamName: STREAM, ShardFilter: { Type: 'AT_TRIM_HORIZON' } });
  const line = oldest.map((s) => s.ShardId!);
  const parents = new Map<string, string[]>();
  const announced = new Map<string, string[][]>();
  const records: ReadRecord[] = [];
  const started: string[] = [];
  const finished: string[] = [];
  const done = new Set<string>();
  while (line.length > 0) {
    const ready = line.filter((id) => (parents.get(id) ?? []).every((p) => done.has(p)));
    assert.ok(ready.length > 0, `no shard is ready among ${line.join(', ')}`);
    const shard = pick === 'first' ? ready[0]! : ready[ready.length - 1]!;
    line.splice(line.indexOf(shard), 1);
    started.push(shard);
    let iterator: string | undefined = await getIterator(client, STREAM, shard, 'TRIM_HORIZON');
    for (let calls = 0; ; calls++) {
      assert.ok(calls < 1000, `${shard} never ended`);
      const r: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 7 }));
      const got = r.Records ?? [];
      for (const rec of got) records.push({ shard, key: rec.PartitionKey!, payload: text(rec), seq: rec.SequenceNumber! });
      if (r.NextShardIterator === undefined) {
        assert.equal(got.length, 0, `the end of ${shard} comes with no records`);
        assert.ok(r.ChildShards && r.ChildShards.length > 0, `the end of ${shard} names its children`);
        for (const child of r.ChildShards) {
          const id = child.ShardId!;
          assert.ok(child.ParentShards!.includes(shard), `${id} names ${shard} among its parents`);
          (announced.get(id) ?? announced.set(id, []).get(id)!).push(child.ParentShards!);
          parents.set(id, child.ParentShards!);
          if (!line.includes(id) && !started.includes(id)) line.push(id);
        }
        break;
      }
      assert.equal(r.ChildShards, undefined, `ChildShards only at the end of a closed shard (${shard})`);
      iterator = r.NextShardIterator;
      if (got.length === 0 && r.MillisBehindLatest === 0) break;
    }
    done.add(shard);
    finished.push(shard);
  }
  return { records, started, finished, announced };
}

describe('reading a resharded stream by walking from its oldest shards through their children', () => {
  let server: TestServer;
  let client: KinesisClient;
  const keys = spreadKeys();
  const counters = new Map<string, number>(keys.map((k) => [k, 0]));
  const acks: Ack[] = [];
  const payload = (key: string, n: number) => `${key}#${n}`;

  /** One phase of writes: batches with every key twice (in a shuffled order), then single puts for some keys. */
  async function write(rounds: number): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      const order = [...keys, ...keys].sort((a, b) => md5Hash(`${a}/${round}/${acks.length}`) < md5Hash(`${b}/${round}/${acks.length}`) ? -1 : 1);
      const batch = order.map((key) => {
        const n = counters.get(key)!;
        counters.set(key, n + 1);
        return { key, n };
      });
      const r = await client.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: batch.map((b) => ({ PartitionKey: b.key, Data: Buffer.from(payload(b.key, b.n)) })),
        }),
      );
      assert.equal(r.FailedRecordCount, 0);
      r.Records!.forEach((e, i) => acks.push({ ...batch[i]!, shard: e.ShardId!, seq: e.SequenceNumber! }));
      for (const key of keys.filter((_, i) => i % 3 === round % 3)) {
        const n = counters.get(key)!;
        counters.set(key, n + 1);
        const p = await client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: key, Data: Buffer.from(payload(key, n)) }));
        acks.push({ key, n, shard: p.ShardId!, seq: p.SequenceNumber! });
      }
    }
  }

  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 0 });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 2 }));
    await write(3);
    // 0 = [0, H/2 - 1] splits into 2 and 3 at H/4; 1 = [H/2, max] into 4 and 5 at 3H/4.
    await client.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: shardId(0), NewStartingHashKey: (SPACE / 4n).toString() }));
    await client.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: shardId(1), NewStartingHashKey: ((SPACE / 4n) * 3n).toString() }));
    await write(3);
    // 3 = [H/4, H/2 - 1] and 4 = [H/2, 3H/4 - 1], children of different parents, merge into 6.
    await client.send(new MergeShardsCommand({ StreamName: STREAM, ShardToMerge: shardId(3), AdjacentShardToMerge: shardId(4) }));
    await write(3);
  });
  after(() => server.destroy());

  it('wrote to every shard of every generation, each key to the shard whose range holds its hash', async () => {
    const shards = await listAll(client, { StreamName: STREAM });
    assert.deepEqual(
      shards.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId, isOpen(s)]),
      [
        [shardId(0), undefined, undefined, false],
        [shardId(1), undefined, undefined, false],
        [shardId(2), shardId(0), undefined, true],
        [shardId(3), shardId(0), undefined, false],
        [shardId(4), shardId(1), undefined, false],
        [shardId(5), shardId(1), undefined, true],
        [shardId(6), shardId(3), shardId(4), true],
      ],
    );
    const byId = new Map<string, Shard>(shards.map((s) => [s.ShardId!, s]));
    for (const a of acks) {
      const range = byId.get(a.shard)!.HashKeyRange!;
      const h = md5Hash(a.key);
      assert.ok(BigInt(range.StartingHashKey!) <= h && h <= BigInt(range.EndingHashKey!), `${payload(a.key, a.n)} went to ${a.shard}`);
    }
    for (let i = 0; i <= 6; i++) assert.ok(acks.some((a) => a.shard === shardId(i)), `${shardId(i)} took writes`);
    assert.deepEqual(
      (await listAll(client, { StreamName: STREAM, ShardFilter: { Type: 'AT_TRIM_HORIZON' } })).map((s) => s.ShardId),
      [shardId(0), shardId(1)],
    );
    assertTiles(await listAll(client, { StreamName: STREAM, ShardFilter: { Type: 'AT_TRIM_HORIZON' } }), 'AT_TRIM_HORIZON');
  });

  for (const pick of ['first', 'last'] as const) {
    it(`reads every record exactly once and each key in order (taking the ${pick} ready shard)`, async () => {
      const w = await walk(client, pick);

      // Every shard is read, and none before all its parents were read to their end.
      assert.deepEqual([...w.started].sort(), [0, 1, 2, 3, 4, 5, 6].map(shardId));
      for (const [child, lists] of w.announced) {
        for (const parentsList of lists) assert.deepEqual(parentsList, lists[0], `every parent of ${child} announces the same parents`);
        for (const p of lists[0]!) {
          assert.ok(w.finished.indexOf(p) < w.started.indexOf(child), `${child} started after its parent ${p} finished`);
        }
        assert.equal(lists.length, lists[0]!.length, `each parent of ${child} announces it`);
      }
      assert.deepEqual(w.announced.get(shardId(6)), [
        [shardId(3), shardId(4)],
        [shardId(3), shardId(4)],
      ]);

      // Exactly once: the same records, with the numbers and shards they were acknowledged with.
      const ackBy = new Map(acks.map((a) => [payload(a.key, a.n), a]));
      const seen = new Set<string>();
      for (const r of w.records) {
        assert.ok(!seen.has(r.payload), `${r.payload} is read once`);
        seen.add(r.payload);
        const a = ackBy.get(r.payload);
        assert.ok(a, `${r.payload} was written`);
        assert.equal(r.key, a.key);
        assert.equal(r.seq, a.seq, `${r.payload} has the sequence number it was acknowledged with`);
        assert.equal(r.shard, a.shard, `${r.payload} is read from the shard it was written to`);
      }
      assert.equal(w.records.length, acks.length, 'nothing is missing');

      // Per key, the counters come back 0, 1, 2, ... with no gap and no reordering.
      const perKey = new Map<string, number[]>();
      for (const r of w.records) (perKey.get(r.key) ?? perKey.set(r.key, []).get(r.key)!).push(Number(r.payload.split('#')[1]));
      assert.equal(perKey.size, keys.length);
      for (const key of keys) {
        const want = Array.from({ length: counters.get(key)! }, (_, i) => i);
        assert.deepEqual(perKey.get(key), want, `${key} in order`);
      }
    });
  }
});
