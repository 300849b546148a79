import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MetricRow } from '../../../src/storage/catalog.js';
import { SqliteCatalog } from '../../../src/storage/embedded/catalog.js';
import { connectJetStream, JetStreamCatalog, type JetStreamConnection } from '../../../src/storage/jetstream/index.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { skipWithoutNats, startNatsCluster, startNatsServer, type NatsServer } from './nats-server.js';

const M = 29_000_000;

function row(stream: string, shard: number, minute: number, name: string, sum: number, count: number, max: number): MetricRow {
  return { stream, shard, minute, name, sum, count, max };
}

describe('JetStream catalog metrics', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  const conns: JetStreamConnection[] = [];
  let n = 0;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    for (const c of conns) await c.close();
    await nats?.destroy();
  });

  /** Two catalog handles on their own connections, as two nodes of a cluster with one prefix. */
  async function twoNodes(prefix = `MET${n++}`): Promise<[JetStreamCatalog, JetStreamCatalog]> {
    const a = await connectJetStream({ servers: [nats.url], replicas: 0, prefix });
    const b = await connectJetStream({ servers: [nats.url], replicas: 0, prefix });
    conns.push(a, b);
    return [await JetStreamCatalog.open(a), await JetStreamCatalog.open(b)];
  }

  test('rows of several nodes for the same minute and name are combined', async () => {
    const [a, b] = await twoNodes();
    await a.appendMetrics([
      row('s~1', -1, M, 'IncomingBytes', 100, 2, 60),
      row('s~1', -1, M, 'IncomingRecords', 2, 2, 1),
      row('s~1', 0, M, 'IncomingBytes', 100, 2, 60),
      row('s~1', -1, M + 1, 'IncomingBytes', 5, 1, 5),
      row('other~1', -1, M, 'IncomingBytes', 7, 1, 7),
    ]);
    await b.appendMetrics([row('s~1', -1, M, 'IncomingBytes', 40, 3, 90), row('s~1', 0, M, 'IncomingBytes', 1, 1, 1)]);
    // The same node flushing the same minute again adds to it too.
    await b.appendMetrics([row('s~1', -1, M, 'IncomingBytes', 10, 1, 10)]);
    const expected = [
      row('s~1', -1, M, 'IncomingBytes', 150, 6, 90),
      row('s~1', -1, M, 'IncomingRecords', 2, 2, 1),
      row('s~1', 0, M, 'IncomingBytes', 101, 3, 60),
      row('s~1', -1, M + 1, 'IncomingBytes', 5, 1, 5),
    ];
    assert.deepEqual(await a.readMetrics('s~1', M, M + 1), expected);
    assert.deepEqual(await b.readMetrics('s~1', M, M + 1), expected);
    assert.deepEqual(await b.readMetrics('s~1', M + 1, M + 5), [row('s~1', -1, M + 1, 'IncomingBytes', 5, 1, 5)]);
    assert.deepEqual(await a.readMetrics('s~1', M + 2, M + 5), []);
    assert.deepEqual(await a.readMetrics('other~1', 0, M + 5), [row('other~1', -1, M, 'IncomingBytes', 7, 1, 7)]);
    assert.deepEqual(await a.readMetrics('none~1', 0, M + 5), []);
  });

  test('reads the same rows as the SQLite catalog', async () => {
    const [a, b] = await twoNodes();
    const dir = tempDir();
    const sqlite = new SqliteCatalog(`${dir}/catalog.db`);
    try {
      const names = ['IncomingBytes', 'GetRecords.Latency', 'WriteProvisionedThroughputExceeded'];
      const batches: MetricRow[][] = [[], [], []];
      let i = 0;
      for (let minute = M; minute < M + 6; minute++) {
        for (const shard of [-1, 0, 1, 2]) {
          for (const name of names) {
            i++;
            batches[i % 3]!.push(row('cmp~1', shard, minute, name, i * 1.5, (i % 4) + 1, i % 7));
            batches[(i + 1) % 3]!.push(row('cmp~1', shard, minute, name, i, 1, (i * 3) % 11));
          }
        }
      }
      for (const [k, batch] of batches.entries()) {
        await (k % 2 === 0 ? a : b).appendMetrics(batch);
        await sqlite.appendMetrics(batch);
      }
      assert.deepEqual(await a.readMetrics('cmp~1', M + 1, M + 4), await sqlite.readMetrics('cmp~1', M + 1, M + 4));
      assert.deepEqual(await b.readMetrics('cmp~1', M, M + 10), await sqlite.readMetrics('cmp~1', M, M + 10));
    } finally {
      await sqlite.close();
      removeDir(dir);
    }
  });

  test('stream keys that subjects cannot hold as they are', async () => {
    const [a, b] = await twoNodes();
    const dotted = 'a.b*c >d~1';
    const long = `${'x.'.repeat(120)}~1`;
    await a.appendMetrics([row(dotted, -1, M, 'IncomingBytes', 1, 1, 1), row(long, -1, M, 'IncomingBytes', 2, 1, 2)]);
    await b.appendMetrics([row(dotted, -1, M, 'IncomingBytes', 3, 1, 3)]);
    assert.deepEqual(await b.readMetrics(dotted, M, M), [row(dotted, -1, M, 'IncomingBytes', 4, 2, 3)]);
    assert.deepEqual(await a.readMetrics(long, M, M), [row(long, -1, M, 'IncomingBytes', 2, 1, 2)]);
    assert.deepEqual(await a.readMetrics('a.b~1', M, M), []);
  });

  test('an append larger than a message is split and read back whole', async () => {
    const [a, b] = await twoNodes();
    const rows: MetricRow[] = [];
    // About 2 MB of rows for one stream and minute: more than one message holds.
    for (let shard = 0; shard < 40_000; shard++) rows.push(row('big~1', shard, M, 'IncomingBytes', shard, 1, shard));
    await a.appendMetrics(rows);
    await b.appendMetrics(rows.slice(0, 10));
    const got = await b.readMetrics('big~1', M, M);
    assert.equal(got.length, 40_000);
    assert.deepEqual(got[3], row('big~1', 3, M, 'IncomingBytes', 6, 2, 3));
    assert.deepEqual(got[39_999], row('big~1', 39_999, M, 'IncomingBytes', 39_999, 1, 39_999));
  });

  test('deleteMetricsBefore removes older minutes for every node, also when nodes delete at once', async () => {
    const [a, b] = await twoNodes();
    for (let minute = M; minute < M + 10; minute++) {
      await a.appendMetrics([row('d~1', -1, minute, 'IncomingBytes', 1, 1, 1), row('e~1', 0, minute, 'IncomingBytes', 1, 1, 1)]);
      await b.appendMetrics([row('d~1', -1, minute, 'IncomingBytes', 2, 1, 2)]);
    }
    await Promise.all([a.deleteMetricsBefore(M + 4), b.deleteMetricsBefore(M + 4)]);
    const left = await b.readMetrics('d~1', 0, M + 100);
    assert.deepEqual(
      left.map((r) => [r.minute - M, r.sum, r.count]),
      [4, 5, 6, 7, 8, 9].map((m) => [m, 3, 2]),
    );
    assert.deepEqual(
      (await a.readMetrics('e~1', 0, M + 100)).map((r) => r.minute - M),
      [4, 5, 6, 7, 8, 9],
    );
    // The next cuts purge only the minutes passed since the last one, whoever deleted before.
    await a.deleteMetricsBefore(M + 5);
    await b.deleteMetricsBefore(M + 7);
    await a.deleteMetricsBefore(M + 7);
    assert.deepEqual(
      (await a.readMetrics('d~1', 0, M + 100)).map((r) => r.minute - M),
      [7, 8, 9],
    );
    // A cut that goes back deletes nothing more.
    await b.deleteMetricsBefore(M);
    assert.deepEqual(
      (await b.readMetrics('e~1', 0, M + 100)).map((r) => r.minute - M),
      [7, 8, 9],
    );
  });

  test('a row written late for a minute already deleted is removed by a later sweep', async () => {
    const [a] = await twoNodes();
    await a.appendMetrics([row('late~1', -1, M + 1, 'IncomingBytes', 1, 1, 1)]);
    await a.deleteMetricsBefore(M + 2);
    await a.appendMetrics([row('late~1', -1, M + 1, 'IncomingBytes', 1, 1, 1), row('late~1', -1, M + 70, 'IncomingBytes', 1, 1, 1)]);
    await a.deleteMetricsBefore(M + 3);
    assert.deepEqual(
      (await a.readMetrics('late~1', 0, M + 100)).map((r) => r.minute - M),
      [1, 70],
    );
    // An hour of cuts later the whole stream is listed again.
    await a.deleteMetricsBefore(M + 62);
    assert.deepEqual(
      (await a.readMetrics('late~1', 0, M + 100)).map((r) => r.minute - M),
      [70],
    );
  });

  test('metrics outlive the server and the nodes restarting', async () => {
    const prefix = `MET${n++}`;
    const [a, b] = await twoNodes(prefix);
    await a.appendMetrics([row('r~1', -1, M, 'IncomingBytes', 10, 1, 10)]);
    await b.appendMetrics([row('r~1', -1, M, 'IncomingBytes', 20, 1, 20)]);
    await nats.stop();
    await nats.restart();
    const conn = await connectJetStream({ servers: [nats.url], replicas: 0, prefix });
    conns.push(conn);
    const c = await JetStreamCatalog.open(conn);
    assert.deepEqual(await c.readMetrics('r~1', M, M), [row('r~1', -1, M, 'IncomingBytes', 30, 2, 20)]);
    await c.appendMetrics([row('r~1', -1, M, 'IncomingBytes', 5, 1, 5)]);
    assert.deepEqual(await c.readMetrics('r~1', M, M), [row('r~1', -1, M, 'IncomingBytes', 35, 3, 20)]);
  });
});

