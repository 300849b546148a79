import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import { logOptions, readAll, rec, withTempDir } from './helpers.js';

test('opening a shard twice, even at once, gives the same log', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const [a, b] = await Promise.all([store.open('s', 0), store.open('s', 0)]);
    assert.equal(a, b);
    assert.equal(await store.open('s', 0), a);
    const other = await store.open('s', 1);
    assert.notEqual(other, a);
    await a.append([rec('k', 'in shard 0')], 1);
    assert.equal(other.nextOffset, 0);
    assert.deepEqual((await readdir(join(dir, 's'))).sort(), ['0', '1']);
    await store.close();
  }));

test('stream keys become single, distinct directory names', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const keys = ['..', '.', 'a/b', 'a%2Fb', 'arn:aws:kinesis:us-east-1:000000000000:stream/x', 'ünï'];
    for (const [i, key] of keys.entries()) await (await store.open(key, 0)).append([rec('k', key)], i);
    const names = await readdir(dir);
    assert.equal(names.length, keys.length);
    for (const name of names) assert.ok(!name.includes('/') && name !== '.' && name !== '..');
    for (const key of keys) assert.equal((await readAll(await store.open(key, 0)))[0].data.toString(), key);
    await store.close();
    await assert.rejects(store.open('', 0), TypeError);
    await assert.rejects(store.open('s', -1), RangeError);
  }));

test('dropStream closes the stream’s logs and deletes its directory', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const log0 = await store.open('gone', 0);
    const log1 = await store.open('gone', 1);
    const kept = await store.open('kept', 0);
    await log0.append([rec('k', 'v')], 1);
    await log1.append([rec('k', 'v')], 1);
    await kept.append([rec('k', 'v')], 1);
    await store.dropStream('gone');
    assert.equal(existsSync(join(dir, 'gone')), false);
    await assert.rejects(log0.append([rec('k', 'v')], 2), /closed/);
    const fresh = await store.open('gone', 0);
    assert.notEqual(fresh, log0);
    assert.equal(fresh.nextOffset, 0);
    assert.equal(kept.nextOffset, 1);
    await store.dropStream('never-opened');
    await store.close();
  }));

test('close() closes every log; opening again reads what was written', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const log = await store.open('s', 0);
    const pending = log.append([rec('k', 'last')], 1);
    await store.close();
    await pending;
    await assert.rejects(log.read(0, 1, 1), /closed/);
    const again = await store.open('s', 0);
    assert.notEqual(again, log);
    assert.equal((await readAll(again))[0].data.toString(), 'last');
    await store.close();
  }));

test('a log closed on its own is replaced on the next open, once it has closed', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const log = await store.open('s', 0);
    const pending = log.append([rec('k', 'before close')], 1);
    const closing = log.close();
    const again = await store.open('s', 0);
    assert.notEqual(again, log);
    await closing;
    await pending;
    assert.deepEqual((await readAll(again)).map((r) => r.data.toString()), ['before close']);
    await store.close();
  }));

test('bad options are refused', () => {
  assert.throws(() => createEmbeddedLogStore('/nowhere', logOptions({ segmentBytes: 0 })), RangeError);
  assert.throws(() => createEmbeddedLogStore('/nowhere', logOptions({ fsync: 'sometimes' as never })), RangeError);
  assert.throws(() => createEmbeddedLogStore('/nowhere', logOptions({ fsync: 'interval', fsyncIntervalMs: 0 })), RangeError);
});
