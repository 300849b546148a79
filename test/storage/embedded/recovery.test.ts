import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, open, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import type { EmbeddedHooks } from '../../../src/storage/embedded/index.js';
import { HEADER_SIZE, encodeBatch, sealBatch } from '../../../src/storage/embedded/format.js';
import type { RecordInput } from '../../../src/storage/types.js';
import { batchSize, logOptions, plain, readAll, rec, recordingHooks, withTempDir } from './helpers.js';

const segmentPath = (dir: string, base: number) => join(dir, 's', '0', `${String(base).padStart(20, '0')}.log`);
const indexPath = (dir: string, base: number) => join(dir, 's', '0', `${String(base).padStart(20, '0')}.idx`);

function openLog(dir: string, hooks: EmbeddedHooks = {}, segmentBytes = 1 << 20) {
  return createEmbeddedLogStore(dir, logOptions({ segmentBytes }), hooks).open('s', 0);
}

/** The i-th batch `fill` appends: three records, offsets 3i to 3i + 2, timestamp 1000 + i. */
function batchFor(i: number): RecordInput[] {
  return [rec(`a${i}`, `first of ${i}`), rec(`b${i}`, Buffer.alloc(i % 7, i)), rec(`c${i}`, `last of ${i}`)];
}

/** Appends `count` batches, one at a time, and returns them. */
async function fill(dir: string, count: number, segmentBytes = 1 << 20): Promise<RecordInput[][]> {
  const log = await openLog(dir, {}, segmentBytes);
  const batches: RecordInput[][] = [];
  for (let i = 0; i < count; i++) {
    const batch = batchFor(i);
    await log.append(batch, 1000 + i);
    batches.push(batch);
  }
  await log.close();
  return batches;
}

async function flipByte(path: string, position: number): Promise<void> {
  const fh = await open(path, 'r+');
  const buf = Buffer.alloc(1);
  await fh.read(buf, 0, 1, position);
  buf[0] ^= 0x40;
  await fh.write(buf, 0, 1, position);
  await fh.close();
}

test('a tail cut inside the last batch is cut back to the last whole batch', () =>
  withTempDir(async (dir) => {
    const batches = await fill(dir, 10);
    const path = segmentPath(dir, 0);
    const whole = batches.slice(0, 9).reduce((n, b) => n + batchSize(b), 0);
    for (const cut of [whole + batchSize(batches[9]) - 1, whole + HEADER_SIZE + 3, whole + 5]) {
      await truncate(path, cut);
      const { hooks, warnings } = recordingHooks();
      const log = await openLog(dir, hooks);
      assert.deepEqual(warnings.map((w) => w.code), ['truncated-tail']);
      assert.equal(log.nextOffset, 27);
      assert.equal(log.lastTimestamp, 1008);
      assert.equal((await stat(path)).size, whole);
      const all = await readAll(log);
      assert.equal(all.length, 27);
      assert.equal(all[26].data.toString(), 'last of 8');
      // The log goes on from there, and the new batch replaces the torn one.
      assert.deepEqual(await log.append(batches[9], 1009), { firstOffset: 27, timestamp: 1009 });
      assert.equal((await readAll(log)).length, 30);
      await log.close();
    }
  }));

test('garbage after the last batch is cut off and never served', () =>
  withTempDir(async (dir) => {
    await fill(dir, 5);
    const path = segmentPath(dir, 0);
    const good = (await stat(path)).size;
    const first = await openLog(dir);
    const expected = plain(await readAll(first));
    await first.close();

    // Random-looking bytes, then a batch that looks whole but fails its CRC.
    await appendFile(path, Buffer.alloc(100, 0xab));
    for (const tail of [Buffer.alloc(100, 0xab), fakeBatch()]) {
      await truncate(path, good);
      await appendFile(path, tail);
      const { hooks, warnings } = recordingHooks();
      const log = await openLog(dir, hooks);
      assert.deepEqual(warnings.map((w) => w.code), ['truncated-tail']);
      assert.equal(log.nextOffset, 15);
      assert.deepEqual(plain(await readAll(log)), expected);
      assert.equal((await stat(path)).size, good);
      await log.close();
    }
  }));

function fakeBatch(): Buffer {
  const buf = encodeBatch([rec('x', 'looks like a batch')]);
  sealBatch(buf, 15, 2000);
  buf[buf.length - 1] ^= 1;
  return buf;
}

test('a flipped byte in the active segment cuts it at that batch on open', () =>
  withTempDir(async (dir) => {
    const batches = await fill(dir, 10);
    const before = batches.slice(0, 4).reduce((n, b) => n + batchSize(b), 0);
    await flipByte(segmentPath(dir, 0), before + HEADER_SIZE + 12);
    const { hooks, warnings } = recordingHooks();
    const log = await openLog(dir, hooks);
    assert.deepEqual(warnings.map((w) => w.code), ['truncated-tail']);
    // Batches 0..3 survive; the damaged batch 4 and everything after it are gone.
    assert.equal(log.nextOffset, 12);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), Array.from({ length: 12 }, (_, i) => i));
    assert.equal((await stat(segmentPath(dir, 0))).size, before);
    await log.close();
  }));

