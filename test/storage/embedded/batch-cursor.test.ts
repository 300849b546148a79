import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BatchCursor, type PositionalSource } from '../../../src/storage/embedded/batch-cursor.js';
import { encodeBatch, sealBatch } from '../../../src/storage/embedded/format.js';
import { rec } from './helpers.js';

/** A file in memory, read asynchronously like the real one, counting what is read. */
class MemoryFile implements PositionalSource {
  bytesRead = 0;
  constructor(readonly bytes: Buffer) {}
  async readAt(position: number, length: number): Promise<Buffer> {
    await Promise.resolve();
    const out = Buffer.from(this.bytes.subarray(position, position + length));
    this.bytesRead += out.length;
    return out;
  }
}

/** Batches whose data sizes are given; returns the file and each batch's offset and position. */
function file(sizes: number[]): { bytes: Buffer; batches: { offset: number; position: number; data: Buffer }[] } {
  const parts: Buffer[] = [];
  const batches: { offset: number; position: number; data: Buffer }[] = [];
  let position = 0;
  sizes.forEach((size, i) => {
    const data = Buffer.alloc(size, i % 251);
    const buf = encodeBatch([rec(`k${i}`, data)]);
    sealBatch(buf, i, 1000 + i);
    batches.push({ offset: i, position, data });
    parts.push(buf);
    position += buf.length;
  });
  return { bytes: Buffer.concat(parts), batches };
}

async function walkAll(cursor: BatchCursor) {
  const seen = [];
  for (;;) {
    const status = await cursor.next();
    if (status !== 'ok') return { seen, status, position: cursor.position };
    const h = cursor.header;
    const data = cursor.buf.subarray(cursor.at + 40 + 10 + `k${h.baseOffset}`.length, cursor.at + h.length);
    seen.push({ offset: h.baseOffset, position: cursor.position, data: Buffer.from(data) });
  }
}

test('every batch comes out whole, whatever the piece size and read-ahead', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.double({ min: 0, max: 1.2, noNaN: true }),
      async (sizes, pieceSize, plannedShare) => {
        const { bytes, batches } = file(sizes);
        const source = new MemoryFile(bytes);
        const cursor = new BatchCursor(source, 0, bytes.length, Math.floor(bytes.length * plannedShare), pieceSize);
        const { seen, status } = await walkAll(cursor);
        assert.equal(status, 'end');
        assert.deepEqual(seen, batches);
      },
    ),
    { numRuns: 300 },
  );
});

test('read-ahead stays within the planned bytes plus a piece', async () => {
  const { bytes } = file(Array.from({ length: 200 }, (_, i) => 500 + (i % 13) * 37));
  const source = new MemoryFile(bytes);
  const cursor = new BatchCursor(source, 0, bytes.length, 20_000, 4096);
  for (let i = 0; i < 5; i++) assert.equal(await cursor.next(), 'ok');
  assert.ok(source.bytesRead <= 20_000 + 4096, `read ${source.bytesRead}`);
});

test('a walk can start at any batch and stops at `end`', async () => {
  const { bytes, batches } = file([10, 2000, 30, 0, 700, 5]);
  const from = batches[2];
  const end = batches[5].position;
  const { seen, status } = await walkAll(new BatchCursor(new MemoryFile(bytes), from.position, end, end, 64));
  assert.equal(status, 'end');
  assert.deepEqual(seen, batches.slice(2, 5));
});

test('a cut or damaged batch ends the walk with the reason', async () => {
  const { bytes, batches } = file([100, 200, 300]);
  let walk = await walkAll(new BatchCursor(new MemoryFile(bytes), 0, bytes.length - 1, bytes.length, 128));
  assert.deepEqual([walk.seen.length, walk.status, walk.position], [2, 'corrupt', batches[2].position]);

  walk = await walkAll(new BatchCursor(new MemoryFile(bytes), 0, batches[2].position + 20, bytes.length, 128));
  assert.deepEqual([walk.seen.length, walk.status], [2, 'corrupt']);

  const damaged = Buffer.from(bytes);
  damaged[batches[1].position + 100] ^= 1;
  const cursor = new BatchCursor(new MemoryFile(damaged), 0, damaged.length, damaged.length, 128);
  walk = await walkAll(cursor);
  assert.deepEqual([walk.seen.length, walk.status, walk.position], [1, 'corrupt', batches[1].position]);
  assert.match(cursor.reason, /CRC/);
});
