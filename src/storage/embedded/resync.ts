/**
 * Finding the way back into a segment after a damaged batch: the next batch that passes every
 * check and whose offsets and timestamp continue sensibly from what came before it.
 *
 * The damaged batch's own length field is tried first (a flipped byte in a batch's body leaves its
 * frame intact, so the next batch starts right after it). Failing that, the bytes are searched
 * for the batch magic and each candidate is checked in full: frame, CRC, format, the layout of its
 * records, an offset at or after the first one not yet accounted for and within the segment's
 * end, a timestamp no older than the one before. The CRC makes a false match of random bytes
 * unlikely to the order of 2^-32 per candidate. A batch that a producer wrote inside its own
 * record data would pass too; it can only be met where damage has already cost records.
 */
import { BATCH_MAGIC, crcMatches, frameLength, HEADER_SIZE, knownFormat, newHeader, readHeader, recordsWellFormed, type BatchHeader } from './format.js';
import type { PositionalSource } from './batch-cursor.js';

/** The batch a walk goes on at after damage. */
export interface ResyncPoint {
  position: number;
  baseOffset: number;
  baseTimestamp: number;
}

/** What a batch found after damage must agree with. */
export interface ResyncBounds {
  /** File bytes to search, [damaged, end). */
  damaged: number;
  end: number;
  /** The first offset not accounted for: the batch found must start at or after it. */
  expected: number;
  /** The offset the segment ends at, when known: the batch found must end at or before it. */
  endOffset: number;
  /** The newest timestamp before the damage (NaN when none): the batch found must not be older. */
  minTimestamp: number;
}

const CHUNK = 1 << 20;
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(BATCH_MAGIC, 0);

/** The next good batch after the damage at `bounds.damaged`, or null when there is none before `end`. */
export async function findNextBatch(src: PositionalSource, bounds: ResyncBounds): Promise<ResyncPoint | null> {
  const { damaged, end } = bounds;
  const h = newHeader();
  if (end - damaged >= HEADER_SIZE) {
    const head = await src.readAt(damaged, HEADER_SIZE);
    const length = head.length === HEADER_SIZE ? frameLength(head, 0) : -1;
    // A frame that still ends exactly at the end of the data: the last batch is the damaged one.
    if (length > 0 && damaged + length === end) return null;
    if (length > 0 && damaged + length < end && (await candidate(src, damaged + length, bounds, h))) {
      return { position: damaged + length, baseOffset: h.baseOffset, baseTimestamp: h.baseTimestamp };
    }
  }
  for (let from = damaged; from + HEADER_SIZE <= end; from += CHUNK) {
    const chunk = await src.readAt(from, Math.min(CHUNK + 3, end - from));
    for (let i = chunk.indexOf(MAGIC_BYTES); i >= 0 && i < CHUNK; i = chunk.indexOf(MAGIC_BYTES, i + 1)) {
      const position = from + i;
      if (position + HEADER_SIZE > end) return null;
      if (await candidate(src, position, bounds, h)) return { position, baseOffset: h.baseOffset, baseTimestamp: h.baseTimestamp };
    }
  }
  return null;
}

async function candidate(src: PositionalSource, position: number, bounds: ResyncBounds, h: BatchHeader): Promise<boolean> {
  const head = await src.readAt(position, HEADER_SIZE);
  if (head.length < HEADER_SIZE) return false;
  const length = frameLength(head, 0);
  if (length < 0 || position + length > bounds.end) return false;
  readHeader(head, 0, h);
  if (!knownFormat(h.format) || h.count < 1) return false;
  if (h.baseOffset < bounds.expected || h.baseOffset + h.count > bounds.endOffset) return false;
  if (h.baseTimestamp < bounds.minTimestamp) return false;
  const batch = length === HEADER_SIZE ? head : await src.readAt(position, length);
  if (batch.length < length || !crcMatches(batch, 0, length)) return false;
  return recordsWellFormed(batch, 0, h);
}
