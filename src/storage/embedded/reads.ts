/**
 * The read side of a shard log: records from an offset, the offset at a timestamp, the timestamp
 * at an offset. Each finds its segment, binary searches the segment's sparse index, then walks
 * forward batch by batch with positional reads of just the bytes it needs. Only whole batches
 * that pass their checks are used. Damage is skipped: a walk that meets a bad batch asks the log
 * where the next good one is (the log records and reports the hole between) and goes on there.
 */
import type { ReadResult } from '../types.js';
import { BatchCursor } from './batch-cursor.js';
import { decodeRecords, findTimestamp, passLost, RECORD_OVERHEAD, HEADER_SIZE, timestampOf, type ReadAccumulator } from './format.js';
import type { Hole } from './scan.js';
import type { Segment } from './segment.js';
import { INDEX_INTERVAL, type SparseIndex } from './sparse-index.js';

/** What the read side needs from a log. Reads only see what these show. */
export interface LogView {
  /** Oldest first; replaced, never changed in place, when segments come and go. */
  readonly segments: readonly Segment[];
  readonly startOffset: number;
  readonly nextOffset: number;
  indexOf(segment: Segment): Promise<SparseIndex>;
  /**
   * A walk met a bad batch at `damage.position` of `segment`: the hole from there to the next good
   * batch, recorded and reported (or the one known already).
   */
  damaged(segment: Segment, damage: Damage): Promise<Hole>;
}

/** Where a walk met a bad batch, and what it knew there. */
export interface Damage {
  position: number;
  /** The first offset not yet accounted for. */
  expected: number;
  /** The newest timestamp before it (NaN if unknown). */
  minTimestamp: number;
  /** The bytes and offsets the walk could see. */
  size: number;
  endOffset: number;
  reason: string;
  /**
   * Set when the batch at `position` is good but starts past `expected`: the offsets before it
   * are lost and it is kept (its base offset and timestamp).
   */
  validBase?: number;
  validTimestamp?: number;
}

const MIN_READ = 64 * 1024;
const MAX_PLANNED = 16 * 1024 * 1024;
/** Bytes per positional read; the next one is in flight while a piece is decoded. */
const PIECE = 1024 * 1024;
const SEEK_CHUNK = 4 * INDEX_INTERVAL;
/** File bytes a record can take beyond its key and data: its own header and, at worst, a batch's. */
const RECORD_SLACK = RECORD_OVERHEAD + HEADER_SIZE;

export async function readRecords(view: LogView, fromOffset: number, maxRecords: number, maxBytes: number): Promise<ReadResult> {
  const from = Math.max(fromOffset, view.startOffset);
  const acc: ReadAccumulator = { records: [], bytes: 0, maxRecords, maxBytes, full: !(maxRecords > 0), passed: -1 };
  if (!acc.full && from < view.nextOffset) {
    const segments = view.segments;
    for (let k = Math.max(0, findSegment(segments, from)); k < segments.length && !acc.full; k++) {
      const segment = segments[k];
      if (!segment.acquire()) continue;
      try {
        await readSegment(view, segment, Math.max(from, segment.base), acc);
      } finally {
        segment.release();
      }
    }
  }
  const n = acc.records.length;
  // A read that found nothing but lost offsets goes on after them.
  const nextOffset = n > 0 ? acc.records[n - 1].offset + 1 : Math.max(from, acc.passed);
  return { records: acc.records, nextOffset, bytes: acc.bytes };
}

async function readSegment(view: LogView, segment: Segment, from: number, acc: ReadAccumulator): Promise<void> {
  if (from >= segment.endOffset) return;
  const index = await view.indexOf(segment);
  const endOffset = segment.endOffset;
  const size = segment.size;
  if (from >= endOffset) return;
  const k = Math.max(0, index.floorByOffset(from));
  const start = index.positionAt(k);
  // Size the first read from the index (the records wanted lie before the first entry at or past
  // from + remaining) and from the byte limit, so one positional read usually does.
  const remaining = acc.maxRecords - acc.records.length;
  const c = index.ceilByOffset(from + remaining);
  const spanEnd = c < index.count ? Math.min(index.positionAt(c), size) : size;
  const byBytes = acc.maxBytes - acc.bytes + remaining * RECORD_SLACK + 2 * INDEX_INTERVAL;
  const planned = Math.max(MIN_READ, Math.min(spanEnd - start, byBytes, MAX_PLANNED));
  await walk(
    view,
    segment,
    index,
    k,
    size,
    endOffset,
    planned,
    (cursor) => {
      const h = cursor.header;
      if (h.baseOffset + h.count > from) decodeRecords(cursor.buf, cursor.at, h, from, endOffset, acc);
      return acc.full;
    },
    (lostTo) => passLost(acc, lostTo),
  );
}

