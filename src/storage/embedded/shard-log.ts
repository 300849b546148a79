/**
 * The log of one shard: a list of segments, the last of which is written to.
 *
 * Writes go through group commit. append() encodes its records into one batch and queues it; one
 * flusher at a time takes everything queued, gives the batches their offsets and timestamps, writes
 * them with one positional writev per segment, fdatasyncs when the mode is 'always', and then, in
 * one synchronous step, publishes the new size and offsets (making the records visible to reads)
 * and resolves the appends in call order. Appends that arrive meanwhile wait for the next flush. A
 * failed write rejects the appends it carried and cuts the file back to where it was.
 *
 * Everything that changes the segment list or the file being written (flushes, rolls, trims,
 * closing) runs one at a time on a promise chain; reads do not wait for it.
 *
 * Damage is never cut out of a segment here: reads step over it (see reads.ts), each hole is
 * reported once per process with the bytes and offsets it cost, and `tributary check --repair`
 * rewrites the segment. Damage found in the active segment rolls it, so that its end offset is
 * kept in its index and a restart cannot take the damage for a torn tail.
 */
import { join } from 'node:path';
import type { AppendResult, LogOptions, ReadResult, RecordInput, ShardLog } from '../types.js';
import { warner, type EmbeddedHooks } from './events.js';
import { encodeBatch, sealBatch } from './format.js';
import { offsetAtTimestamp, readRecords, timestampAt, type Damage, type LogView } from './reads.js';
import { recoverLog, reportHole } from './recovery.js';
import { findNextBatch } from './resync.js';
import { gapTimestamp, type Hole } from './scan.js';
import { Segment, type SegmentContext } from './segment.js';
import type { SparseIndex } from './sparse-index.js';
import { TRIM_POINT_FILE } from './names.js';
import { writeTrimPoint } from './trim-point.js';

interface PendingAppend {
  batch: Buffer;
  count: number;
  timestamp: number;
  /** Set by the flusher. */
  offset: number;
  stored: number;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** Counters for tests and metrics. */
export interface LogStats {
  /** Batches of appends taken by the flusher. */
  flushes: number;
  /** Write calls that succeeded. */
  writes: number;
  /** fdatasyncs of segment files. */
  syncs: number;
  rolls: number;
}

/** Closed segments whose index and file handle stay loaded after use. */
const WARM_SEGMENTS = 8;
/** Positions in the index are 32-bit. */
const MAX_SEGMENT_BYTES = 0xffffffff;

export class EmbeddedShardLog implements ShardLog, LogView {
  segments: readonly Segment[];
  readonly stats: LogStats = { flushes: 0, writes: 0, syncs: 0, rolls: 0 };
  private start: number;
  private next: number;
  private last: number | undefined;
  private pending: PendingAppend[] = [];
  private flushQueued = false;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes were written to the active segment since its last fdatasync. */
  private unsynced = false;
  private syncing = false;
  /** A failed write could not be cut back; the next write must do it first. */
  private dirtyTail = false;
  private closing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private warm: Segment[] = [];
  private rollQueued = false;

  private constructor(
    readonly dir: string,
    private readonly options: LogOptions,
    private readonly ctx: SegmentContext,
    private readonly hooks: EmbeddedHooks,
    private readonly onClosing: ((log: EmbeddedShardLog, closed: Promise<void>) => void) | undefined,
    recovered: Awaited<ReturnType<typeof recoverLog>>,
  ) {
    this.segments = recovered.segments;
    this.start = recovered.startOffset;
    this.next = recovered.nextOffset;
    this.last = recovered.lastTimestamp;
    for (const segment of this.segments) this.touch(segment);
    if (options.fsync === 'interval') {
      this.timer = setInterval(() => this.syncInBackground(), options.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Opens (creating or recovering) the log kept in `dir`. `onClosing` is told when close() starts,
   * with a promise of its end.
   */
  static async open(
    dir: string,
    options: LogOptions,
    hooks: EmbeddedHooks = {},
    onClosing?: (log: EmbeddedShardLog, closed: Promise<void>) => void,
  ): Promise<EmbeddedShardLog> {
    let log: EmbeddedShardLog | undefined;
    const ctx: SegmentContext = {
      warn: warner(hooks),
      durable: options.fsync !== 'never',
      onHole: (segment, hole) => log?.holeFound(segment, hole),
    };
    // Holes found while recovering are reported by recovery itself.
    const recovered = await recoverLog(dir, ctx);
    log = new EmbeddedShardLog(dir, options, ctx, hooks, onClosing, recovered);
    return log;
  }

  get nextOffset(): number {
    return this.next;
  }

  get startOffset(): number {
    return this.start;
  }

  get lastTimestamp(): number | undefined {
    return this.last;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1];
  }

  append(records: readonly RecordInput[], timestamp: number): Promise<AppendResult> {
    if (this.closing) return Promise.reject(new Error(`log ${this.dir} is closed`));
    if (records.length === 0) return Promise.reject(new RangeError('append needs at least one record'));
    if (!Number.isSafeInteger(timestamp)) return Promise.reject(new TypeError(`timestamp ${timestamp} is not an integer`));
    let batch: Buffer;
    try {
      batch = encodeBatch(records);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ batch, count: records.length, timestamp, offset: 0, stored: 0, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.exclusive(() => this.flush());
      }
    });
  }

  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ReadResult> {
    if (this.closing) return Promise.reject(new Error(`log ${this.dir} is closed`));
    return readRecords(this, fromOffset, maxRecords, maxBytes);
  }

