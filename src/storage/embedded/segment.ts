/**
 * One segment: a file of batches named by its base offset, what the log knows about it, its sparse
 * index (always in memory for the active segment, loaded on demand for closed ones), and the file
 * handle that reads and writes it.
 *
 * Whoever reads through a segment holds it with acquire()/release(); a retired (deleted or closed)
 * segment closes its handle once the last holder lets go, and a cooled one closes its handle and
 * drops its index until it is used again.
 */
import { fdatasync, writevSync } from 'node:fs';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { openPrivate, writePrivateFile } from '../../util/private-files.js';
import { join } from 'node:path';
import type { PositionalSource } from './batch-cursor.js';
import type { Warn } from './events.js';
import { decodeIndexEntries, decodeIndexHeader, encodeIndexFile, type SegmentSummary } from './index-file.js';
import { indexFileName, segmentFileName } from './names.js';
import { scanSegment, type Hole, type ScanResult } from './scan.js';
import { SparseIndex } from './sparse-index.js';

export interface SegmentContext {
  warn: Warn;
  /** Told of each hole newly found in this segment (after it was recorded with addHole). */
  onHole(segment: Segment, hole: Hole): void;
  /** Whether new files and directory entries are fsynced (every mode but 'never'). */
  durable: boolean;
}

