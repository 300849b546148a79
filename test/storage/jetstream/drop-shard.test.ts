import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import {
  connectJetStream,
  createJetStreamLogStore,
  type JetStreamConnection,
  type JetStreamLogStore,
} from '../../../src/storage/jetstream/index.js';
import { shardStreamName, trimKey } from '../../../src/storage/jetstream/names.js';
import { skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.js';

const rec = (data: string) => ({ partitionKey: 'k', data: Buffer.from(data) });

describe('JetStream dropShard', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  let conns: JetStreamConnection[];
  let stores: JetStreamLogStore[];

  before(async () => {
    nats = await startNatsServer();
    conns = [await connectJetStream({ servers: [nats.url], replicas: 0 }), await connectJetStream({ servers: [nats.url], replicas: 0 })];
    stores = [await createJetStreamLogStore(conns[0]!), await createJetStreamLogStore(conns[1]!)];
  });

  after(async () => {
    for (const store of stores ?? []) await store.close();
    for (const conn of conns ?? []) await conn.close();
    await nats?.destroy();
  });

  async function exists(store: JetStreamLogStore, key: string, index: number): Promise<boolean> {
    try {
      await store.ctx.jsm.streams.info(shardStreamName(store.ctx.prefix, key, index));
      return true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10059) return false;
      throw err;
    }
  }

  test('deletes the shard’s JetStream stream and trim point, and nothing else', async () => {
    const [store] = stores as [JetStreamLogStore];
    const key = `drop~${process.pid}-a`;
    const gone = await store.open(key, 0);
    const kept = await store.open(key, 1);
    await gone.append([rec('old')], 1);
    await gone.trim(2);
    await kept.append([rec('kept')], 1);
    assert.equal((await store.ctx.shardState.get(trimKey(key, 0)))?.operation, 'PUT');
    await store.dropShard(key, 0);
    assert.equal(await exists(store, key, 0), false);
    assert.notEqual((await store.ctx.shardState.get(trimKey(key, 0)))?.operation, 'PUT');
    assert.equal(await exists(store, key, 1), true);
    assert.equal(kept.nextOffset, 1);
    await assert.rejects(gone.append([rec('v')], 3), /closed/);
    await store.dropShard(key, 0);
    await store.dropShard(key, 9);
    await assert.rejects(store.dropShard(key, -1), RangeError);
  });

  test('two nodes dropping the same shard at once both succeed', async () => {
    const [a, b] = stores as [JetStreamLogStore, JetStreamLogStore];
    const key = `drop~${process.pid}-b`;
    await (await a.open(key, 0)).append([rec('v')], 1);
    await b.open(key, 0);
    await Promise.all([a.dropShard(key, 0), b.dropShard(key, 0)]);
    assert.equal(await exists(a, key, 0), false);
  });
});