  offsetAtTimestamp(timestamp: number): Promise<number> {
    if (this.closing) return Promise.reject(new Error(`log ${this.dir} is closed`));
    return offsetAtTimestamp(this, timestamp);
  }

  timestampAt(offset: number): Promise<number | undefined> {
    if (this.closing) return Promise.reject(new Error(`log ${this.dir} is closed`));
    return timestampAt(this, offset);
  }

  trim(before: number): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`log ${this.dir} is closed`));
    return this.exclusive(async () => {
      const target = await offsetAtTimestamp(this, before);
      if (target > this.start) {
        // Persisted before any file goes, so a restart never shows trimmed records again.
        try {
          await writeTrimPoint(this.dir, { startOffset: target, lastTimestamp: this.last }, this.ctx.durable);
        } catch (err) {
          // A full disk: retention must still go on, as it is what frees space. Whole expired
          // segments are deleted all the same; after a restart the records left before `target`
          // (in the first remaining segment) are older than `before`, so the first trim, which
          // runs before the first read, hides them again.
          this.ctx.warn('write-failed', join(this.dir, TRIM_POINT_FILE), `${(err as Error).message}; trimmed without a new trim point`);
        }
        this.start = target;
      }
      for (;;) {
        const oldest = this.segments[0];
        const expired = oldest.empty || oldest.lastTimestamp < before || oldest.endOffset <= this.start;
        if (!expired) break;
        if (oldest === this.active) {
          if (oldest.empty) break;
          // Roll first: the new, empty active segment keeps nextOffset in its name.
          await this.roll();
          continue;
        }
        this.segments = this.segments.slice(1);
        this.forget(oldest);
        await oldest.remove();
      }
      // Everything expired (an idle shard, or a closed one past retention): hold no file open for it.
      if (this.start === this.next && this.pending.length === 0) this.active.closeIdleHandle();
    });
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.shutdown();
      this.onClosing?.(this, this.closing);
    }
    return this.closing;
  }

  // --- LogView, for the read side

  indexOf(segment: Segment): Promise<SparseIndex> {
    this.touch(segment);
    return segment.loadIndex();
  }

  async damaged(segment: Segment, damage: Damage): Promise<Hole> {
    const known = segment.holeAt(damage.position);
    if (known) return known;
    const { position, expected, minTimestamp, size, endOffset, reason } = damage;
    const next =
      damage.validBase !== undefined
        ? { position, baseOffset: damage.validBase, baseTimestamp: damage.validTimestamp ?? NaN }
        : await findNextBatch(segment, { damaged: position, end: size, expected, endOffset, minTimestamp });
    const hole: Hole = {
      position,
      end: next ? next.position : size,
      fromOffset: expected,
      toOffset: next ? next.baseOffset : endOffset,
      reason,
      timestamp: gapTimestamp(minTimestamp, next?.baseTimestamp),
    };
    // Another read may have found it meanwhile.
    if (!segment.addHole(hole)) return segment.holeAt(position) ?? hole;
    this.holeFound(segment, hole);
    return hole;
  }

  /** Reports a hole found by a read, and rolls the active segment when it is in it. */
  holeFound(segment: Segment, hole: Hole): void {
    reportHole(this.ctx, segment, hole);
    if (segment === this.active && !this.rollQueued && !this.closing) {
      this.rollQueued = true;
      const rolled = this.exclusive(async () => {
        this.rollQueued = false;
        if (segment === this.active && !segment.empty) await this.roll();
      });
      rolled.catch((err: Error) => this.ctx.warn('write-failed', segment.path, `could not roll the damaged segment: ${err.message}`));
    }
  }

  // --- the write side, run on the chain

  private exclusive<T>(op: () => Promise<T>): Promise<T> {
    const result = this.chain.then(op);
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const queue = this.pending;
    this.pending = [];
    this.stats.flushes++;
    let i = 0;
    while (i < queue.length) {
      try {
        if (this.dirtyTail) {
          await this.active.truncate(this.active.size);
          this.dirtyTail = false;
        }
        const j = this.planWrite(queue, i);
        if (j === i) {
          await this.roll();
          continue;
        }
        await this.write(queue, i, j);
        i = j;
      } catch (err) {
        // Could not cut back a failed write, or could not roll: this append fails, later ones try again.
        queue[i++].reject(err);
      }
    }
  }

  /** How many queued appends, from `i`, go into the active segment before it must roll. */
  private planWrite(queue: PendingAppend[], i: number): number {
    const segment = this.active;
    const { segmentBytes, segmentMaxAgeMs } = this.options;
    let size = segment.size;
    let first = segment.empty ? NaN : segment.firstTimestamp;
    let last = this.last ?? -Infinity;
    let j = i;
    for (; j < queue.length; j++) {
      const length = queue[j].batch.length;
      const timestamp = Math.max(queue[j].timestamp, last);
      if (!Number.isNaN(first)) {
        if (size + length > segmentBytes || size + length > MAX_SEGMENT_BYTES) break;
        if (timestamp - first > segmentMaxAgeMs) break;
      } else first = timestamp;
      size += length;
      last = timestamp;
    }
    return j;
  }

  /** Writes appends [i, j) to the active segment, then publishes and resolves them. */
  private async write(queue: PendingAppend[], i: number, j: number): Promise<void> {
    const segment = this.active;
    const position = segment.size;
    let offset = this.next;
    let last = this.last ?? -Infinity;
    const buffers: Buffer[] = new Array<Buffer>(j - i);
    for (let k = i; k < j; k++) {
      const p = queue[k];
      const stored = Math.max(p.timestamp, last);
      sealBatch(p.batch, offset, stored);
      p.offset = offset;
      p.stored = stored;
      offset += p.count;
      last = stored;
      buffers[k - i] = p.batch;
    }
    let failure: unknown = null;
    try {
      await segment.writeAll(buffers, position);
      if (this.options.fsync === 'always') {
        await segment.sync();
        this.noteSync(segment);
      }
    } catch (err) {
      failure = err;
    }
    if (failure !== null) {
      await segment.truncate(position).catch(() => {
        this.dirtyTail = true;
      });
      for (let k = i; k < j; k++) queue[k].reject(failure);
      return;
    }
    this.stats.writes++;
    // Publish: from here to the end nothing awaits, so a reader sees all of this write or none.
    const index = segment.index as SparseIndex;
    let at = position;
    for (let k = i; k < j; k++) {
      const p = queue[k];
      index.add(p.offset, at, p.stored);
      at += p.batch.length;
    }
    if (segment.empty) segment.firstTimestamp = queue[i].stored;
    segment.size = at;
    segment.endOffset = offset;
    segment.lastTimestamp = last;
    this.last = last;
    if (this.options.fsync !== 'always') this.unsynced = true;
    for (let k = i; k < j; k++) queue[k].resolve({ firstOffset: queue[k].offset, timestamp: queue[k].stored });
    this.next = offset;
  }

  /** Closes the active segment and starts a new, empty one named by nextOffset. */
  private async roll(): Promise<void> {
    const old = this.active;
    if (this.dirtyTail) {
      await old.truncate(old.size);
      this.dirtyTail = false;
    }
    if (this.unsynced && this.options.fsync !== 'never') {
      await old.sync();
      this.noteSync(old);
    }
    this.unsynced = false;
    const next = await Segment.create(this.dir, this.next, this.ctx);
    this.segments = [...this.segments, next];
    this.stats.rolls++;
    this.touch(old);
    await old.writeIndexFile().catch((err: Error) => this.ctx.warn('write-failed', old.indexPath, err.message));
  }

  private syncInBackground(): void {
    if (!this.unsynced || this.syncing || this.closing) return;
    const segment = this.active;
    if (!segment.acquire()) return;
    this.syncing = true;
    this.unsynced = false;
    segment
      .sync()
      .then(
        () => this.noteSync(segment),
        (err: Error) => {
          this.unsynced = true;
          this.ctx.warn('sync-failed', segment.path, err.message);
        },
      )
      .finally(() => {
        this.syncing = false;
        segment.release();
      });
  }

  private noteSync(segment: Segment): void {
    this.stats.syncs++;
    this.hooks.onSync?.(segment.path);
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    try {
      // Appends made before close() are queued ahead of this on the chain.
      await this.exclusive(async () => {
        const active = this.active;
        if (this.dirtyTail) await active.truncate(active.size);
        await active.sync();
        this.noteSync(active);
        this.unsynced = false;
      });
    } finally {
      await Promise.all(this.segments.map((segment) => segment.retire()));
    }
  }

  private touch(segment: Segment): void {
    if (segment === this.active) return;
    const i = this.warm.lastIndexOf(segment);
    if (i === this.warm.length - 1 && i >= 0) return;
    if (i >= 0) this.warm.splice(i, 1);
    this.warm.push(segment);
    if (this.warm.length > WARM_SEGMENTS) this.warm.shift()?.cool();
  }

  private forget(segment: Segment): void {
    const i = this.warm.indexOf(segment);
    if (i >= 0) this.warm.splice(i, 1);
  }
}
