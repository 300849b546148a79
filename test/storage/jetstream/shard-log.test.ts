import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JetStreamManager } from '@nats-io/jetstream';
import {
  connectJetStream,
  createJetStreamLogStore,
  JetStreamLogStore,
  type JetStreamConnection,
} from '../../../src/storage/jetstream/index.js';
import type { RecordInput, ShardLog, StoredRecord } from '../../../src/storage/types.js';
import { skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.js';

function rec(partitionKey: string, data: string | Buffer): RecordInput {
  return { partitionKey, data: typeof data === 'string' ? Buffer.from(data) : data };
}

async function readAll(log: ShardLog, from = 0, per = 1000): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (let at = from; ; ) {
    const r = await log.read(at, per, 64 * 1024 * 1024);
    if (r.records.length === 0) return out;
    out.push(...r.records);
    at = r.nextOffset;
  }
}

let counter = 0;
function streamKey(): string {
  return `test.stream~${process.pid}-${counter++}`;
}

describe('JetStream shard log', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  let conn: JetStreamConnection;
  let store: JetStreamLogStore;

  before(async () => {
    nats = await startNatsServer();
    conn = await connectJetStream({ servers: [nats.url], replicas: 0 });
    store = await createJetStreamLogStore(conn);
  });

  after(async () => {
    await store?.close();
    await conn?.close();
    await nats?.destroy();
  });

  test('a single server gets one replica', () => {
    assert.equal(conn.replicas, 1);
  });

  test('appends and reads round trip with contiguous offsets', async () => {
    const log = await store.open(streamKey(), 0);
    assert.equal(log.nextOffset, 0);
    assert.equal(log.startOffset, 0);
    assert.equal(log.lastTimestamp, undefined);
    assert.deepEqual(await log.read(0, 10, 1000), { records: [], nextOffset: 0, bytes: 0 });

    const a = await log.append([rec('k1', 'one'), rec('k2', 'two')], 1000);
    assert.deepEqual(a, { firstOffset: 0, timestamp: 1000 });
    // An earlier arrival time never makes the log go back in time.
    const b = await log.append([rec('k3', Buffer.alloc(0))], 900);
    assert.deepEqual(b, { firstOffset: 2, timestamp: 1000 });
    const c = await log.append([rec('ключ', Buffer.from([0, 1, 2, 255]))], 2000);
    assert.deepEqual(c, { firstOffset: 3, timestamp: 2000 });
    assert.equal(log.nextOffset, 4);
    assert.equal(log.lastTimestamp, 2000);

    const all = await readAll(log);
    assert.deepEqual(
      all.map((r) => [r.offset, r.timestamp, r.partitionKey, r.data.toString('hex')]),
      [
        [0, 1000, 'k1', Buffer.from('one').toString('hex')],
        [1, 1000, 'k2', Buffer.from('two').toString('hex')],
        [2, 1000, 'k3', ''],
        [3, 2000, 'ключ', '000102ff'],
      ],
    );
    // Reads start anywhere, honour maxRecords, and maxBytes but always return one record.
    const mid = await log.read(1, 2, 1_000_000);
    assert.deepEqual(
      mid.records.map((r) => r.offset),
      [1, 2],
    );
    assert.equal(mid.nextOffset, 3);
    assert.equal(mid.bytes, 'k2'.length + 3 + 'k3'.length);
    const tight = await log.read(0, 10, 1);
    assert.deepEqual(
      tight.records.map((r) => r.offset),
      [0],
    );
    assert.equal(tight.nextOffset, 1);
    assert.deepEqual(await log.read(4, 10, 1000), { records: [], nextOffset: 4, bytes: 0 });
  });

  test('concurrent appends complete in call order with contiguous offsets', async () => {
    const log = await store.open(streamKey(), 3);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.append([rec(`p${i}`, `a${i}`), rec(`p${i}`, `b${i}`)], 5000 + i)),
    );
    results.forEach((r, i) => assert.equal(r.firstOffset, 2 * i));
    const all = await readAll(log, 0, 37);
    assert.equal(all.length, 400);
    all.forEach((r, i) => {
      assert.equal(r.offset, i);
      assert.equal(r.data.toString(), `${i % 2 === 0 ? 'a' : 'b'}${Math.floor(i / 2)}`);
      assert.equal(r.timestamp, 5000 + Math.floor(i / 2));
    });
  });

  test('offsetAtTimestamp and timestampAt', async () => {
    const log = await store.open(streamKey(), 1);
    assert.equal(await log.offsetAtTimestamp(0), 0);
    for (let i = 0; i < 50; i++) await log.append([rec('k', `r${i}`), rec('k', `s${i}`)], 10_000 + 100 * i);
    // Appends racing each other share messages; timestamps inside one message differ.
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append([rec('k', `t${i}`)], 20_000 + i)));
    assert.equal(await log.offsetAtTimestamp(0), 0);
    assert.equal(await log.offsetAtTimestamp(10_000), 0);
    assert.equal(await log.offsetAtTimestamp(10_001), 2);
    assert.equal(await log.offsetAtTimestamp(10_100), 2);
    assert.equal(await log.offsetAtTimestamp(12_450), 50);
    assert.equal(await log.offsetAtTimestamp(14_900), 98);
    assert.equal(await log.offsetAtTimestamp(14_901), 100);
    assert.equal(await log.offsetAtTimestamp(20_007), 107);
    assert.equal(await log.offsetAtTimestamp(20_019), 119);
    assert.equal(await log.offsetAtTimestamp(20_020), 120);
    assert.equal(log.nextOffset, 120);
    assert.equal(await log.timestampAt(0), 10_000);
    assert.equal(await log.timestampAt(51), 12_500);
    assert.equal(await log.timestampAt(110), 20_010);
    assert.equal(await log.timestampAt(120), undefined);
    assert.equal(await log.timestampAt(-1), undefined);
  });

  test('trim moves startOffset, purges old messages, and keeps the offset counter', async () => {
    const key = streamKey();
    const log = await store.open(key, 0);
    for (let i = 0; i < 10; i++) await log.append([rec('k', `r${i}`), rec('k', `s${i}`)], 1000 * (i + 1));
    await log.trim(3500);
    assert.equal(log.startOffset, 6);
    assert.equal(await log.timestampAt(5), undefined);
    assert.equal(await log.timestampAt(6), 4000);
    const r = await log.read(0, 3, 1_000_000);
    assert.deepEqual(
      r.records.map((x) => x.offset),
      [6, 7, 8],
    );
    assert.equal(await log.offsetAtTimestamp(0), 6);
    // Trimming never moves back.
    await log.trim(1000);
    assert.equal(log.startOffset, 6);
    const info = await store.ctx.jsm.streams.info(log.name);
    assert.equal(info.state.first_seq, 4);
    // Everything expires; the next append still continues the offsets.
    await log.trim(1_000_000);
    assert.equal(log.startOffset, 20);
    assert.deepEqual(await log.read(0, 10, 1000), { records: [], nextOffset: 20, bytes: 0 });
    assert.deepEqual(await log.append([rec('k', 'late')], 2_000_000), { firstOffset: 20, timestamp: 2_000_000 });
    assert.deepEqual(
      (await readAll(log)).map((x) => x.offset),
      [20],
    );
    await log.close();
    const reopened = await store.open(key, 0);
    assert.equal(reopened.startOffset, 20);
    assert.equal(reopened.nextOffset, 21);
  });

  test('the trim point survives a reopen even inside a message', async () => {
    const key = streamKey();
    const log = await store.open(key, 0);
    await Promise.all([log.append([rec('k', 'a')], 1000), log.append([rec('k', 'b')], 2000), log.append([rec('k', 'c')], 3000)]);
    await log.trim(2500);
    assert.equal(log.startOffset, 2);
    await log.close();
    const reopened = await store.open(key, 0);
    assert.equal(reopened.startOffset, 2);
    assert.deepEqual(
      (await readAll(reopened)).map((x) => x.data.toString()),
      ['c'],
    );
  });

  test('two handles appending to one shard stay contiguous and ordered', async () => {
    const key = streamKey();
    const other = await connectJetStream({ servers: [nats.url], replicas: 0 });
    try {
      const otherStore = await createJetStreamLogStore(other);
      const a = await store.open(key, 0);
      const b = await otherStore.open(key, 0);
      const n = 150;
      const writes: Promise<{ firstOffset: number; timestamp: number }>[] = [];
      for (let i = 0; i < n; i++) {
        writes.push(a.append([rec('a', `a${i}.0`), rec('a', `a${i}.1`)], 1000 + i));
        writes.push(b.append([rec('b', `b${i}.0`), rec('b', `b${i}.1`), rec('b', `b${i}.2`)], 1000 + i));
      }
      const results = await Promise.all(writes);
      const all = await readAll(a);
      assert.equal(all.length, n * 5);
      all.forEach((r, i) => assert.equal(r.offset, i));
      for (let i = 1; i < all.length; i++) assert.ok(all[i].timestamp >= all[i - 1].timestamp, 'timestamps never go back');
      // Each append is contiguous, at the offset it was told, and each handle's appends keep call order.
      const byOffset = new Map(all.map((r) => [r.offset, r.data.toString()]));
      let lastA = -1;
      let lastB = -1;
      results.forEach((r, j) => {
        const i = Math.floor(j / 2);
        const isA = j % 2 === 0;
        const size = isA ? 2 : 3;
        for (let k = 0; k < size; k++) assert.equal(byOffset.get(r.firstOffset + k), `${isA ? 'a' : 'b'}${i}.${k}`);
        if (isA) {
          assert.ok(r.firstOffset > lastA);
          lastA = r.firstOffset;
        } else {
          assert.ok(r.firstOffset > lastB);
          lastB = r.firstOffset;
        }
      });
      assert.ok(a.stats.conflicts + b.stats.conflicts > 0, 'the handles raced');
      // Each handle sees the other's records.
      assert.equal((await readAll(b)).length, n * 5);
      assert.equal(b.nextOffset, n * 5);
      await otherStore.close();
    } finally {
      await other.close();
    }
  });

  test('a handle reads on after another one trimmed and purged', async () => {
    const key = streamKey();
    const other = await connectJetStream({ servers: [nats.url], replicas: 0 });
    try {
      const otherStore = await createJetStreamLogStore(other);
      const a = await store.open(key, 0);
      for (let i = 0; i < 10; i++) await a.append([rec('k', `r${i}`)], 1000 * (i + 1));
      assert.equal((await a.read(0, 2, 1000)).records.length, 2);
      const b = await otherStore.open(key, 0);
      await b.trim(5500);
      assert.equal(b.startOffset, 5);
      // `a` still believes offset 0 is readable; the purge is found and the read starts after it.
      const r = await a.read(0, 3, 1000);
      assert.deepEqual(
        r.records.map((x) => x.offset),
        [5, 6, 7],
      );
      assert.equal(a.startOffset, 5);
      await otherStore.close();
    } finally {
      await other.close();
    }
  });

  test('a read of an empty shard sees the first message stored while it asks for the tail', async () => {
    const key = streamKey();
    // The reader's questions for the newest message go to the real server; once armed, the next
    // answer is held back until another handle has stored the shard's first message. The reader
    // then hears "no message" although the stream has one by the time it looks at its state.
    let beforeAnswer: (() => Promise<void>) | undefined;
    const leader = store.ctx.leaderJsm;
    const streams = new Proxy(leader.streams, {
      get(target, prop, receiver) {
        if (prop !== 'getMessage') return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<typeof target.getMessage>) => {
          const answer = await target.getMessage(...args);
          const hook = beforeAnswer;
          beforeAnswer = undefined;
          await hook?.();
          return answer;
        };
      },
    });
    const leaderJsm = new Proxy(leader, {
      get: (target, prop, receiver) => (prop === 'streams' ? streams : Reflect.get(target, prop, receiver)),
    }) as JetStreamManager;
    const readerStore = new JetStreamLogStore({ ...store.ctx, leaderJsm });
    const writerStore = new JetStreamLogStore(store.ctx);
    try {
      const reader = await readerStore.open(key, 0);
      const writer = await writerStore.open(key, 0);
      assert.equal(reader.nextOffset, 0);
      let stored = false;
      beforeAnswer = async () => {
        await writer.append([rec('k', 'first')], 1000);
        stored = true;
      };
      const r = await reader.read(0, 10, 1000);
      assert.ok(stored, 'the append landed between the question and the answer');
      assert.deepEqual(
        r.records.map((x) => [x.offset, x.data.toString()]),
        [[0, 'first']],
      );
      assert.equal(r.nextOffset, 1);
      assert.equal(reader.nextOffset, 1);
      // And the reader appends after it, not over it.
      assert.deepEqual(await reader.append([rec('k', 'second')], 2000), { firstOffset: 1, timestamp: 2000 });
      assert.deepEqual(
        (await readAll(writer)).map((x) => x.data.toString()),
        ['first', 'second'],
      );
    } finally {
      await readerStore.close();
      await writerStore.close();
    }
  });

  test('long stream keys get names the server accepts', async () => {
    const key = `${'a_b.'.repeat(32)}~deadbeef`;
    const log = await store.open(key, 12);
    assert.ok(log.name.length < 200, log.name);
    await log.append([rec('k', 'v')], 1);
    assert.equal((await readAll(log)).length, 1);
    await store.dropStream(key);
  });

  test('reopens after a restart of Tributary and of nats-server', async () => {
    const key = streamKey();
    const log = await store.open(key, 2);
    for (let i = 0; i < 30; i++) await log.append([rec(`k${i}`, `v${i}`)], 7000 + i);
    await store.close();
    await conn.close();
    await nats.stop();
    await nats.restart();
    conn = await connectJetStream({ servers: [nats.url], replicas: 0 });
    store = await createJetStreamLogStore(conn);
    const reopened = await store.open(key, 2);
    assert.equal(reopened.nextOffset, 30);
    assert.equal(reopened.startOffset, 0);
    assert.equal(reopened.lastTimestamp, 7029);
    assert.deepEqual(
      (await readAll(reopened, 0, 7)).map((r) => `${r.offset}:${r.partitionKey}:${r.data}`),
      Array.from({ length: 30 }, (_, i) => `${i}:k${i}:v${i}`),
    );
    assert.equal(await reopened.offsetAtTimestamp(7015), 15);
    assert.deepEqual(await reopened.append([rec('k', 'more')], 1), { firstOffset: 30, timestamp: 7029 });
  });

  test('dropStream removes every shard of a stream and only those', async () => {
    const key = streamKey();
    const keep = streamKey();
    const logs = await Promise.all([store.open(key, 0), store.open(key, 1), store.open(keep, 0)]);
    for (const log of logs) await log.append([rec('k', 'v')], 1);
    await logs[0].trim(2);
    await store.dropStream(key);
    const names: string[] = [];
    for await (const name of store.ctx.jsm.streams.names()) names.push(name);
    assert.ok(!names.includes(logs[0].name) && !names.includes(logs[1].name));
    assert.ok(names.includes(logs[2].name));
    const fresh = await store.open(key, 0);
    assert.equal(fresh.nextOffset, 0);
    assert.equal(fresh.startOffset, 0);
  });

  test('keeps the sealed flag of records', async () => {
    const log = await store.open(streamKey(), 0);
    const sealed = { ...rec('k', 'envelope'), sealed: true };
    await log.append([sealed, sealed], 1);
    await log.append([rec('k', 'plain')], 2);
    const records = (await readAll(log)) as (StoredRecord & { sealed?: boolean })[];
    assert.deepEqual(
      records.map((r) => r.sealed === true),
      [true, true, false],
    );
  });

  test('rejects appends larger than the server accepts', async () => {
    const log = await store.open(streamKey(), 0);
    await assert.rejects(log.append([rec('k', Buffer.alloc(17 * 1024 * 1024))], 1), /max_payload/);
    await assert.rejects(log.append([], 1), RangeError);
    assert.deepEqual(await log.append([rec('k', Buffer.alloc(4 * 1024 * 1024, 7))], 1), { firstOffset: 0, timestamp: 1 });
    const [r] = (await log.read(0, 1, 1)).records;
    assert.equal(r.data.length, 4 * 1024 * 1024);
  });
});
