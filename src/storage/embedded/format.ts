/**
 * The byte layout of segment files.
 *
 * A segment file holds batches back to back and nothing else. One append() is one batch. Its name
 * is the offset of its first record, zero-padded to 20 digits, plus ".log". Integers are
 * little-endian; 64-bit fields are signed two's complement and hold integers up to 2^53.
 *
 * Batch, format 1:
 *
 *   offset size  field
 *    0     4    magic          0x474c4254 (the bytes "TBLG")
 *    4     4    crc            CRC-32 (zlib) of bytes [8, length) of this batch
 *    8     4    length         length of the whole batch in bytes, this header included
 *   12     1    format         1
 *   13     1    flags          0 (reserved)
 *   14     2    reserved       0
 *   16     8    baseOffset     offset of the first record
 *   24     8    baseTimestamp  timestamp (epoch ms) of the first record
 *   32     4    count          number of records, >= 1
 *   36     4    maxDelta       timestamp of the newest record minus baseTimestamp
 *   40     ...  records, back to back, each:
 *                 4  timestamp delta from baseTimestamp (ms)
 *                 2  partition key length in bytes
 *                 4  data length in bytes
 *                 .. partition key (UTF-8)
 *                 .. data
 *
 * Batch, format 2: the layout of format 1, for an append whose records are sealed (encryption at
 * rest, see kinesis/at-rest.ts): each record's partition key is empty and its data is a sealed
 * envelope holding the key and the data. Reads return such records with `sealed: true`. Batches of
 * plain records are still written as format 1, so a log holds both.
 *
 * Batch, format 3 (a gap): a header and no body. It holds no records and says that offsets
 * [baseOffset, baseOffset + count) were lost: `tributary check --repair` writes one in place of
 * damaged batches it drops, so that offsets still follow on from batch to batch. Its baseTimestamp
 * is that of the record before it (or after it, when it comes first); maxDelta is 0.
 *
 * The first 16 bytes (magic, crc, length, format) keep their meaning in every later format, so
 * any version can frame and check a batch; the format byte says how to read the rest. The CRC
 * covers everything after itself, header fields included.
 */
import { crc32 } from 'node:zlib';
import type { RecordInput, StoredRecord } from '../types.js';

export const BATCH_MAGIC = 0x474c4254;
export const BATCH_FORMAT = 1;
/** Format 2: format 1's layout, records sealed. */
export const BATCH_FORMAT_SEALED = 2;
/** Format 3: a gap, offsets lost to damage, with no records. */
export const BATCH_FORMAT_GAP = 3;
export const HEADER_SIZE = 40;
export const RECORD_OVERHEAD = 10;
export const MAX_KEY_BYTES = 0xffff;
export const MAX_BATCH_BYTES = 0xffffffff;

const TWO_32 = 2 ** 32;

/** Little-endian reads without the bounds checks of Buffer's methods, for the per-record loops. */
function u16(buf: Buffer, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

function u32(buf: Buffer, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16)) + buf[at + 3] * 0x1000000;
}

export function writeInt64(buf: Buffer, value: number, at: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeUInt32LE(value - hi * TWO_32, at);
  buf.writeInt32LE(hi, at + 4);
}

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32LE(at + 4) * TWO_32 + buf.readUInt32LE(at);
}

/**
 * Encodes records as one batch whose offset, timestamp and CRC are filled in later by sealBatch,
 * when the flusher knows them. Every record's timestamp delta is 0: an append has one arrival time.
 * This is the one copy of the payload on the way to disk.
 */
