import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_FORMAT,
  HEADER_SIZE,
  crcMatches,
  decodeRecords,
  encodeBatch,
  encodeGap,
  findTimestamp,
  frameLength,
  newHeader,
  readHeader,
  readInt64,
  recordsWellFormed,
  sealBatch,
  timestampOf,
  writeInt64,
  type ReadAccumulator,
} from '../../../src/storage/embedded/format.js';
import { batchSize, rec } from './helpers.js';

const records = [rec('a', 'hello'), rec('ключ-🔑', Buffer.alloc(0)), rec('', Buffer.from([0, 255, 1, 254]))];

function sealed(): Buffer {
  const buf = encodeBatch(records);
  sealBatch(buf, 1234567890123, 1700000000000);
  return buf;
}

function accumulator(maxRecords = 100, maxBytes = Number.MAX_SAFE_INTEGER): ReadAccumulator {
  return { records: [], bytes: 0, maxRecords, maxBytes, full: false, passed: -1 };
}

test('64-bit fields round trip, negative and large values included', () => {
  const buf = Buffer.alloc(8);
  for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -(2 ** 40) - 7, 1700000000123]) {
    writeInt64(buf, v, 0);
    assert.equal(readInt64(buf, 0), v);
  }
});

test('a sealed batch has the documented header and passes its checks', () => {
  const buf = sealed();
  assert.equal(buf.length, batchSize(records));
  assert.equal(frameLength(buf, 0), buf.length);
  assert.ok(crcMatches(buf, 0, buf.length));
  const h = newHeader();
  readHeader(buf, 0, h);
  assert.deepEqual(h, {
    length: buf.length,
    format: BATCH_FORMAT,
    baseOffset: 1234567890123,
    baseTimestamp: 1700000000000,
    count: 3,
    maxDelta: 0,
  });
  assert.ok(recordsWellFormed(buf, 0, h));
});

test('decodeRecords returns the records byte for byte, as views of the buffer', () => {
  const buf = sealed();
  const h = newHeader();
  readHeader(buf, 0, h);
  const acc = accumulator();
  decodeRecords(buf, 0, h, 0, Infinity, acc);
  assert.equal(acc.records.length, 3);
  acc.records.forEach((r, i) => {
    assert.equal(r.offset, 1234567890123 + i);
    assert.equal(r.timestamp, 1700000000000);
    assert.equal(r.partitionKey, records[i].partitionKey);
    assert.ok(r.data.equals(records[i].data));
    assert.equal(r.data.buffer, buf.buffer);
  });
  assert.equal(acc.bytes, records.reduce((n, r) => n + Buffer.byteLength(r.partitionKey) + r.data.length, 0));
});

test('decodeRecords starts at `from`, stops at `end` and at the limits, but takes one record at least', () => {
  const buf = sealed();
  const h = newHeader();
  readHeader(buf, 0, h);
  const base = h.baseOffset;

  let acc = accumulator();
  decodeRecords(buf, 0, h, base + 1, Infinity, acc);
  assert.deepEqual(acc.records.map((r) => r.offset), [base + 1, base + 2]);

  acc = accumulator();
  decodeRecords(buf, 0, h, base, base + 2, acc);
  assert.deepEqual(acc.records.map((r) => r.offset), [base, base + 1]);
  assert.equal(acc.full, false);

  acc = accumulator(2);
  decodeRecords(buf, 0, h, base, Infinity, acc);
  assert.equal(acc.records.length, 2);
  assert.equal(acc.full, true);

  acc = accumulator(100, 1);
  decodeRecords(buf, 0, h, base, Infinity, acc);
  assert.equal(acc.records.length, 1, 'the first record is taken even though it exceeds maxBytes');
  assert.equal(acc.full, true);
});

test('findTimestamp and timestampOf look inside a batch', () => {
  const buf = sealed();
  const h = newHeader();
  readHeader(buf, 0, h);
  assert.equal(findTimestamp(buf, 0, h, h.baseOffset + 1, 1700000000000), h.baseOffset + 1);
  assert.equal(findTimestamp(buf, 0, h, h.baseOffset, 1700000000001), -1);
  assert.equal(timestampOf(buf, 0, h, h.baseOffset + 2), 1700000000000);
});

