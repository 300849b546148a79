import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CatalogConflictError, updateStream, type Catalog, type StreamMeta } from '../../../src/storage/catalog.js';
import { SqliteCatalog } from '../../../src/storage/embedded/catalog.js';
import { connectJetStream, JetStreamCatalog, type JetStreamConnection } from '../../../src/storage/jetstream/index.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.js';

function meta(key: string, name: string, retentionHours = 24): StreamMeta {
  return {
    key,
    name,
    createdAt: 1,
    status: 'ACTIVE',
    mode: 'PROVISIONED',
    retentionHours,
    encryptionType: 'NONE',
    shardLevelMetrics: [],
    maxRecordSizeKiB: 1024,
    recordDistribution: 'USER_PARTITION_KEY',
    tags: {},
    shards: [{ index: 0, startingHashKey: '0', endingHashKey: '1', createdAt: 1 }],
  };
}

/** The contract both catalogs keep. */
function contract(open: () => Promise<Catalog>): void {
  test('stream documents and settings', async () => {
    const c = await open();
    assert.deepEqual(await c.loadStreams(), []);
    await c.putStream(meta('b~1', 'b'));
    await c.putStream(meta('a.x~2', 'a.x'));
    await c.putStream({ ...meta('b~1', 'b'), retentionHours: 48 });
    assert.deepEqual(
      (await c.loadStreams()).map((s) => [s.name, s.retentionHours]),
      [
        ['a.x', 24],
        ['b', 48],
      ],
    );
    await c.deleteStream('b~1');
    assert.deepEqual(
      (await c.loadStreams()).map((s) => s.key),
      ['a.x~2'],
    );
    assert.equal(await c.getStream('b~1'), undefined);
    assert.equal(await c.getSetting('iterator-secret'), undefined);
    await c.putSetting('iterator-secret', 's1');
    await c.putSetting('iterator-secret', 's2');
    assert.equal(await c.getSetting('iterator-secret'), 's2');
  });

  test('compare-and-set on revisions', async () => {
    const c = await open();
    const r1 = await c.putStreamIf(meta('cas~1', 'cas'), 0);
    await assert.rejects(c.putStreamIf(meta('cas~1', 'cas'), 0), CatalogConflictError);
    const got = await c.getStream('cas~1');
    assert.equal(got?.revision, r1);
    const r2 = await c.putStreamIf({ ...meta('cas~1', 'cas'), retentionHours: 30 }, r1);
    assert.ok(r2 > r1);
    await assert.rejects(c.putStreamIf({ ...meta('cas~1', 'cas'), retentionHours: 40 }, r1), CatalogConflictError);
    assert.equal((await c.getStream('cas~1'))?.value.retentionHours, 30);
    // A plain write also moves the revision on.
    await c.putStream({ ...meta('cas~1', 'cas'), retentionHours: 50 });
    await assert.rejects(c.putStreamIf(meta('cas~1', 'cas'), r2), CatalogConflictError);

    const s1 = await c.putSettingIf('account', '{"a":1}', 0);
    await assert.rejects(c.putSettingIf('account', '{"a":2}', 0), CatalogConflictError);
    const s2 = await c.putSettingIf('account', '{"a":2}', s1);
    assert.deepEqual(await c.getSettingRevisioned('account'), { value: '{"a":2}', revision: s2 });
    await assert.rejects(c.putSettingIf('account', '{"a":3}', s1), CatalogConflictError);
  });

  test('concurrent read-modify-writes lose no update', async () => {
    const c = await open();
    await c.putStream({ ...meta('count~1', 'count'), tags: {} });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateStream(c, 'count~1', (current) => current && { ...current, tags: { ...current.tags, [`t${i}`]: String(i) } }),
      ),
    );
    assert.equal(Object.keys((await c.getStream('count~1'))!.value.tags).length, 20);
  });
}

describe('SQLite catalog', () => {
  const dirs: string[] = [];
  const catalogs: Catalog[] = [];
  after(async () => {
    for (const c of catalogs) await c.close();
    for (const d of dirs) removeDir(d);
  });
  contract(async () => {
    const dir = tempDir();
    dirs.push(dir);
    const c = new SqliteCatalog(`${dir}/catalog.sqlite`);
    catalogs.push(c);
    return c;
  });
});

describe('JetStream catalog', { skip: skipWithoutNats() }, () => {
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
  // Each test gets its own bucket, through its own prefix.
  contract(async () => {
    const conn = await connectJetStream({ servers: [nats.url], replicas: 0, prefix: `CAT${n++}` });
    conns.push(conn);
    return JetStreamCatalog.open(conn);
  });

  test('two nodes share one catalog', async () => {
    const a = await connectJetStream({ servers: [nats.url], replicas: 0, prefix: 'SHARED' });
    const b = await connectJetStream({ servers: [nats.url], replicas: 0, prefix: 'SHARED' });
    conns.push(a, b);
    const ca = await JetStreamCatalog.open(a);
    const cb = await JetStreamCatalog.open(b);
    await ca.putStream(meta('s~1', 's'));
    const rev = (await cb.getStream('s~1'))!.revision;
    await cb.putStreamIf({ ...meta('s~1', 's'), retentionHours: 99 }, rev);
    await assert.rejects(ca.putStreamIf(meta('s~1', 's'), rev), CatalogConflictError);
    assert.equal((await ca.loadStreams())[0].retentionHours, 99);
  });
});
