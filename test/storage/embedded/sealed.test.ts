import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_FORMAT, BATCH_FORMAT_SEALED, encodeBatch } from '../../../src/storage/embedded/format.js';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import { logOptions, readAll, rec, withTempDir } from './helpers.js';

test('a batch of sealed records is written as format 2, a plain one as format 1', () => {
  assert.equal(encodeBatch([rec('k', 'x')])[12], BATCH_FORMAT);
  assert.equal(encodeBatch([{ partitionKey: '', data: Buffer.from('env'), sealed: true }])[12], BATCH_FORMAT_SEALED);
});

test('sealed and plain batches share a log; reads say which records are sealed, also after reopening', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const log = await store.open('s', 0);
    await log.append([rec('a', 'one')], 1000);
    await log.append([{ partitionKey: '', data: Buffer.from('env-1'), sealed: true }, { partitionKey: '', data: Buffer.from('env-2'), sealed: true }], 1001);
    await log.append([rec('b', 'two')], 1002);
    const expected = [
      ['one', undefined],
      ['env-1', true],
      ['env-2', true],
      ['two', undefined],
    ];
    const shape = (records: Awaited<ReturnType<typeof readAll>>) => records.map((r) => [r.data.toString(), r.sealed]);
    assert.deepEqual(shape(await readAll(log)), expected);
    assert.deepEqual(shape((await log.read(2, 10, 1 << 20)).records), expected.slice(2), 'a read from inside a sealed batch');
    await store.close();
    const again = createEmbeddedLogStore(dir, logOptions());
    assert.deepEqual(shape(await readAll(await again.open('s', 0))), expected);
    await again.close();
    const segments = (await readdir(join(dir), { recursive: true })).filter((f) => String(f).endsWith('.log'));
    const bytes = await readFile(join(dir, String(segments[0])));
    assert.deepEqual([bytes[12], bytes[bytes.readUInt32LE(8) + 12]], [BATCH_FORMAT, BATCH_FORMAT_SEALED]);
  }));