export function encodeBatch(records: readonly RecordInput[]): Buffer {
  const n = records.length;
  let size = HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const keyBytes = Buffer.byteLength(r.partitionKey, 'utf8');
    if (keyBytes > MAX_KEY_BYTES) throw new RangeError(`partition key of ${keyBytes} bytes is too long`);
    size += RECORD_OVERHEAD + keyBytes + r.data.length;
  }
  if (size > MAX_BATCH_BYTES) throw new RangeError(`batch of ${size} bytes is too large`);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(BATCH_MAGIC, 0);
  buf.writeUInt32LE(0, 4);
  buf.writeUInt32LE(size, 8);
  buf[12] = n > 0 && records[0].sealed === true ? BATCH_FORMAT_SEALED : BATCH_FORMAT;
  buf[13] = 0;
  buf.writeUInt16LE(0, 14);
  buf.fill(0, 16, 32);
  buf.writeUInt32LE(n, 32);
  buf.writeUInt32LE(0, 36);
  let at = HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const keyBytes = buf.write(r.partitionKey, at + RECORD_OVERHEAD, 'utf8');
    const dataBytes = r.data.length;
    buf.writeUInt32LE(0, at);
    buf.writeUInt16LE(keyBytes, at + 4);
    buf.writeUInt32LE(dataBytes, at + 6);
    at += RECORD_OVERHEAD + keyBytes;
    buf.set(r.data, at);
    at += dataBytes;
  }
  return buf;
}

/** A gap batch (format 3): `count` offsets from `baseOffset` that were lost. */
export function encodeGap(baseOffset: number, count: number, timestamp: number): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  buf.writeUInt32LE(BATCH_MAGIC, 0);
  buf.writeUInt32LE(HEADER_SIZE, 8);
  buf[12] = BATCH_FORMAT_GAP;
  buf.writeUInt32LE(count, 32);
  sealBatch(buf, baseOffset, timestamp);
  return buf;
}

/** Whether this version reads batches of `format`. */
export function knownFormat(format: number): boolean {
  return format === BATCH_FORMAT || format === BATCH_FORMAT_SEALED || format === BATCH_FORMAT_GAP;
}

/** Fills in a batch's base offset and timestamp and computes its CRC. */
export function sealBatch(buf: Buffer, baseOffset: number, baseTimestamp: number): void {
  writeInt64(buf, baseOffset, 16);
  writeInt64(buf, baseTimestamp, 24);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
}

/** Header fields of one batch, filled in place by readHeader to spare an object per batch. */
export interface BatchHeader {
  length: number;
  format: number;
  baseOffset: number;
  baseTimestamp: number;
  count: number;
  maxDelta: number;
}

export function newHeader(): BatchHeader {
  return { length: 0, format: 0, baseOffset: 0, baseTimestamp: 0, count: 0, maxDelta: 0 };
}

/**
 * Frames the batch at `at`: returns its length when the magic is right and the length plausible,
 * or -1. Needs HEADER_SIZE bytes at `at`.
 */
export function frameLength(buf: Buffer, at: number): number {
  if (buf.readUInt32LE(at) !== BATCH_MAGIC) return -1;
  const length = buf.readUInt32LE(at + 8);
  return length >= HEADER_SIZE ? length : -1;
}

export function readHeader(buf: Buffer, at: number, into: BatchHeader): void {
  into.length = buf.readUInt32LE(at + 8);
  into.format = buf[at + 12];
  into.baseOffset = readInt64(buf, at + 16);
  into.baseTimestamp = readInt64(buf, at + 24);
  into.count = buf.readUInt32LE(at + 32);
  into.maxDelta = buf.readUInt32LE(at + 36);
}

export function crcMatches(buf: Buffer, at: number, length: number): boolean {
  return crc32(buf.subarray(at + 8, at + length)) === buf.readUInt32LE(at + 4);
}

/**
 * Checks that the records of a CRC-valid batch tile its body exactly, so that decoding cannot
 * run outside it.
 */
export function recordsWellFormed(buf: Buffer, at: number, h: BatchHeader): boolean {
  if (h.format === BATCH_FORMAT_GAP) return h.length === HEADER_SIZE && h.count > 0 && h.maxDelta === 0;
  const end = at + h.length;
  let p = at + HEADER_SIZE;
  let maxDelta = 0;
  for (let i = 0; i < h.count; i++) {
    if (p + RECORD_OVERHEAD > end) return false;
    const delta = u32(buf, p);
    if (delta > maxDelta) maxDelta = delta;
    p += RECORD_OVERHEAD + u16(buf, p + 4) + u32(buf, p + 6);
  }
  return p === end && h.count > 0 && maxDelta === h.maxDelta;
}

