import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INDEX_INTERVAL, SparseIndex } from '../../../src/storage/embedded/sparse-index.js';
import { decodeIndexEntries, decodeIndexHeader, encodeIndexFile } from '../../../src/storage/embedded/index-file.js';

function build(): SparseIndex {
  // Batches of 1000 bytes, 5 records each, a new timestamp every 3 batches.
  const index = new SparseIndex(1000, 2);
  for (let b = 0; b < 100; b++) index.add(1000 + b * 5, b * 1000, 50 + Math.floor(b / 3));
  return index;
}

test('entries are kept for the first batch and then about every INDEX_INTERVAL bytes', () => {
  const index = build();
  assert.equal(INDEX_INTERVAL, 4096);
  assert.equal(index.positionAt(0), 0);
  for (let i = 1; i < index.count; i++) {
    const gap = index.positionAt(i) - index.positionAt(i - 1);
    assert.ok(gap >= INDEX_INTERVAL && gap < INDEX_INTERVAL + 1000, `gap ${gap}`);
  }
});

test('binary searches by offset and timestamp', () => {
  const index = build();
  assert.equal(index.floorByOffset(999), -1);
  assert.equal(index.floorByOffset(1000), 0);
  for (let offset = 1000; offset < 1500; offset += 7) {
    const i = index.floorByOffset(offset);
    assert.ok(index.offsetAt(i) <= offset);
    assert.ok(i === index.count - 1 || index.offsetAt(i + 1) > offset);
    const c = index.ceilByOffset(offset);
    assert.ok(c === index.count || index.offsetAt(c) >= offset);
    assert.ok(c === 0 || index.offsetAt(c - 1) < offset);
  }
  for (let ts = 40; ts < 100; ts++) {
    const i = index.lastBeforeTimestamp(ts);
    assert.ok(i === -1 || index.timestampAt(i) < ts);
    assert.ok(i === index.count - 1 || index.timestampAt(i + 1) >= ts);
  }
});

test('truncate drops the entries at or past a position', () => {
  const index = build();
  const cut = index.positionAt(3);
  index.truncate(cut);
  assert.equal(index.count, 3);
  index.truncate(0);
  assert.equal(index.count, 0);
});

test('the .idx file round trips and detects damage', () => {
  const index = build();
  const summary = { base: 1000, endOffset: 1500, size: 100_000, firstTimestamp: 50, lastTimestamp: 83 };
  const buf = encodeIndexFile(summary, index);
  const header = decodeIndexHeader(buf);
  assert.ok(header);
  assert.deepEqual({ ...header, count: 0, entriesCrc: 0 }, { ...summary, count: 0, entriesCrc: 0 });
  const decoded = decodeIndexEntries(buf, header);
  assert.ok(decoded);
  assert.equal(decoded.count, index.count);
  for (let i = 0; i < index.count; i++) {
    assert.equal(decoded.offsetAt(i), index.offsetAt(i));
    assert.equal(decoded.positionAt(i), index.positionAt(i));
    assert.equal(decoded.timestampAt(i), index.timestampAt(i));
  }
  const badHeader = Buffer.from(buf);
  badHeader[20] ^= 1;
  assert.equal(decodeIndexHeader(badHeader), null);
  const badEntries = Buffer.from(buf);
  badEntries[buf.length - 3] ^= 1;
  assert.equal(decodeIndexEntries(badEntries, decodeIndexHeader(badEntries)!), null);
  assert.equal(decodeIndexEntries(buf.subarray(0, buf.length - 16), header), null);
});
