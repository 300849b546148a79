/**
 * Scanning a segment file from its start, checking every batch: how recovery validates the
 * active segment and rebuilds a closed segment's index.
 */
import { BatchCursor, type PositionalSource } from './batch-cursor.js';
import type { SegmentSummary } from './index-file.js';
import { SparseIndex } from './sparse-index.js';

export interface ScanResult extends SegmentSummary {
  index: SparseIndex;
  /** Why the scan stopped before the end of the file, or null when every byte was a good batch. */
  problem: string | null;
}

const SCAN_CHUNK = 1 << 20;

/**
 * Scans `fileSize` bytes of a segment. `size` and `endOffset` of the result describe the whole
 * good batches before the first problem.
 */
export async function scanSegment(src: PositionalSource, base: number, fileSize: number): Promise<ScanResult> {
  const index = new SparseIndex(base);
  const cursor = new BatchCursor(src, 0, fileSize, fileSize, SCAN_CHUNK);
  const h = cursor.header;
  let endOffset = base;
  let size = 0;
  let firstTimestamp = NaN;
  let lastTimestamp = NaN;
  let problem: string | null = null;
  for (;;) {
    const status = await cursor.next();
    if (status === 'end') break;
    if (status === 'corrupt') {
      problem = cursor.reason;
      break;
    }
    if (h.baseOffset !== endOffset) {
      problem = `batch at byte ${cursor.position} starts at offset ${h.baseOffset}, expected ${endOffset}`;
      break;
    }
    if (h.baseTimestamp < lastTimestamp) {
      problem = `batch at byte ${cursor.position} has timestamp ${h.baseTimestamp}, older than ${lastTimestamp}`;
      break;
    }
    index.add(h.baseOffset, cursor.position, h.baseTimestamp);
    if (endOffset === base) firstTimestamp = h.baseTimestamp;
    lastTimestamp = h.baseTimestamp + h.maxDelta;
    endOffset += h.count;
    size = cursor.position + h.length;
  }
  return { base, endOffset, size, firstTimestamp, lastTimestamp, index, problem };
}
