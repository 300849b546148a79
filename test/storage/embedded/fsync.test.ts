import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import { logOptions, readAll, rec, withTempDir } from './helpers.js';

test("fsync 'always': an append resolves after an fdatasync, and appends made together share it", () =>
  withTempDir(async (dir) => {
    const synced: string[] = [];
    const store = createEmbeddedLogStore(dir, logOptions({ fsync: 'always' }), { onSync: (path) => synced.push(path) });
    const log = await store.open('s', 0);
    await log.append([rec('k', 'one')], 1);
    assert.equal(log.stats.syncs, 1);
    assert.equal(synced.length, 1);
    assert.match(synced[0], /00000000000000000000\.log$/);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append([rec('k', String(i))], 2)));
    assert.equal(log.stats.syncs, 2, 'ten appends made in one go are written and synced once');
    assert.equal(log.stats.writes, 2);
    await store.close();
  }));

test("fsync 'interval': appends resolve after the write, and a timer syncs soon after", () =>
  withTempDir(async (dir) => {
    let onSync = () => {};
    const store = createEmbeddedLogStore(dir, logOptions({ fsync: 'interval', fsyncIntervalMs: 5 }), {
      onSync: () => onSync(),
    });
    const log = await store.open('s', 0);
    const synced = new Promise<void>((resolve) => (onSync = resolve));
    await log.append([rec('k', 'v')], 1);
    assert.equal(log.stats.syncs, 0, 'resolved without waiting for fdatasync');
    assert.equal((await log.read(0, 10, 1e9)).records.length, 1);
    // The log's timer is unref'd, as it should be in a server; hold the loop open meanwhile.
    const keepAlive = setTimeout(() => {}, 10_000);
    await synced;
    clearTimeout(keepAlive);
    assert.equal(log.stats.syncs, 1);
    onSync = () => {};
    await store.close();
    assert.equal(log.stats.syncs, 2, 'close syncs as well');
  }));

test("fsync 'never': no fdatasync until close, and the data is there after reopening", () =>
  withTempDir(async (dir) => {
    const options = logOptions({ fsync: 'never', segmentBytes: 300 });
    const log = await createEmbeddedLogStore(dir, options).open('s', 0);
    for (let i = 0; i < 20; i++) await log.append([rec('k', `v${i}`)], i);
    assert.ok(log.stats.rolls > 0);
    assert.equal(log.stats.syncs, 0);
    await log.close();
    assert.equal(log.stats.syncs, 1);
    const reopened = await createEmbeddedLogStore(dir, options).open('s', 0);
    assert.deepEqual((await readAll(reopened)).map((r) => r.data.toString()), Array.from({ length: 20 }, (_, i) => `v${i}`));
    await reopened.close();
  }));

test("rolling a segment syncs it first in 'interval' mode", () =>
  withTempDir(async (dir) => {
    const synced: string[] = [];
    const store = createEmbeddedLogStore(dir, logOptions({ fsync: 'interval', fsyncIntervalMs: 60_000, segmentBytes: 100 }), {
      onSync: (path) => synced.push(path),
    });
    const log = await store.open('s', 0);
    await log.append([rec('k', 'x'.repeat(80))], 1);
    await log.append([rec('k', 'y'.repeat(80))], 2);
    assert.equal(log.stats.rolls, 1);
    assert.equal(synced.length, 1);
    assert.match(synced[0], /00000000000000000000\.log$/);
    await store.close();
  }));