test('changing any byte of a batch is detected by its frame or its CRC', () => {
  const original = sealed();
  for (let i = 0; i < original.length; i++) {
    const buf = Buffer.from(original);
    buf[i] ^= 0x10;
    const length = frameLength(buf, 0);
    const detected = length !== buf.length || !crcMatches(buf, 0, length);
    assert.ok(detected, `flip at byte ${i} went unnoticed`);
  }
});

test('a record batch (format 1) is written and read as the documented bytes', () => {
  // Written out by hand from the layout in format.ts, so that a change to the on-disk format
  // cannot pass unnoticed: segments written by earlier versions must still read.
  const expected =
    '54424c47' + // magic "TBLG"
    '2aba4f13' + // CRC-32 of bytes 8..69
    '45000000' + // length 69
    '01' + '00' + '0000' + // format 1, flags, reserved
    '0700000000000000' + // base offset 7
    '0068e5cf8b010000' + // base timestamp 1700000000000
    '02000000' + // two records
    '00000000' + // maxDelta 0
    '00000000' + '0100' + '05000000' + '61' + '68656c6c6f' + // +0 ms, key "a", data "hello"
    '00000000' + '0100' + '02000000' + '6b' + '00ff'; // +0 ms, key "k", data 00 ff
  const written = encodeBatch([rec('a', 'hello'), rec('k', Buffer.from([0, 255]))]);
  sealBatch(written, 7, 1700000000000);
  assert.equal(written.toString('hex'), expected);

  const bytes = Buffer.from(expected, 'hex');
  assert.ok(crcMatches(bytes, 0, bytes.length));
  const h = newHeader();
  readHeader(bytes, 0, h);
  assert.deepEqual(h, { length: 69, format: 1, baseOffset: 7, baseTimestamp: 1700000000000, count: 2, maxDelta: 0 });
  const acc = accumulator();
  decodeRecords(bytes, 0, h, 0, 100, acc);
  assert.deepEqual(
    acc.records.map((r) => [r.offset, r.timestamp, r.partitionKey, Buffer.from(r.data).toString('hex')]),
    [
      [7, 1700000000000, 'a', '68656c6c6f'],
      [8, 1700000000000, 'k', '00ff'],
    ],
  );
});

test('a batch that lies about its record layout is caught even with a valid CRC', () => {
  const buf = sealed();
  buf.writeUInt32LE(99, HEADER_SIZE + 6);
  sealBatch(buf, 0, 0);
  const h = newHeader();
  readHeader(buf, 0, h);
  assert.ok(crcMatches(buf, 0, buf.length));
  assert.equal(recordsWellFormed(buf, 0, h), false);
});

test('partition keys over 65535 bytes are refused', () => {
  assert.throws(() => encodeBatch([rec('x'.repeat(70000), 'd')]), RangeError);
});

test('a gap batch (format 3) is a bare header, byte for byte, holding offsets and no records', () => {
  const gap = encodeGap(5, 3, 1000);
  // magic "TBLG", CRC-32, length 40, format 3, flags, reserved, base offset 5, timestamp 1000,
  // count 3, maxDelta 0.
  assert.equal(
    gap.toString('hex'),
    '54424c47' + 'd2d20ca3' + '28000000' + '03' + '00' + '0000' + '0500000000000000' + 'e803000000000000' + '03000000' + '00000000',
  );
  assert.equal(frameLength(gap, 0), HEADER_SIZE);
  assert.ok(crcMatches(gap, 0, HEADER_SIZE));
  const h = newHeader();
  readHeader(gap, 0, h);
  assert.ok(recordsWellFormed(gap, 0, h));
  const acc = accumulator();
  decodeRecords(gap, 0, h, 0, 100, acc);
  assert.deepEqual([acc.records.length, acc.passed], [0, 8]);
  assert.equal(findTimestamp(gap, 0, h, 0, 0), -1);
  assert.equal(timestampOf(gap, 0, h, 6), undefined);
  // A gap with records in its body is not well formed.
  const padded = Buffer.concat([gap, Buffer.alloc(10)]);
  padded.writeUInt32LE(HEADER_SIZE + 10, 8);
  readHeader(padded, 0, h);
  assert.equal(recordsWellFormed(padded, 0, h), false);
});