test('a flipped byte in a closed segment: that batch and the rest of its segment are not served', () =>
  withTempDir(async (dir) => {
    const segmentBytes = 400;
    await fill(dir, 30, segmentBytes);
    let log = await openLog(dir, {}, segmentBytes);
    const segments = log.segments.map((s) => ({ base: s.base, end: s.endOffset }));
    const all = plain(await readAll(log));
    await log.close();
    assert.ok(segments.length >= 4);
    // Damage the second batch of the second segment; its .idx still matches, so opening does not
    // scan it; the read that reaches it finds the damage.
    const victim = segments[1];
    const secondBatch = victim.base + 3;
    const firstBatchBytes = batchSize(batchFor(victim.base / 3));
    await flipByte(segmentPath(dir, victim.base), firstBatchBytes + HEADER_SIZE + 20);

    const { hooks, warnings } = recordingHooks();
    log = await openLog(dir, hooks, segmentBytes);
    assert.equal(warnings.length, 0, 'closed segments open from their index without a scan');
    assert.equal(log.nextOffset, 90);
    const expected = all.filter((r) => r.offset < secondBatch || r.offset >= victim.end);
    assert.deepEqual(plain(await readAll(log)), expected);
    assert.deepEqual(warnings.map((w) => w.code), ['corrupt-batch']);
    // Reads that start inside the lost range go on at the next segment.
    const r = await log.read(secondBatch + 1, 2, 1e9);
    assert.deepEqual(r.records.map((x) => x.offset), [victim.end, victim.end + 1]);
    assert.equal(await log.timestampAt(secondBatch), undefined);
    await log.close();

    // The segment was cut at the damaged batch, so the next open agrees without warnings.
    const again = recordingHooks();
    log = await openLog(dir, again.hooks, segmentBytes);
    assert.deepEqual(plain(await readAll(log)), expected);
    assert.deepEqual(again.warnings, []);
    assert.equal((await stat(segmentPath(dir, victim.base))).size, firstBatchBytes);
    await log.close();
  }));

test('damage found by a read of the active segment moves writing to a new segment', () =>
  withTempDir(async (dir) => {
    const { hooks, warnings } = recordingHooks();
    const log = await openLog(dir, hooks);
    const batch = [rec('k', 'v'.repeat(50))];
    for (let i = 0; i < 6; i++) await log.append(batch, i);
    // The page cache is shared, so the running log sees the damage.
    await flipByte(segmentPath(dir, 0), 3 * batchSize(batch) + HEADER_SIZE + 15);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), [0, 1, 2]);
    assert.deepEqual(warnings.map((w) => w.code), ['corrupt-batch']);
    // Offsets are never reused: the next append goes on at 6, in a new segment.
    assert.equal((await log.append(batch, 10)).firstOffset, 6);
    assert.deepEqual(log.segments.map((s) => [s.base, s.endOffset]), [
      [0, 3],
      [6, 7],
    ]);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), [0, 1, 2, 6]);
    assert.deepEqual((await log.read(4, 10, 1e9)).records.map((r) => r.offset), [6]);
    await log.close();
    const reopened = await openLog(dir);
    assert.deepEqual([reopened.nextOffset, (await readAll(reopened)).map((r) => r.offset)], [7, [0, 1, 2, 6]]);
    await reopened.close();
  }));

test('a missing or stale .idx is rebuilt by scanning its segment', () =>
  withTempDir(async (dir) => {
    const segmentBytes = 400;
    await fill(dir, 20, segmentBytes);
    let log = await openLog(dir, {}, segmentBytes);
    const expected = plain(await readAll(log));
    const bases = log.segments.map((s) => s.base);
    await log.close();

    await unlink(indexPath(dir, bases[0]));
    await writeFile(indexPath(dir, bases[1]), Buffer.from('not an index'));
    const header = await readFile(indexPath(dir, bases[2]));
    header.writeUInt32LE(header.readUInt32LE(32) + 1, 32);
    await writeFile(indexPath(dir, bases[2]), header);

    const { hooks, warnings } = recordingHooks();
    log = await openLog(dir, hooks, segmentBytes);
    assert.deepEqual(warnings.map((w) => w.code), ['index-rebuilt', 'index-rebuilt', 'index-rebuilt']);
    assert.deepEqual(plain(await readAll(log)), expected);
    await log.close();
    for (const base of bases.slice(0, -1)) assert.ok(existsSync(indexPath(dir, base)), `index of ${base} rewritten`);
    assert.equal(existsSync(indexPath(dir, bases[bases.length - 1])), false, 'the active segment has no index file');
  }));

test('damaged index entries behind a good header are rebuilt when first needed', () =>
  withTempDir(async (dir) => {
    const segmentBytes = 12000;
    await fill(dir, 300, segmentBytes);
    let log = await openLog(dir, {}, segmentBytes);
    const expected = plain(await readAll(log));
    await log.close();
    const path = indexPath(dir, 0);
    const buf = await readFile(path);
    assert.ok(buf.length > 64 + 16, 'the first segment has several index entries');
    buf[buf.length - 5] ^= 0xff;
    await writeFile(path, buf);
    const { hooks, warnings } = recordingHooks();
    log = await openLog(dir, hooks, segmentBytes);
    assert.equal(warnings.length, 0);
    assert.deepEqual(plain(await readAll(log)), expected);
    assert.deepEqual(warnings.map((w) => w.code), ['index-rebuilt']);
    await log.close();
  }));