/** Where decodeRecords puts what it takes, and whether the read is satisfied. */
export interface ReadAccumulator {
  records: StoredRecord[];
  bytes: number;
  maxRecords: number;
  maxBytes: number;
  /** Set once a limit stops the read. */
  full: boolean;
  /** The offset after the last lost offset the read went past (gaps, damaged batches); -1 if none. */
  passed: number;
}

/** Notes in `acc` that the offsets before `end` were lost and went past. */
export function passLost(acc: ReadAccumulator, end: number): void {
  if (end > acc.passed) acc.passed = end;
}

/**
 * Appends the records of a whole, checked batch at `at` whose offsets are >= `from` and below
 * `end` to `acc`, until a limit is reached. The data Buffers are views of `buf`.
 */
export function decodeRecords(
  buf: Buffer,
  at: number,
  h: BatchHeader,
  from: number,
  end: number,
  acc: ReadAccumulator,
): void {
  if (h.format === BATCH_FORMAT_GAP) {
    passLost(acc, Math.min(h.baseOffset + h.count, end));
    return;
  }
  const records = acc.records;
  const sealed = h.format === BATCH_FORMAT_SEALED;
  let p = at + HEADER_SIZE;
  let offset = h.baseOffset;
  const last = Math.min(h.baseOffset + h.count, end);
  for (; offset < from && offset < last; offset++) {
    p += RECORD_OVERHEAD + u16(buf, p + 4) + u32(buf, p + 6);
  }
  for (; offset < last; offset++) {
    if (records.length >= acc.maxRecords) {
      acc.full = true;
      return;
    }
    const keyLength = u16(buf, p + 4);
    const dataLength = u32(buf, p + 6);
    const size = keyLength + dataLength;
    if (acc.bytes + size > acc.maxBytes && records.length > 0) {
      acc.full = true;
      return;
    }
    const keyStart = p + RECORD_OVERHEAD;
    const dataStart = keyStart + keyLength;
    const record: StoredRecord = {
      offset,
      timestamp: h.baseTimestamp + u32(buf, p),
      partitionKey: buf.toString('utf8', keyStart, dataStart),
      data: buf.subarray(dataStart, dataStart + dataLength),
    };
    if (sealed) record.sealed = true;
    records.push(record);
    acc.bytes += size;
    p = dataStart + dataLength;
  }
  if (records.length >= acc.maxRecords) acc.full = true;
}

/**
 * The first record of a whole, checked batch at `at` with offset >= `from` and timestamp >= `ts`:
 * its offset, or -1 when there is none.
 */
export function findTimestamp(buf: Buffer, at: number, h: BatchHeader, from: number, ts: number): number {
  if (h.format === BATCH_FORMAT_GAP) return -1;
  let p = at + HEADER_SIZE;
  for (let i = 0; i < h.count; i++) {
    const offset = h.baseOffset + i;
    if (offset >= from && h.baseTimestamp + u32(buf, p) >= ts) return offset;
    p += RECORD_OVERHEAD + u16(buf, p + 4) + u32(buf, p + 6);
  }
  return -1;
}

/**
 * Timestamp of the record at `offset` inside a whole, checked batch at `at`; undefined in a gap,
 * whose offsets hold no record.
 */
export function timestampOf(buf: Buffer, at: number, h: BatchHeader, offset: number): number | undefined {
  if (h.format === BATCH_FORMAT_GAP) return undefined;
  let p = at + HEADER_SIZE;
  for (let i = h.baseOffset; i < offset; i++) {
    p += RECORD_OVERHEAD + u16(buf, p + 4) + u32(buf, p + 6);
  }
  return h.baseTimestamp + u32(buf, p);
}
