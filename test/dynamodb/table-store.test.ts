import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteTableStore } from '../../src/storage/embedded/tables.js';
import { connectJetStream, type JetStreamConnection } from '../../src/storage/jetstream/store.js';
import { JetStreamTableStore } from '../../src/storage/jetstream/tables.js';
import { TableConflictError, type TableStore } from '../../src/storage/tables.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { skipWithoutNats, startNatsServer, type NatsServer } from '../storage/jetstream/nats-server.js';

/** What every engine's table store must do: compare-and-set by revision, ordered ranges, drops. */
function contract(open: () => Promise<TableStore>) {
  let store: TableStore;
  before(async () => {
    store = await open();
  });
  after(() => store.close());

  it('creates a table document once and updates it only at its revision', async () => {
    const doc = { id: 'id-1', name: 'leases', n: 1 };
    const r1 = await store.putTableIf(doc, 0);
    await assert.rejects(store.putTableIf(doc, 0), TableConflictError);
    const r2 = await store.putTableIf({ ...doc, n: 2 }, r1);
    await assert.rejects(store.putTableIf({ ...doc, n: 3 }, r1), TableConflictError);
    const got = await store.getTable('leases');
    assert.deepEqual(got, { value: { ...doc, n: 2 }, revision: r2 });
    assert.deepEqual((await store.listTables()).map((t) => t.name), ['leases']);
  });

  it('writes items by compare-and-set: one of two writers at a revision wins', async () => {
    const r1 = await store.putItemIf('id-1', 'aa', '{"v":1}', 0);
    await assert.rejects(store.putItemIf('id-1', 'aa', '{"v":9}', 0), TableConflictError);
    const results = await Promise.allSettled([store.putItemIf('id-1', 'aa', '{"v":2}', r1), store.putItemIf('id-1', 'aa', '{"v":3}', r1)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof TableConflictError));
    const item = await store.getItem('id-1', 'aa');
    assert.ok(item && (item.doc === '{"v":2}' || item.doc === '{"v":3}'));
    await assert.rejects(store.deleteItemIf('id-1', 'aa', r1), TableConflictError);
    await store.deleteItemIf('id-1', 'aa', item!.revision);
    assert.equal(await store.getItem('id-1', 'aa'), undefined);
    // Absent again: revision 0 creates it anew.
    await store.putItemIf('id-1', 'aa', '{"v":4}', 0);
  });

  it('lists items in key order, by prefix, after a key and up to a limit', async () => {
    for (const k of ['0b02', '0a', '0b01', 'ff', '0b']) await store.putItemIf('id-1', k, `"${k}"`, 0);
    await store.putItemIf('id-2', '00', '"other table"', 0);
    const keys = async (range?: Parameters<TableStore['items']>[1]) => (await store.items('id-1', range)).map((i) => i.key);
    assert.deepEqual(await keys(), ['0a', '0b', '0b01', '0b02', 'aa', 'ff']);
    assert.deepEqual(await keys({ prefix: '0b' }), ['0b', '0b01', '0b02']);
    assert.deepEqual(await keys({ after: '0b01' }), ['0b02', 'aa', 'ff']);
    assert.deepEqual(await keys({ prefix: '0b', after: '0b', limit: 1 }), ['0b01']);
    assert.equal(await store.countItems('id-1'), 6);
  });

  it('drops a table with its items and nothing else', async () => {
    await store.dropTable('leases', 'id-1');
    assert.equal(await store.getTable('leases'), undefined);
    assert.deepEqual(await store.items('id-1'), []);
    assert.equal(await store.countItems('id-2'), 1);
  });
}

// Each suite's own after hook follows the contract's, which closes the store first.
describe('embedded table store', () => {
  const dir = tempDir();
  contract(async () => new SqliteTableStore(path.join(dir, 'tables.sqlite')));
  after(() => removeDir(dir));
});

describe('JetStream table store', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  let conn: JetStreamConnection;
  before(async () => {
    nats = await startNatsServer();
    conn = await connectJetStream({ servers: [nats.url], replicas: 1, prefix: 'TABLES' });
  });
  contract(() => JetStreamTableStore.open(conn));
  after(async () => {
    await conn.close();
    await nats.destroy();
  });
});