export class Segment implements PositionalSource {
  readonly base: number;
  readonly path: string;
  readonly indexPath: string;
  /** Bytes of whole, written batches. */
  size: number;
  /** Offset after the last record. */
  endOffset: number;
  /** Timestamps of the first and the newest record; NaN while empty. */
  firstTimestamp: number;
  lastTimestamp: number;
  index: SparseIndex | null;
  /**
   * Damaged ranges found so far, in file order: reads skip them and go on after them. They are
   * found again on every start (or by the first read through them) until `tributary check
   * --repair` rewrites the segment.
   */
  holes: readonly Hole[] = [];
  private fh: FileHandle | null;
  private opening: Promise<FileHandle> | null = null;
  private loading: Promise<SparseIndex> | null = null;
  private readers = 0;
  private retired = false;
  private coolPending = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly dir: string,
    summary: SegmentSummary,
    index: SparseIndex | null,
    fh: FileHandle | null,
    private readonly ctx: SegmentContext,
  ) {
    this.base = summary.base;
    this.path = join(dir, segmentFileName(summary.base));
    this.indexPath = join(dir, indexFileName(summary.base));
    this.size = summary.size;
    this.endOffset = summary.endOffset;
    this.firstTimestamp = summary.firstTimestamp;
    this.lastTimestamp = summary.lastTimestamp;
    this.index = index;
    this.fh = fh;
  }

  /** Creates an empty segment file (failing if one exists) and makes its name durable. */
  static async create(dir: string, base: number, ctx: SegmentContext): Promise<Segment> {
    const summary = { base, endOffset: base, size: 0, firstTimestamp: NaN, lastTimestamp: NaN };
    const path = join(dir, segmentFileName(base));
    const fh = await openPrivate(path, 'wx+');
    try {
      if (ctx.durable) await syncDirectory(dir);
    } catch (err) {
      await fh.close();
      await unlink(path).catch(() => {});
      throw err;
    }
    return new Segment(dir, summary, new SparseIndex(base), fh, ctx);
  }

  get empty(): boolean {
    return this.endOffset === this.base;
  }

  /** The known hole that covers file position `position` (or starts there, when empty), if any. */
  holeAt(position: number): Hole | undefined {
    for (const hole of this.holes) {
      if (hole.position > position) return undefined;
      if (position < hole.end || hole.position === position) return hole;
    }
    return undefined;
  }

  /** Records a hole; false when one at the same place is known already. */
  addHole(hole: Hole): boolean {
    if (this.holeAt(hole.position)) return false;
    this.holes = [...this.holes, hole].sort((a, b) => a.position - b.position);
    return true;
  }

  /** Takes on what a scan of the file found. */
  adopt(scan: ScanResult): void {
    this.size = scan.size;
    this.endOffset = scan.endOffset;
    this.firstTimestamp = scan.firstTimestamp;
    this.lastTimestamp = scan.lastTimestamp;
    this.index = scan.index;
    this.holes = scan.holes;
  }

  summary(): SegmentSummary {
    const { base, endOffset, size, firstTimestamp, lastTimestamp } = this;
    return { base, endOffset, size, firstTimestamp, lastTimestamp };
  }

  /** Holds the segment open for reading; false when it has been retired. */
  acquire(): boolean {
    if (this.retired) return false;
    this.readers++;
    return true;
  }

  release(): void {
    if (--this.readers > 0) return;
    if (this.coolPending && !this.retired) this.cool();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Drops the index and closes the file handle when unused; both come back on the next use. */
  cool(): void {
    this.index = null;
    if (this.readers > 0 || this.opening) {
      this.coolPending = true;
      return;
    }
    this.coolPending = false;
    const fh = this.fh;
    this.fh = null;
    if (fh) void fh.close().catch(() => {});
  }

  /**
   * Closes the file handle if nothing holds the segment, keeping the index; the next use opens the
   * file again. For an active segment with nothing readable in its log, so that the logs of idle and
   * expired shards hold no file open.
   */
  closeIdleHandle(): void {
    if (this.readers > 0 || this.opening || !this.fh) return;
    const fh = this.fh;
    this.fh = null;
    void fh.close().catch(() => {});
  }

  /** Closes the segment for good, once the last holder has released it. */
  async retire(): Promise<void> {
    this.retired = true;
    while (this.readers > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.opening) await this.opening.catch(() => {});
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }

  /** Deletes the files; the handle closes once no reader holds the segment. */
  async remove(): Promise<void> {
    void this.retire().catch(() => {});
    await unlink(this.path);
    await unlink(this.indexPath).catch(ignoreMissing);
  }

  async readAt(position: number, length: number): Promise<Buffer> {
    const fh = await this.handle();
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }

  /**
   * Writes `buffers` at `position`, all of them or an error. The write is synchronous: it only
   * copies into the page cache, which costs a few microseconds, while a round trip through the
   * thread pool costs several times that on every flush. The fsync, which waits for the disk,
   * stays asynchronous.
   */
  async writeAll(buffers: Buffer[], position: number): Promise<void> {
    const fd = (await this.handle()).fd;
    let rest = buffers;
    let at = position;
    for (;;) {
      let want = 0;
      for (const b of rest) want += b.length;
      const bytesWritten = writevSync(fd, rest, at);
      if (bytesWritten === want) return;
      if (bytesWritten === 0) throw new Error(`write of ${want} bytes to ${this.path} made no progress`);
      // A short write (the disk filling up, a file size limit): write the rest, which either
      // succeeds or reports the actual error.
      at += bytesWritten;
      rest = skipBytes(rest, bytesWritten);
    }
  }

  async sync(): Promise<void> {
    const fd = (await this.handle()).fd;
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  async truncate(size: number): Promise<void> {
    const fh = await this.handle();
    await fh.truncate(size);
  }

  /** The index, read from the .idx file or rebuilt by a scan when that does not match. */
  loadIndex(): Promise<SparseIndex> {
    if (this.index) return Promise.resolve(this.index);
    this.loading ??= this.readIndex().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  async writeIndexFile(): Promise<void> {
    const index = this.index;
    if (!index) return;
    const tmp = `${this.indexPath}.tmp`;
    await writePrivateFile(tmp, encodeIndexFile(this.summary(), index));
    await rename(tmp, this.indexPath);
  }

  private async readIndex(): Promise<SparseIndex> {
    const buf = await readFile(this.indexPath).catch(() => null);
    const header = buf && decodeIndexHeader(buf);
    if (buf && header && header.base === this.base && header.size === this.size && header.endOffset === this.endOffset) {
      const index = decodeIndexEntries(buf, header);
      if (index) return (this.index = index);
    }
    this.ctx.warn('index-rebuilt', this.indexPath, 'index entries are missing or do not check; scanned the segment');
    const scan = await scanSegment(this, this.base, this.size, this.endOffset);
    this.index = scan.index;
    for (const hole of scan.holes) if (this.addHole(hole)) this.ctx.onHole(this, hole);
    await this.writeIndexFile().catch(() => {});
    return scan.index;
  }

  private handle(): Promise<FileHandle> {
    if (this.fh) return Promise.resolve(this.fh);
    this.opening ??= open(this.path, 'r+').then(
      (fh) => {
        this.opening = null;
        this.fh = fh;
        return fh;
      },
      (err: unknown) => {
        this.opening = null;
        throw err;
      },
    );
    return this.opening;
  }
}

function skipBytes(buffers: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (n >= buffers[i].length) n -= buffers[i++].length;
  const rest = buffers.slice(i);
  rest[0] = rest[0].subarray(n);
  return rest;
}

export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
