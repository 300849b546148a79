import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import { logOptions, readAll, rec, withTempDir } from './helpers.js';

const options = logOptions({ segmentBytes: 200 });
const openLog = (dir: string) => createEmbeddedLogStore(dir, options).open('s', 0);
const segmentFiles = async (dir: string) => (await readdir(join(dir, 's', '0'))).filter((f) => f.endsWith('.log')).sort();

/** 30 appends of two records; offsets 2i and 2i + 1 have timestamp 100 * i. */
async function filled(dir: string) {
  const log = await openLog(dir);
  for (let i = 0; i < 30; i++) await log.append([rec('k', `a${i}`), rec('k', `b${i}`)], 100 * i);
  return log;
}

test('trim hides older records and deletes the segments that hold only those', () =>
  withTempDir(async (dir) => {
    const log = await filled(dir);
    const segments = log.segments.map((s) => ({ base: s.base, end: s.endOffset, last: s.lastTimestamp }));
    assert.ok(segments.length >= 6);
    const files = await segmentFiles(dir);
    assert.equal(files.length, segments.length);

    // 1250 falls inside some segment: records from timestamp 1300 (offset 26) on stay.
    await log.trim(1250);
    assert.equal(log.startOffset, 26);
    const all = await readAll(log);
    assert.equal(all[0].offset, 26);
    assert.equal(all.length, 60 - 26);
    assert.deepEqual((await log.read(0, 1, 1e9)).records.map((r) => r.offset), [26]);
    assert.equal(await log.offsetAtTimestamp(0), 26);
    assert.equal(await log.timestampAt(25), undefined);
    assert.equal(await log.timestampAt(26), 1300);

    const kept = segments.filter((s) => !(s.last < 1250));
    assert.deepEqual(log.segments.map((s) => s.base), kept.map((s) => s.base));
    assert.deepEqual(await segmentFiles(dir), files.slice(segments.length - kept.length));
    assert.ok(kept[0].base <= 26 && kept[0].end > 26, 'the segment holding the first kept record stays');

    // Trimming with an older time changes nothing.
    await log.trim(500);
    assert.equal(log.startOffset, 26);
    await log.close();

    const reopened = await openLog(dir);
    assert.equal(reopened.startOffset, 26, 'the trim point survives a restart');
    assert.equal((await readAll(reopened))[0].offset, 26);
    await reopened.close();
  }));

test('trimming everything keeps nextOffset and lastTimestamp, across a restart too', () =>
  withTempDir(async (dir) => {
    const log = await filled(dir);
    await log.trim(10_000);
    assert.deepEqual([log.startOffset, log.nextOffset, log.lastTimestamp], [60, 60, 2900]);
    assert.deepEqual(await readAll(log), []);
    assert.deepEqual(await segmentFiles(dir), ['00000000000000000060.log'], 'only an empty segment named by nextOffset is left');
    assert.equal(await log.offsetAtTimestamp(0), 60);
    await log.close();

    const reopened = await openLog(dir);
    assert.deepEqual([reopened.startOffset, reopened.nextOffset, reopened.lastTimestamp], [60, 60, 2900]);
    assert.deepEqual(await reopened.append([rec('k', 'new')], 50), { firstOffset: 60, timestamp: 2900 });
    assert.deepEqual((await readAll(reopened)).map((r) => r.offset), [60]);
    await reopened.close();
  }));

test('trim right after appends waits for them and counts them', () =>
  withTempDir(async (dir) => {
    const log = await openLog(dir);
    const appends = [log.append([rec('k', 'old')], 10), log.append([rec('k', 'new')], 20)];
    await log.trim(15);
    await Promise.all(appends);
    assert.equal(log.startOffset, 1);
    assert.deepEqual((await readAll(log)).map((r) => r.data.toString()), ['new']);
    await log.close();
  }));
