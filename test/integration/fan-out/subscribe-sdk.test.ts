import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { OffsetClock } from '../../../src/util/clock.js';
import { eventually, registerActive, SdkSubscription } from '../../helpers/fan-out.js';
import { createStream, shardId } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** Sequence numbers are compared as integers. */
function increasing(records: readonly _Record[]): boolean {
  for (let i = 1; i < records.length; i++) {
    if (BigInt(records[i]!.SequenceNumber!) <= BigInt(records[i - 1]!.SequenceNumber!)) return false;
  }
  return true;
}

const records = (sub: SdkSubscription) => sub.events.flatMap((e) => e.Records ?? []);

describe('SubscribeToShard with @aws-sdk/client-kinesis', () => {
  const clock = new OffsetClock();
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0, subscriptionHeartbeatMs: 200 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  it('receives every record in order, as it is written, while a producer writes', async () => {
    await createStream(client, 'sdk-live', 1);
    const arn = await registerActive(client, 'sdk-live', 'app');
    const sub = await SdkSubscription.open(client, arn, shardId(0), { Type: 'LATEST' });
    const first = await sub.next();
    assert.deepEqual(first.Records, [], 'the first event at the tip is empty');
    assert.ok(first.ContinuationSequenceNumber, 'and carries a continuation number');
    assert.equal(first.MillisBehindLatest, 0);

    const sent: string[] = [];
    for (let batch = 0; batch < 30; batch++) {
      const entries = Array.from({ length: 10 }, (_, i) => `r-${batch * 10 + i}`);
      sent.push(...entries);
      await client.send(
        new PutRecordsCommand({ StreamName: 'sdk-live', Records: entries.map((t) => ({ PartitionKey: 'k', Data: Buffer.from(t) })) }),
      );
      if (batch % 3 === 0) {
        const single = `single-${batch}`;
        sent.push(single);
        await client.send(new PutRecordCommand({ StreamName: 'sdk-live', PartitionKey: 'k', Data: Buffer.from(single) }));
      }
    }
    await sub.until(() => sub.texts().length >= sent.length, 10_000, 'every record');
    assert.deepEqual(sub.texts(), sent);
    const got = records(sub);
    assert.ok(increasing(got), 'sequence numbers increase');
    for (const e of sub.events) {
      assert.equal(typeof e.MillisBehindLatest, 'number');
      if ((e.Records ?? []).length > 0) {
        assert.equal(e.ContinuationSequenceNumber, e.Records!.at(-1)!.SequenceNumber, 'continuation = last record');
      }
      assert.equal(e.ChildShards, undefined);
    }
    for (const r of got) {
      assert.equal(r.PartitionKey, 'k');
      assert.ok(r.ApproximateArrivalTimestamp instanceof Date);
      assert.ok(Math.abs(r.ApproximateArrivalTimestamp.getTime() - clock.now()) < 60_000);
    }
    assert.equal(server.kinesis.fanOut.count, 1);
    sub.close();
    await eventually(() => server.kinesis.fanOut.count === 0, 5_000, 'the subscription to be released');
  });

  it('resumes from ContinuationSequenceNumber (AFTER_SEQUENCE_NUMBER) with no gap and no duplicate', async () => {
    await createStream(client, 'sdk-resume', 1);
    const arn = await registerActive(client, 'sdk-resume', 'app');
    const all = Array.from({ length: 200 }, (_, i) => `m-${i}`);
    const put = (from: number, to: number) =>
      client.send(
        new PutRecordsCommand({
          StreamName: 'sdk-resume',
          Records: all.slice(from, to).map((t) => ({ PartitionKey: String(t.length), Data: Buffer.from(t) })),
        }),
      );
    await put(0, 50);
    const one = await SdkSubscription.open(client, arn, shardId(0), { Type: 'TRIM_HORIZON' });
    await one.until(() => one.texts().length >= 50, 10_000, 'the first 50');
    await put(50, 120);
    await one.until(() => one.texts().length >= 80, 10_000, 'some more');
    // What the first subscription delivered up to the event whose continuation we keep.
    const seen = one.events.slice();
    one.close();
    let cut = seen.length - 1;
    while (!seen[cut]!.ContinuationSequenceNumber) cut--;
    const continuation = seen[cut]!.ContinuationSequenceNumber!;
    const before = seen.slice(0, cut + 1).flatMap((e) => (e.Records ?? []).map((r) => Buffer.from(r.Data!).toString()));
    await put(120, 200);

    // A new subscription for the same consumer and shard is accepted 5 s after the last one.
    clock.advance(5_000);
    const two = await SdkSubscription.open(client, arn, shardId(0), {
      Type: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: continuation,
    });
    await two.until(() => before.length + two.texts().length >= all.length, 10_000, 'the rest');
    assert.deepEqual([...before, ...two.texts()], all, 'no gap, no duplicate');
    assert.ok(BigInt(records(two)[0]!.SequenceNumber!) > BigInt(continuation));
    assert.ok(increasing(records(two)));
    two.close();
  });

  it('delivers the whole stream to each of several consumers', async () => {
    await createStream(client, 'sdk-many', 2);
    const names = ['alpha', 'beta', 'gamma', 'delta'];
    const arns = await Promise.all(names.map((n) => registerActive(client, 'sdk-many', n)));
    const subs: SdkSubscription[][] = [];
    for (const arn of arns) {
      subs.push(
        await Promise.all([0, 1].map((s) => SdkSubscription.open(client, arn, shardId(s), { Type: 'TRIM_HORIZON' }))),
      );
    }
    assert.equal(server.kinesis.fanOut.count, 8);
    const sent: Array<{ text: string; shard: string; seq: string }> = [];
    for (let i = 0; i < 20; i++) {
      const entries = Array.from({ length: 10 }, (_, j) => `pk-${i}-${j}`);
      const r = await client.send(
        new PutRecordsCommand({ StreamName: 'sdk-many', Records: entries.map((t) => ({ PartitionKey: t, Data: Buffer.from(t) })) }),
      );
      r.Records!.forEach((e, j) => sent.push({ text: entries[j]!, shard: e.ShardId!, seq: e.SequenceNumber! }));
    }
    const byShard = (s: string) => sent.filter((x) => x.shard === s).sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    for (const [c, pair] of subs.entries()) {
      for (const [s, sub] of pair.entries()) {
        const expected = byShard(shardId(s));
        await sub.until(() => sub.texts().length >= expected.length, 10_000, `${names[c]} on shard ${s}`);
        assert.deepEqual(sub.texts(), expected.map((x) => x.text), `${names[c]} gets all of shard ${s}, in order`);
        assert.deepEqual(records(sub).map((r) => r.SequenceNumber), expected.map((x) => x.seq));
      }
    }
    for (const pair of subs) for (const sub of pair) sub.close();
    await eventually(() => server.kinesis.fanOut.count === 0, 5_000, 'all subscriptions to be released');
  });

  it(
    'follows ChildShards after a split: the parent ends with the children, which carry on',
    async () => {
      await createStream(client, 'sdk-split', 1);
      const arn = await registerActive(client, 'sdk-split', 'app');
      const parent = await SdkSubscription.open(client, arn, shardId(0), { Type: 'TRIM_HORIZON' });
      for (let i = 0; i < 20; i++) {
        await client.send(new PutRecordCommand({ StreamName: 'sdk-split', PartitionKey: `p${i}`, Data: Buffer.from(`before-${i}`) }));
      }
      await parent.until(() => parent.texts().length >= 20, 10_000, 'records before the split');
      const half = ((1n << 128n) / 2n).toString();
      await client.send(new SplitShardCommand({ StreamName: 'sdk-split', ShardToSplit: shardId(0), NewStartingHashKey: half }));
      await parent.until(() => parent.ended, 15_000, 'the parent subscription to end');
      const last = parent.events.at(-1)!;
      assert.equal(last.ContinuationSequenceNumber, undefined, 'the last event has no continuation number');
      assert.deepEqual(
        last.ChildShards!.map((c) => [c.ShardId, c.ParentShards]).sort(),
        [
          [shardId(1), [shardId(0)]],
          [shardId(2), [shardId(0)]],
        ],
      );
      assert.equal(parent.error, undefined, 'the stream ends cleanly');
      assert.deepEqual(parent.texts(), Array.from({ length: 20 }, (_, i) => `before-${i}`));
      for (const e of parent.events.slice(0, -1)) assert.equal(e.ChildShards, undefined, 'only the last event names children');

      const shards = (await client.send(new ListShardsCommand({ StreamName: 'sdk-split' }))).Shards!;
      assert.ok(shards.some((s) => s.ShardId === shardId(1)));
      const children = await Promise.all(
        last.ChildShards!.map((c) => SdkSubscription.open(client, arn, c.ShardId!, { Type: 'TRIM_HORIZON' })),
      );
      const after = Array.from({ length: 40 }, (_, i) => `after-${i}`);
      for (const t of after) {
        await client.send(new PutRecordCommand({ StreamName: 'sdk-split', PartitionKey: t, Data: Buffer.from(t) }));
      }
      await eventually(() => children.reduce((n, c) => n + c.texts().length, 0) >= after.length, 10_000, 'records in the children');
      assert.deepEqual(children.flatMap((c) => c.texts()).sort(), [...after].sort());
      for (const c of children) c.close();
    },
  );
});
