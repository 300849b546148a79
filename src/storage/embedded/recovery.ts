/**
 * Opening a shard's directory: closed segments come back from their .idx files (or a scan when
 * that is missing or does not match), the active segment is scanned batch by batch, and the log's
 * offsets and last timestamp are restored.
 *
 * A scan steps over damage to the next good batch and reports each hole with the offsets it cost;
 * the files are left as they are (`tributary check --repair` rewrites them). Only a torn tail of
 * the active segment, damage with no good batch after it, is cut off: that is what a crash in the
 * middle of a write leaves.
 */
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { mkdirPrivate } from '../../util/private-files.js';
import { dirname, join } from 'node:path';
import { decodeIndexHeader, INDEX_HEADER_SIZE, type IndexFileHeader } from './index-file.js';
import { indexFileName, parseIndexFileName, parseSegmentFileName, segmentFileName } from './names.js';
import { scanSegment, type Hole } from './scan.js';
import { ignoreMissing, Segment, syncDirectory, type SegmentContext } from './segment.js';
import { readTrimPoint, type TrimPoint } from './trim-point.js';

export interface RecoveredLog {
  /** Oldest first; the last one is the active segment. */
  segments: Segment[];
  startOffset: number;
  nextOffset: number;
  lastTimestamp: number | undefined;
}

export async function recoverLog(dir: string, ctx: SegmentContext): Promise<RecoveredLog> {
  const created = await mkdirPrivate(dir);
  if (created !== undefined && ctx.durable) {
    // Make the new directories' names durable: each one's parent, from the shard's upwards.
    for (let d = dir; d !== dirname(created); d = dirname(d)) await syncDirectory(dirname(d));
  }
  const bases: number[] = [];
  const indexed = new Set<number>();
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) {
      await unlink(join(dir, name)).catch(ignoreMissing);
      continue;
    }
    const base = parseSegmentFileName(name);
    if (base >= 0) bases.push(base);
    else {
      const indexBase = parseIndexFileName(name);
      if (indexBase >= 0) indexed.add(indexBase);
    }
  }
  bases.sort((a, b) => a - b);
  const present = new Set(bases);
  for (const base of indexed) {
    if (!present.has(base)) await unlink(join(dir, indexFileName(base))).catch(ignoreMissing);
  }
  const trim = await readTrimPoint(dir, ctx.warn);

  const segments: Segment[] = [];
  try {
    return await openSegments(dir, bases, indexed, trim, segments, ctx);
  } catch (err) {
    await Promise.allSettled(segments.map((segment) => segment.retire()));
    throw err;
  }
}

async function openSegments(
  dir: string,
  bases: number[],
  indexed: Set<number>,
  trim: TrimPoint | null,
  segments: Segment[],
  ctx: SegmentContext,
): Promise<RecoveredLog> {
  for (let k = 0; k < bases.length - 1; k++) {
    const segment = await openClosedSegment(dir, bases[k], bases[k + 1], indexed.has(bases[k]), ctx);
    if (segment) segments.push(segment);
  }
  const activeBase = bases.length > 0 ? bases[bases.length - 1] : (trim?.startOffset ?? 0);
  const active =
    bases.length > 0
      ? await openActiveSegment(dir, activeBase, indexed.has(activeBase), ctx)
      : await Segment.create(dir, activeBase, ctx);
  segments.push(active);

  for (let k = 0; k + 1 < segments.length; k++) {
    if (segments[k].endOffset > segments[k + 1].base) {
      throw new Error(`${segments[k].path} ends at offset ${segments[k].endOffset}, past the start of ${segments[k + 1].path}`);
    }
  }

  const nextOffset = active.endOffset;
  let lastTimestamp = trim?.lastTimestamp;
  for (let k = segments.length - 1; k >= 0; k--) {
    if (segments[k].empty) continue;
    if (lastTimestamp === undefined || segments[k].lastTimestamp > lastTimestamp) lastTimestamp = segments[k].lastTimestamp;
    break;
  }
  const startOffset = Math.min(Math.max(segments[0].base, trim?.startOffset ?? 0), nextOffset);
  return { segments, startOffset, nextOffset, lastTimestamp };
}

async function readIndexHeader(path: string): Promise<IndexFileHeader | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(INDEX_HEADER_SIZE);
    const { bytesRead } = await fh.read(buf, 0, INDEX_HEADER_SIZE, 0);
    return decodeIndexHeader(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/**
 * A closed segment, or null when it holds nothing (its files are then deleted). It ends at the
 * next segment's base at the latest, which bounds the offsets damage at its end can have cost.
 */
async function openClosedSegment(
  dir: string,
  base: number,
  nextBase: number,
  hasIndex: boolean,
  ctx: SegmentContext,
): Promise<Segment | null> {
  const path = join(dir, segmentFileName(base));
  const indexPath = join(dir, indexFileName(base));
  const { size } = await stat(path);
  if (hasIndex) {
    const header = await readIndexHeader(indexPath);
    if (header && header.base === base && header.size === size) return new Segment(dir, header, null, null, ctx);
  }
  ctx.warn('index-rebuilt', indexPath, hasIndex ? 'index does not match its segment; scanning' : 'index missing; scanning');
  const segment = await scanIntoSegment(dir, base, size, ctx, nextBase);
  if (segment.empty) {
    await segment.remove();
    return null;
  }
  await segment.writeIndexFile().catch((err: Error) => ctx.warn('write-failed', indexPath, err.message));
  return segment;
}

async function openActiveSegment(dir: string, base: number, hasIndex: boolean, ctx: SegmentContext): Promise<Segment> {
  if (hasIndex) await unlink(join(dir, indexFileName(base))).catch(ignoreMissing);
  const { size } = await stat(join(dir, segmentFileName(base)));
  return scanIntoSegment(dir, base, size, ctx);
}

/**
 * Scans a segment file, reporting its holes; a torn tail (only without `knownEnd`, for the active
 * segment) is cut off.
 */
async function scanIntoSegment(dir: string, base: number, fileSize: number, ctx: SegmentContext, knownEnd?: number): Promise<Segment> {
  const fh = await open(join(dir, segmentFileName(base)), 'r+');
  const summary = { base, endOffset: base, size: fileSize, firstTimestamp: NaN, lastTimestamp: NaN };
  const segment = new Segment(dir, summary, null, fh, ctx);
  try {
    const scan = await scanSegment(segment, base, fileSize, knownEnd);
    for (const hole of scan.holes) reportHole(ctx, segment, hole);
    if (scan.tail) {
      ctx.warn(
        'truncated-tail',
        segment.path,
        `torn tail: ${scan.tail.reason}; cut from ${fileSize} to ${scan.size} bytes, the log goes on at offset ${scan.endOffset}`,
        { bytes: { from: scan.size, to: fileSize } },
      );
      await fh.truncate(scan.size);
      if (ctx.durable) await fh.datasync();
    }
    segment.adopt(scan);
    return segment;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** The report of a hole: the bytes skipped and the offsets lost. */
export function reportHole(ctx: SegmentContext, segment: Segment, hole: Hole): void {
  const lost = hole.toOffset - hole.fromOffset;
  const records =
    lost > 0 ? `offsets ${hole.fromOffset} to ${hole.toOffset - 1} (${lost} record${lost === 1 ? '' : 's'}) lost` : 'no records lost';
  ctx.warn(
    'corrupt-batch',
    segment.path,
    `${hole.reason}; bytes ${hole.position} to ${hole.end} skipped, ${records}; reads go on after them`,
    { bytes: { from: hole.position, to: hole.end }, lost: { from: hole.fromOffset, to: hole.toOffset } },
  );
}
