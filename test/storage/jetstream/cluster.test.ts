import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectJetStream, createJetStreamLogStore, type JetStreamConnection, type JetStreamLogStore } from '../../../src/storage/jetstream/index.js';
import type { RecordInput } from '../../../src/storage/types.js';
import { freePort, skipWithoutNats, startNatsCluster, startNatsServer, type NatsCluster, type NatsServer } from './nats-server.js';

function rec(i: number): RecordInput {
  return { partitionKey: `k${i}`, data: Buffer.from(`v${i}`) };
}

/** Retries `fn` while the cluster elects its JetStream leaders. */
async function eventually<T>(fn: () => Promise<T>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(250);
    }
  }
}

describe('JetStream shard log on a 3-node cluster', { skip: skipWithoutNats() }, () => {
  let cluster: NatsCluster;
  let conn: JetStreamConnection;
  let store: JetStreamLogStore;

  before(async () => {
    cluster = await startNatsCluster(3);
    conn = await connectJetStream({ servers: cluster.urls, replicas: 3 });
    store = await eventually(() => createJetStreamLogStore(conn));
  });

  after(async () => {
    await store?.close();
    await conn?.close();
    await cluster?.destroy();
  });

  test('a cluster of three gets three replicas by default', async () => {
    const auto = await connectJetStream({ servers: [cluster.urls[0]], replicas: 0 });
    try {
      assert.equal(auto.replicas, 3);
    } finally {
      await auto.close();
    }
  });

  test('stores each append once when its acknowledgements come too late and it is resent while in flight', async () => {
    // An acknowledgement deadline shorter than a replicated store makes every append time out
    // and be resent under its message id while its first copy is still being replicated.
    const hasty = await createJetStreamLogStore(conn, { publishTimeoutMs: 1 });
    try {
      const log = await eventually(() => hasty.open('hasty~00000001', 0));
      for (let i = 0; i < 40; i++) {
        const r = await log.append([rec(2 * i), rec(2 * i + 1)], 1000 + i);
        assert.equal(r.firstOffset, 2 * i);
      }
      assert.ok(log.stats.resends > 0, `appends were resent (${JSON.stringify(log.stats)})`);
      const r = await log.read(0, 1000, 1 << 20);
      assert.deepEqual(
        r.records.map((x) => `${x.offset}:${x.data}`),
        Array.from({ length: 80 }, (_, i) => `${i}:v${i}`),
      );
    } finally {
      await hasty.close();
    }
  });

  test('replicates each shard three ways and keeps appending when its leader stops', async () => {
    const log = await eventually(() => store.open('clustered~00000001', 0));
    const info = await store.ctx.jsm.streams.info(log.name);
    assert.equal(info.config.num_replicas, 3);
    for (let i = 0; i < 50; i++) await log.append([rec(i)], 1000 + i);

    const leader = info.cluster?.leader;
    const index = cluster.names.indexOf(String(leader));
    assert.ok(index >= 0, `leader ${leader}`);
    await cluster.servers[index].stop();
    // The connection moves to another server; appends go on once a new leader is elected.
    for (let i = 50; i < 100; i++) await eventually(() => log.append([rec(i)], 1000 + i));
    const records = [];
    for (let at = 0; ; ) {
      const r = await eventually(() => log.read(at, 1000, 1 << 20));
      if (r.records.length === 0) break;
      records.push(...r.records);
      at = r.nextOffset;
    }
    assert.deepEqual(
      records.map((r) => `${r.offset}:${r.data}`),
      Array.from({ length: 100 }, (_, i) => `${i}:v${i}`),
    );
  });

});

describe('a connection made while a cluster forms', { skip: skipWithoutNats() }, () => {
  test('waits for the gossip of the other servers and chooses three replicas', async () => {
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const clusterPorts = [await freePort(), await freePort(), await freePort()];
    const member = (i: number) => ({ name: `f${i + 1}`, clusterPort: clusterPorts[i]!, routes: clusterPorts.filter((_, j) => j !== i) });
    const servers: NatsServer[] = [];
    try {
      servers.push(await startNatsServer(member(0), clientPorts[0]));
      // The first server is alone when the client connects; the others join a moment later.
      const connecting = connectJetStream({ servers: [servers[0]!.url], replicas: 0, prefix: 'FORMING' });
      servers.push(...(await Promise.all([startNatsServer(member(1), clientPorts[1]), startNatsServer(member(2), clientPorts[2])])));
      const conn = await connecting;
      try {
        assert.equal(conn.replicas, 3);
      } finally {
        await conn.close();
      }
    } finally {
      await Promise.all(servers.map((s) => s.destroy()));
    }
  });
});
