/**
 * The background-work lease against a real catalog (the embedded one: the lease uses only the
 * Catalog interface's compare-and-set settings).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteCatalog } from '../../../src/storage/embedded/catalog.js';
import { CatalogLease } from '../../../src/storage/jetstream/lease.js';
import { removeDir, tempDir } from '../../helpers/server.js';

async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('CatalogLease', () => {
  const dir = tempDir();
  const catalog = new SqliteCatalog(path.join(dir, 'catalog.sqlite'));
  after(async () => {
    await catalog.close();
    removeDir(dir);
  });

  it('is held by one holder at a time, renewed, and handed over at once when released', async () => {
    const changes: string[] = [];
    // A term far longer than the renewal interval: a busy machine delaying one renewal must not end it.
    const options = { renewMs: 20, expireAfterMs: 5_000 };
    const a = new CatalogLease(catalog, 'lease.test-1', 'a', { ...options, onChange: (held) => changes.push(`a:${held}`) });
    const b = new CatalogLease(catalog, 'lease.test-1', 'b', { ...options, onChange: (held) => changes.push(`b:${held}`) });
    await a.start();
    await b.start();
    assert.equal(a.held, true);
    assert.equal(b.held, false);
    const first = await catalog.getSettingRevisioned('lease.test-1');
    await until(() => changes.length > 0 && a.held);
    await sleep(100);
    // Renewals are writes others can see; the second node never takes a lease that is renewed.
    const later = await catalog.getSettingRevisioned('lease.test-1');
    assert.ok(later!.revision > first!.revision, 'the holder renews');
    assert.equal(JSON.parse(later!.value).holder, 'a');
    assert.equal(b.held, false);

    await a.stop();
    assert.equal(a.held, false);
    await until(() => b.held, 1_000);
    assert.equal(JSON.parse((await catalog.getSetting('lease.test-1'))!).holder, 'b');
    await b.stop();
    assert.deepEqual(changes, ['a:true', 'a:false', 'b:true', 'b:false']);
  });

  it('is taken over once the holder stopped renewing for the expiry time', async () => {
    // A holder that dies writes nothing more: its last value stays, unchanged.
    await catalog.putSettingIf('lease.test-2', JSON.stringify({ holder: 'dead', term: 7 }), 0);
    const b = new CatalogLease(catalog, 'lease.test-2', 'b', { renewMs: 20, expireAfterMs: 200 });
    const startedAt = performance.now();
    await b.start();
    assert.equal(b.held, false, 'a lease another holder wrote is not taken at once');
    await until(() => b.held, 2_000);
    assert.ok(performance.now() - startedAt >= 200, 'only after it stayed unchanged for the expiry time');
    assert.equal(JSON.parse((await catalog.getSetting('lease.test-2'))!).holder, 'b');
    await b.stop();
  });
});
