import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putEntries, type PutEntry } from '../../src/kinesis/records.js';
import { splitShard } from '../../src/kinesis/resharding.js';
import { appendToShard } from '../../src/kinesis/shard-writes.js';
import { ManualClock } from '../../src/util/clock.js';
import { HASH_KEY_MAX, wholeSecond } from '../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The key that splits the whole space in two. */
const MIDDLE = (HASH_KEY_MAX + 1n) / 2n;

function entries(n: number, tag: string, hashKey: bigint): PutEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    Data: Buffer.from(`${tag}-${i}`),
    PartitionKey: 'k',
    ExplicitHashKey: (hashKey + BigInt(i)).toString(),
  }));
}

describe('writes racing with the close of a shard', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ fsync: 'never', updateStreamDelayMs: 0 }, { clock });
  });
  after(() => server.destroy());

  async function stream(name: string) {
    await server.kinesis.createStream({ name, shardCount: 1, mode: 'PROVISIONED' });
    clock.advance(1000);
    return server.kinesis.resolve({ StreamName: name });
  }

  it('lets an append already handed to the log finish in the parent, before its end', async () => {
    const k = server.kinesis;
    const s = await stream('in-flight');
    await putEntries(k, s, entries(3, 'first', 0n)); // opens the log
    // putEntries hands its append to the open log synchronously; the split then seals the shard.
    const racing = putEntries(k, s, entries(50, 'racing', 0n));
    await splitShard(k, { StreamName: 'in-flight', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: MIDDLE.toString() });
    const results = await racing;
    const parent = s.shard(0)!;
    assert.equal(parent.meta.endOffset, 53, 'the end offset counts the append that was in flight');
    assert.ok(results.every((r) => r.shard.index === 0), 'the records landed in the parent');
    const after = await putEntries(k, s, entries(2, 'after', 0n));
    assert.deepEqual(
      after.map((r) => r.shard.index),
      [1, 1],
      'later records go to the child',
    );
    assert.equal((await k.log(s, parent)).nextOffset, 53, 'nothing was appended to the parent after its end');
  });

  it('routes a put that reached the shard after it began closing to a child', async () => {
    const k = server.kinesis;
    const s = await stream('routed-again');
    // The log is not open yet: the put waits for it (file I/O) while the split shuts the shard.
    const racing = putEntries(k, s, [...entries(5, 'low', 0n), ...entries(5, 'high', MIDDLE)]);
    await splitShard(k, { StreamName: 'routed-again', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: MIDDLE.toString() });
    const results = await racing;
    assert.deepEqual(
      results.map((r) => r.shard.id),
      [...Array(5).fill('shardId-000000000001'), ...Array(5).fill('shardId-000000000002')],
    );
    const parent = s.shard(0)!;
    assert.equal(parent.meta.endOffset, 0);
    assert.equal((await k.log(s, parent)).nextOffset, 0, 'the parent took no record');
    const low = await (await k.log(s, s.shard(1)!)).read(0, 100, 1 << 20);
    assert.deepEqual(
      low.records.map((r) => r.data.toString()),
      ['low-0', 'low-1', 'low-2', 'low-3', 'low-4'],
    );
  });

  it('refuses an append through a stale view of a closed shard', async () => {
    const k = server.kinesis;
    const s = await stream('stale');
    const stale = s.shard(0)!;
    await putEntries(k, s, entries(1, 'x', 0n));
    await splitShard(k, { StreamName: 'stale', ShardToSplit: '0', NewStartingHashKey: MIDDLE.toString() });
    const appended = await appendToShard(k, s, stale, [{ partitionKey: 'k', data: Buffer.from('late') }], clock.now());
    assert.equal(appended, undefined);
    assert.equal((await k.log(s, stale)).nextOffset, 1);
  });
});
