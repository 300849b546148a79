/**
 * Scanning a segment file from its start, checking every batch: how recovery validates the
 * active segment, rebuilds a closed segment's index, and how `tributary check` verifies one.
 *
 * Damage does not end the scan: it goes on at the next good batch (see resync.ts), and what lay
 * between is a hole, whose offsets are lost. Damage with no good batch after it is a hole to the
 * end of the file when the segment's end offset is known (a closed segment), and otherwise a torn
 * tail, which the caller cuts off.
 */
import { BatchCursor, type PositionalSource } from './batch-cursor.js';
import { BATCH_FORMAT_GAP } from './format.js';
import type { SegmentSummary } from './index-file.js';
import { findNextBatch } from './resync.js';
import { SparseIndex } from './sparse-index.js';

/** Damaged bytes of a segment and the offsets lost with them. */
export interface Hole {
  /** File bytes [position, end) hold no good batch. */
  position: number;
  end: number;
  /** Offsets [fromOffset, toOffset) were lost with them (none when equal). */
  fromOffset: number;
  toOffset: number;
  /** What was wrong at `position`. */
  reason: string;
  /**
   * A timestamp for a gap batch written in its place: that of the newest record before it, or of
   * the first after it, or 0 when neither is known.
   */
  timestamp: number;
}

/** The timestamp a hole's gap batch gets (see Hole.timestamp). */
export function gapTimestamp(before: number, after: number | undefined): number {
  if (!Number.isNaN(before)) return before;
  return after === undefined || Number.isNaN(after) ? 0 : after;
}

/** Bytes at the end of an active segment that are no whole, good batch: a write cut short. */
export interface TornTail {
  position: number;
  reason: string;
}

export interface ScanResult extends SegmentSummary {
  index: SparseIndex;
  /** In file order. */
  holes: Hole[];
  /** Set when the scan ended at a torn tail; `size` and `endOffset` stop before it. */
  tail: TornTail | null;
  /** Good batches, gaps included, and offsets that earlier repairs recorded as lost (gaps). */
  batches: number;
  gapOffsets: number;
}

const SCAN_CHUNK = 1 << 20;

/**
 * Scans `fileSize` bytes of a segment. `knownEnd` is the offset the segment ends at when that is
 * known from elsewhere (its index, the next segment's base): damage at the end of the file is then
 * a hole up to it. Without it, damage with no good batch after it is a torn tail: a write that a
 * crash cut short looks the same as a damaged last batch (a file can be extended before its data
 * reaches the disk), and such a write was never acknowledged in fsync mode 'always'.
 */
export async function scanSegment(src: PositionalSource, base: number, fileSize: number, knownEnd?: number): Promise<ScanResult> {
  const index = new SparseIndex(base);
  let cursor = new BatchCursor(src, 0, fileSize, fileSize, SCAN_CHUNK);
  let endOffset = base;
  let size = 0;
  let firstTimestamp = NaN;
  let lastTimestamp = NaN;
  let batches = 0;
  let gapOffsets = 0;
  const holes: Hole[] = [];
  let tail: TornTail | null = null;
  for (;;) {
    const status = await cursor.next();
    if (status === 'end') break;
    const h = cursor.header;
    let reason = cursor.reason;
    if (status === 'ok' && h.baseOffset > endOffset && h.baseOffset + h.count <= (knownEnd ?? Number.MAX_SAFE_INTEGER)) {
      // A good batch after missing offsets: those offsets are lost, the batch is kept.
      reason = `batch at byte ${cursor.position} starts at offset ${h.baseOffset}, expected ${endOffset}`;
      const timestamp = gapTimestamp(lastTimestamp, h.baseTimestamp);
      holes.push({ position: cursor.position, end: cursor.position, fromOffset: endOffset, toOffset: h.baseOffset, reason, timestamp });
      endOffset = h.baseOffset;
    }
    if (status === 'ok') {
      if (h.baseOffset !== endOffset) reason = `batch at byte ${cursor.position} starts at offset ${h.baseOffset}, expected ${endOffset}`;
      else if (h.baseTimestamp < lastTimestamp) {
        reason = `batch at byte ${cursor.position} has timestamp ${h.baseTimestamp}, older than ${lastTimestamp}`;
      } else {
        index.add(h.baseOffset, cursor.position, h.baseTimestamp);
        if (endOffset === base) firstTimestamp = h.baseTimestamp;
        lastTimestamp = h.baseTimestamp + h.maxDelta;
        endOffset += h.count;
        size = cursor.position + h.length;
        batches++;
        if (h.format === BATCH_FORMAT_GAP) gapOffsets += h.count;
        continue;
      }
    }
    const damaged = cursor.position;
    const next = await findNextBatch(src, {
      damaged,
      end: fileSize,
      expected: endOffset,
      endOffset: knownEnd ?? Number.MAX_SAFE_INTEGER,
      minTimestamp: lastTimestamp,
    });
    if (next) {
      const timestamp = gapTimestamp(lastTimestamp, next.baseTimestamp);
      holes.push({ position: damaged, end: next.position, fromOffset: endOffset, toOffset: next.baseOffset, reason, timestamp });
      endOffset = next.baseOffset;
      cursor = new BatchCursor(src, next.position, fileSize, fileSize - next.position, SCAN_CHUNK);
      continue;
    }
    if (knownEnd !== undefined && knownEnd >= endOffset) {
      const timestamp = gapTimestamp(lastTimestamp, undefined);
      holes.push({ position: damaged, end: fileSize, fromOffset: endOffset, toOffset: knownEnd, reason, timestamp });
      endOffset = knownEnd;
      size = fileSize;
    } else tail = { position: damaged, reason };
    break;
  }
  return { base, endOffset, size, firstTimestamp, lastTimestamp, index, holes, tail, batches, gapOffsets };
}
