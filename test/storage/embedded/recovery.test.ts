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

test('a flipped byte in the active segment: that batch is skipped on open, the batches after it are served', () =>
  withTempDir(async (dir) => {
    const batches = await fill(dir, 10);
    const path = segmentPath(dir, 0);
    const size = (await stat(path)).size;
    const before = batches.slice(0, 4).reduce((n, b) => n + batchSize(b), 0);
    await flipByte(path, before + HEADER_SIZE + 12);
    const { hooks, warnings } = recordingHooks();
    const log = await openLog(dir, hooks);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.bytes, w.lost]),
      [['corrupt-batch', { from: before, to: before + batchSize(batches[4]) }, { from: 12, to: 15 }]],
    );
    assert.match(warnings[0].message, /fails its CRC; bytes \d+ to \d+ skipped, offsets 12 to 14 \(3 records\) lost/);
    // Only batch 4 is lost; the file is left as it was, and offsets are not reused.
    assert.equal(log.nextOffset, 30);
    const offsets = Array.from({ length: 30 }, (_, i) => i).filter((o) => o < 12 || o >= 15);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), offsets);
    assert.equal((await stat(path)).size, size);
    // A read from inside the lost range goes on at the next good batch.
    assert.deepEqual((await log.read(13, 2, 1e9)).records.map((r) => r.offset), [15, 16]);
    assert.equal(await log.timestampAt(13), undefined);
    assert.equal(await log.timestampAt(15), 1005);
    assert.equal(await log.offsetAtTimestamp(1004), 15);
    assert.deepEqual(await log.append(batchFor(10), 1010), { firstOffset: 30, timestamp: 1010 });
    await log.close();
  }));

test('a damaged batch header is stepped over by searching for the next batch', () =>
  withTempDir(async (dir) => {
    const batches = await fill(dir, 6);
    const path = segmentPath(dir, 0);
    const before = batches.slice(0, 2).reduce((n, b) => n + batchSize(b), 0);
    // The length field: the frame no longer says where the next batch starts.
    await flipByte(path, before + 10);
    await flipByte(path, before + 0);
    const { hooks, warnings } = recordingHooks();
    const log = await openLog(dir, hooks);
    assert.deepEqual(warnings.map((w) => [w.code, w.lost]), [['corrupt-batch', { from: 6, to: 9 }]]);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), [0, 1, 2, 3, 4, 5, ...Array.from({ length: 9 }, (_, i) => 9 + i)]);
    await log.close();
  }));

test('a flipped byte in a closed segment: that batch is skipped, the rest of the segment is served', () =>
  withTempDir(async (dir) => {
    const segmentBytes = 400;
    await fill(dir, 30, segmentBytes);
    let log = await openLog(dir, {}, segmentBytes);
    const segments = log.segments.map((s) => ({ base: s.base, end: s.endOffset }));
    const all = plain(await readAll(log));
    await log.close();
    assert.ok(segments.length >= 4);
    assert.ok(segments[1].end - segments[1].base >= 9, 'the victim has three batches or more');
    // Damage the second batch of the second segment; its .idx still matches, so opening does not
    // scan it; the read that reaches it finds the damage.
    const victim = segments[1];
    const secondBatch = victim.base + 3;
    const firstBatchBytes = batchSize(batchFor(victim.base / 3));
    const size = (await stat(segmentPath(dir, victim.base))).size;
    await flipByte(segmentPath(dir, victim.base), firstBatchBytes + HEADER_SIZE + 20);

    const { hooks, warnings } = recordingHooks();
    log = await openLog(dir, hooks, segmentBytes);
    assert.equal(warnings.length, 0, 'closed segments open from their index without a scan');
    assert.equal(log.nextOffset, 90);
    const expected = all.filter((r) => r.offset < secondBatch || r.offset >= secondBatch + 3);
    assert.deepEqual(plain(await readAll(log)), expected);
    assert.deepEqual(warnings.map((w) => [w.code, w.lost]), [['corrupt-batch', { from: secondBatch, to: secondBatch + 3 }]]);
    // Found once: later reads step over the known hole without a word.
    assert.deepEqual((await log.read(secondBatch + 1, 2, 1e9)).records.map((x) => x.offset), [secondBatch + 3, secondBatch + 4]);
    assert.equal(await log.timestampAt(secondBatch), undefined);
    assert.equal(warnings.length, 1);
    await log.close();

    // The file is left as it was; the next process finds the hole again when it reads there.
    assert.equal((await stat(segmentPath(dir, victim.base))).size, size);
    const again = recordingHooks();
    log = await openLog(dir, again.hooks, segmentBytes);
    assert.deepEqual(plain(await readAll(log)), expected);
    assert.deepEqual(again.warnings.map((w) => w.lost), [{ from: secondBatch, to: secondBatch + 3 }]);
    await log.close();
  }));

test('damage at the end of a closed segment costs the offsets up to the next segment, and no more', () =>
  withTempDir(async (dir) => {
    const segmentBytes = 400;
    await fill(dir, 30, segmentBytes);
    let log = await openLog(dir, {}, segmentBytes);
    const victim = { base: log.segments[0].base, end: log.segments[0].endOffset };
    const all = plain(await readAll(log));
    await log.close();
    const path = segmentPath(dir, victim.base);
    const size = (await stat(path)).size;
    await flipByte(path, size - 2);
    // Without its index the segment is scanned on open; the next segment's base bounds the loss.
    await unlink(indexPath(dir, victim.base));
    const { hooks, warnings } = recordingHooks();
    log = await openLog(dir, hooks, segmentBytes);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.lost]),
      [
        ['index-rebuilt', undefined],
        ['corrupt-batch', { from: victim.end - 3, to: victim.end }],
      ],
    );
    assert.deepEqual(plain(await readAll(log)), all.filter((r) => r.offset < victim.end - 3 || r.offset >= victim.end));
    assert.equal(log.segments[0].endOffset, victim.end);
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
    assert.deepEqual((await readAll(log)).map((r) => r.offset), [0, 1, 2, 4, 5]);
    assert.deepEqual(warnings.map((w) => [w.code, w.lost]), [['corrupt-batch', { from: 3, to: 4 }]]);
    // Offsets are never reused: the next append goes on at 6, in a new segment, so that the damaged
    // one keeps its end offset in its index.
    assert.equal((await log.append(batch, 10)).firstOffset, 6);
    assert.deepEqual(log.segments.map((s) => [s.base, s.endOffset]), [
      [0, 6],
      [6, 7],
    ]);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), [0, 1, 2, 4, 5, 6]);
    assert.deepEqual((await log.read(3, 10, 1e9)).records.map((r) => r.offset), [4, 5, 6]);
    await log.close();
    const reopened = await openLog(dir);
    assert.deepEqual([reopened.nextOffset, (await readAll(reopened)).map((r) => r.offset)], [7, [0, 1, 2, 4, 5, 6]]);
    await reopened.close();
  }));

test('a read that finds only lost offsets goes on after them', () =>
  withTempDir(async (dir) => {
    const { hooks, warnings } = recordingHooks();
    const log = await openLog(dir, hooks);
    const batch = [rec('k', 'v'.repeat(50)), rec('k', 'w'.repeat(50))];
    for (let i = 0; i < 3; i++) await log.append(batch, i);
    await flipByte(segmentPath(dir, 0), 2 * batchSize(batch) + HEADER_SIZE + 15);
    const r = await log.read(4, 10, 1e9);
    assert.deepEqual([r.records.length, r.nextOffset], [0, 6]);
    assert.deepEqual(warnings.map((w) => w.lost), [{ from: 4, to: 6 }]);
    await log.close();
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
