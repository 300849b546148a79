import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import { logOptions, readAll, rec, withTempDir } from './helpers.js';

test('dropShard closes one shard’s log and deletes its directory only', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const gone = await store.open('s', 0);
    const kept = await store.open('s', 1);
    await gone.append([rec('k', 'old')], 1);
    await kept.append([rec('k', 'kept')], 1);
    await store.dropShard('s', 0);
    assert.deepEqual(await readdir(join(dir, 's')), ['1']);
    await assert.rejects(gone.append([rec('k', 'v')], 2), /closed/);
    assert.deepEqual((await readAll(kept)).map((r) => r.data.toString()), ['kept']);
    // Idempotent, and fine for a shard that never had a log.
    await store.dropShard('s', 0);
    await store.dropShard('s', 7);
    await store.dropShard('never-opened', 0);
    assert.equal(existsSync(join(dir, 's', '0')), false);
    await store.close();
    await assert.rejects(store.dropShard('', 0), TypeError);
    await assert.rejects(store.dropShard('s', -1), RangeError);
    await assert.rejects(store.dropShard('s', 1.5), RangeError);
  }));

test('dropShard waits for a log being opened; an open after it starts an empty log', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    await (await store.open('s', 0)).append([rec('k', 'v')], 1);
    await store.close();
    const opening = store.open('s', 0);
    const drop = store.dropShard('s', 0);
    const reopened = store.open('s', 0);
    const [first] = await Promise.all([opening, drop]);
    await assert.rejects(first.append([rec('k', 'v')], 2), /closed/);
    const fresh = await reopened;
    assert.notEqual(fresh, first);
    assert.equal(fresh.nextOffset, 0);
    assert.deepEqual(await readAll(fresh), []);
    await store.close();
  }));

test('a store started on a directory without a dropped shard does not bring it back', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    await (await store.open('s', 0)).append([rec('k', 'v')], 1);
    await (await store.open('s', 1)).append([rec('k', 'v')], 1);
    await store.dropShard('s', 0);
    await store.close();
    const again = createEmbeddedLogStore(dir, logOptions());
    assert.equal((await again.open('s', 1)).nextOffset, 1);
    assert.deepEqual(await readdir(join(dir, 's')), ['1']);
    await again.close();
  }));
