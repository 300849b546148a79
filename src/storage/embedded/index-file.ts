/**
 * The `.idx` file written next to a segment when it is rolled, so that closed segments open
 * without a scan. It is a cache: when it is missing or does not match its segment, the segment is
 * scanned and the file written again.
 *
 * Layout, format 1 (little-endian, 64-bit fields signed):
 *
 *   offset size  field
 *    0     4    magic          0x58444954 (the bytes "TIDX")
 *    4     4    headerCrc      CRC-32 of bytes [8, 64)
 *    8     1    format         1
 *    9     3    reserved       0
 *   12     4    count          number of entries
 *   16     8    baseOffset     the segment's base offset
 *   24     8    endOffset      offset after the segment's last record
 *   32     8    size           bytes of the segment file this index describes
 *   40     8    firstTimestamp timestamp of the first record (0 when empty)
 *   48     8    lastTimestamp  timestamp of the newest record (0 when empty)
 *   56     4    entriesCrc     CRC-32 of the entries
 *   60     4    interval       bytes between entries when written
 *   64    16*n  entries: u32 offset - baseOffset, u32 position, i64 timestamp
 *
 * The header is read when a log opens; the entries only when the segment is first searched.
 */
import { crc32 } from 'node:zlib';
import { INDEX_INTERVAL, SparseIndex } from './sparse-index.js';
import { readInt64, writeInt64 } from './format.js';

export const INDEX_MAGIC = 0x58444954;
export const INDEX_FORMAT = 1;
export const INDEX_HEADER_SIZE = 64;
const ENTRY_SIZE = 16;

/** What a log needs to know about a segment without reading it. Timestamps are NaN when empty. */
export interface SegmentSummary {
  base: number;
  endOffset: number;
  size: number;
  firstTimestamp: number;
  lastTimestamp: number;
}

export interface IndexFileHeader extends SegmentSummary {
  count: number;
  entriesCrc: number;
}

export function encodeIndexFile(summary: SegmentSummary, index: SparseIndex): Buffer {
  const buf = Buffer.alloc(INDEX_HEADER_SIZE + index.count * ENTRY_SIZE);
  const empty = summary.endOffset === summary.base;
  let at = INDEX_HEADER_SIZE;
  for (let i = 0; i < index.count; i++) {
    buf.writeUInt32LE(index.offsetAt(i) - index.base, at);
    buf.writeUInt32LE(index.positionAt(i), at + 4);
    writeInt64(buf, index.timestampAt(i), at + 8);
    at += ENTRY_SIZE;
  }
  buf.writeUInt32LE(INDEX_MAGIC, 0);
  buf[8] = INDEX_FORMAT;
  buf.writeUInt32LE(index.count, 12);
  writeInt64(buf, summary.base, 16);
  writeInt64(buf, summary.endOffset, 24);
  writeInt64(buf, summary.size, 32);
  writeInt64(buf, empty ? 0 : summary.firstTimestamp, 40);
  writeInt64(buf, empty ? 0 : summary.lastTimestamp, 48);
  buf.writeUInt32LE(crc32(buf.subarray(INDEX_HEADER_SIZE)), 56);
  buf.writeUInt32LE(INDEX_INTERVAL, 60);
  buf.writeUInt32LE(crc32(buf.subarray(8, INDEX_HEADER_SIZE)), 4);
  return buf;
}

/** Decodes and checks the header, or returns null when it is not a valid format-1 header. */
export function decodeIndexHeader(buf: Buffer): IndexFileHeader | null {
  if (buf.length < INDEX_HEADER_SIZE) return null;
  if (buf.readUInt32LE(0) !== INDEX_MAGIC || buf[8] !== INDEX_FORMAT) return null;
  if (crc32(buf.subarray(8, INDEX_HEADER_SIZE)) !== buf.readUInt32LE(4)) return null;
  const base = readInt64(buf, 16);
  const endOffset = readInt64(buf, 24);
  const empty = endOffset === base;
  return {
    count: buf.readUInt32LE(12),
    base,
    endOffset,
    size: readInt64(buf, 32),
    firstTimestamp: empty ? NaN : readInt64(buf, 40),
    lastTimestamp: empty ? NaN : readInt64(buf, 48),
    entriesCrc: buf.readUInt32LE(56),
  };
}

/** Decodes the entries of a whole index file whose header is `header`, or null if they do not check. */
export function decodeIndexEntries(buf: Buffer, header: IndexFileHeader): SparseIndex | null {
  const entries = buf.subarray(INDEX_HEADER_SIZE);
  if (entries.length !== header.count * ENTRY_SIZE) return null;
  if (crc32(entries) !== header.entriesCrc) return null;
  const index = new SparseIndex(header.base, Math.max(header.count, 1));
  let at = 0;
  let lastPosition = -1;
  for (let i = 0; i < header.count; i++) {
    const position = entries.readUInt32LE(at + 4);
    if (position <= lastPosition || position >= header.size) return null;
    index.push(header.base + entries.readUInt32LE(at), position, readInt64(entries, at + 8));
    lastPosition = position;
    at += ENTRY_SIZE;
  }
  if (header.count > 0 && index.positionAt(0) !== 0) return null;
  return index;
}