export async function offsetAtTimestamp(view: LogView, timestamp: number): Promise<number> {
  const start = view.startOffset;
  const next = view.nextOffset;
  const segments = view.segments;
  for (let k = Math.max(0, findSegment(segments, start)); k < segments.length; k++) {
    const segment = segments[k];
    if (segment.endOffset <= start || !(segment.lastTimestamp >= timestamp)) continue;
    if (!segment.acquire()) continue;
    let found = -1;
    try {
      found = await findInSegment(view, segment, start, timestamp);
    } finally {
      segment.release();
    }
    if (found >= 0) return found;
  }
  return next;
}

async function findInSegment(view: LogView, segment: Segment, from: number, timestamp: number): Promise<number> {
  const index = await view.indexOf(segment);
  const endOffset = segment.endOffset;
  const k = Math.max(0, index.lastBeforeTimestamp(timestamp), index.floorByOffset(from));
  let found = -1;
  await walk(view, segment, index, k, segment.size, endOffset, SEEK_CHUNK, (cursor) => {
    const h = cursor.header;
    if (h.baseOffset + h.count <= from || h.baseTimestamp + h.maxDelta < timestamp) return false;
    const offset = findTimestamp(cursor.buf, cursor.at, h, from, timestamp);
    if (offset < 0) return false;
    if (offset < endOffset) found = offset;
    return true;
  });
  return found;
}

export async function timestampAt(view: LogView, offset: number): Promise<number | undefined> {
  if (!Number.isInteger(offset) || offset < view.startOffset || offset >= view.nextOffset) return undefined;
  const segments = view.segments;
  const k = findSegment(segments, offset);
  if (k < 0) return undefined;
  const segment = segments[k];
  if (offset >= segment.endOffset || !segment.acquire()) return undefined;
  try {
    const index = await view.indexOf(segment);
    const endOffset = segment.endOffset;
    if (offset >= endOffset) return undefined;
    let result: number | undefined;
    const entry = Math.max(0, index.floorByOffset(offset));
    await walk(view, segment, index, entry, segment.size, endOffset, SEEK_CHUNK, (cursor) => {
      const h = cursor.header;
      if (h.baseOffset + h.count <= offset) return false;
      if (h.baseOffset > offset) return true;
      result = timestampOf(cursor.buf, cursor.at, h, offset);
      return true;
    });
    return result;
  } finally {
    segment.release();
  }
}

/** Index of the last segment whose base is <= offset, or -1. */
function findSegment(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].base <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Walks the good batches of a segment from index entry `k` up to `size` bytes and `endOffset`,
 * reading about `planned` bytes ahead, handing each to `visit` until it returns true. Known holes
 * are stepped over; a bad batch, or one whose offset breaks the sequence, becomes a new hole (see
 * LogView.damaged) and is stepped over too. `lost` hears of the offset after each hole passed.
 */
async function walk(
  view: LogView,
  segment: Segment,
  index: SparseIndex,
  k: number,
  size: number,
  endOffset: number,
  planned: number,
  visit: (cursor: BatchCursor) => boolean,
  lost?: (to: number) => void,
): Promise<void> {
  const pieceSize = Math.min(planned, PIECE);
  let cursor = new BatchCursor(segment, index.positionAt(k), size, planned, pieceSize);
  let expected = index.offsetAt(k);
  let newest = index.timestampAt(k);
  const stepOver = (hole: Hole) => {
    if (hole.toOffset > expected) expected = hole.toOffset;
    lost?.(hole.toOffset);
    if (hole.end !== cursor.nextPosition) cursor = new BatchCursor(segment, hole.end, size, planned, pieceSize);
  };
  while (expected < endOffset) {
    const known = segment.holeAt(cursor.nextPosition);
    if (known) {
      stepOver(known);
      if (expected >= endOffset) return;
    }
    let status = await cursor.next();
    if (status === 'end') return;
    const h = cursor.header;
    let valid: Pick<Damage, 'validBase' | 'validTimestamp'> = {};
    if (status === 'ok' && h.baseOffset !== expected) {
      cursor.reason = `batch at byte ${cursor.position} starts at offset ${h.baseOffset}, expected ${expected}`;
      if (h.baseOffset > expected && h.baseOffset + h.count <= endOffset) valid = { validBase: h.baseOffset, validTimestamp: h.baseTimestamp };
      status = 'corrupt';
    }
    if (status === 'corrupt') {
      const position = cursor.position;
      const damage: Damage = { position, expected, minTimestamp: newest, size, endOffset, reason: cursor.reason, ...valid };
      const hole = await view.damaged(segment, damage);
      // A batch known good that has gone bad since (an empty hole at it): nothing safe is left to
      // serve in this walk.
      if (hole.end === position && valid.validBase === undefined) return;
      stepOver(hole);
      continue;
    }
    if (visit(cursor)) return;
    expected += h.count;
    newest = h.baseTimestamp + h.maxDelta;
  }
}