describe('JetStream catalog metrics on a three-server cluster', { skip: skipWithoutNats() }, () => {
  test('nodes on different servers read each other\'s rows from the replicated stream', async () => {
    const cluster = await startNatsCluster(3);
    const conns: JetStreamConnection[] = [];
    try {
      for (const url of cluster.urls) conns.push(await connectJetStream({ servers: [url], replicas: 0, prefix: 'RC' }));
      assert.equal(conns[0]!.replicas, 3);
      // JetStream elects the meta leader and the streams' leaders a little after the servers start.
      const nodes: JetStreamCatalog[] = [];
      for (const c of conns) nodes.push(await eventually(() => JetStreamCatalog.open(c)));
      await eventually(() => nodes[0]!.appendMetrics([row('c~1', -1, M, 'IncomingBytes', 1, 1, 1)]));
      for (let i = 1; i <= 5; i++) {
        await nodes[i % 3]!.appendMetrics([row('c~1', -1, M, 'IncomingBytes', 1, 1, 1 + i)]);
        for (const node of nodes) {
          assert.deepEqual(await node.readMetrics('c~1', M, M), [row('c~1', -1, M, 'IncomingBytes', 1 + i, 1 + i, 1 + i)]);
        }
      }
      await nodes[2]!.deleteMetricsBefore(M + 1);
      for (const node of nodes) assert.deepEqual(await node.readMetrics('c~1', M, M), []);
    } finally {
      for (const c of conns) await c.close();
      await cluster.destroy();
    }
  });
});

async function eventually<T>(fn: () => Promise<T>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
