import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBatch, sealBatch } from '../../../src/storage/embedded/format.js';
import { findNextBatch } from '../../../src/storage/embedded/resync.js';
import { scanSegment } from '../../../src/storage/embedded/scan.js';
import type { PositionalSource } from '../../../src/storage/embedded/batch-cursor.js';
import { rec } from './helpers.js';

function source(buf: Buffer): PositionalSource {
  return { readAt: async (position, length) => buf.subarray(position, Math.min(buf.length, position + length)) };
}

function batch(offset: number, timestamp: number, data: (string | Buffer)[]): Buffer {
  const buf = encodeBatch(data.map((d, i) => rec(`k${i}`, d)));
  sealBatch(buf, offset, timestamp);
  return buf;
}

test('after damage, only a batch whose offsets and timestamp continue is taken as the next one', async () => {
  const a = batch(0, 100, ['a0', 'a1', 'a2']);
  // Batch b carries, inside a record's data, bytes that are a whole valid batch, numbered 1: below
  // the first offset b's damage leaves unaccounted for (3), so never a place to go on at.
  const inner = batch(1, 100, ['forged']);
  const b = batch(3, 101, [inner, 'b1', 'b2']);
  const c = batch(6, 102, ['c0', 'c1', 'c2']);
  const file = Buffer.concat([a, b, c]);
  // Damage b's magic and length, so that its frame says nothing.
  file[a.length] ^= 0xff;
  file[a.length + 9] ^= 0xff;
  const bounds = { damaged: a.length, end: file.length, expected: 3, endOffset: 9, minTimestamp: 100 };
  assert.deepEqual(await findNextBatch(source(file), bounds), { position: a.length + b.length, baseOffset: 6, baseTimestamp: 102 });
  // Nor one past the segment's end offset, or older than what came before.
  assert.equal(await findNextBatch(source(file), { ...bounds, endOffset: 8 }), null);
  assert.equal(await findNextBatch(source(file), { ...bounds, minTimestamp: 103 }), null);

  const scan = await scanSegment(source(file), 0, file.length);
  assert.deepEqual(
    scan.holes.map((h) => [h.position, h.end, h.fromOffset, h.toOffset]),
    [[a.length, a.length + b.length, 3, 6]],
  );
  assert.deepEqual([scan.endOffset, scan.size, scan.tail], [9, file.length, null]);
});

test('a good batch numbered past the expected offset is kept, the offsets before it counted lost', async () => {
  const a = batch(0, 100, ['a0']);
  const c = batch(4, 101, ['c0', 'c1']);
  const file = Buffer.concat([a, c]);
  const scan = await scanSegment(source(file), 0, file.length);
  assert.deepEqual(scan.holes.map((h) => [h.position, h.end, h.fromOffset, h.toOffset]), [[a.length, a.length, 1, 4]]);
  assert.deepEqual([scan.endOffset, scan.batches], [6, 2]);
});
