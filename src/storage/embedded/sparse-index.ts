/**
 * The sparse in-memory index of one segment: an entry for the first batch of the segment and then
 * for the first batch starting at least INDEX_INTERVAL bytes after the previous entry. Each entry
 * holds the batch's base offset (as a delta from the segment's base), its file position and its
 * base timestamp. Offsets and timestamps never decrease, so both can be binary searched; a lookup
 * then scans forward at most about INDEX_INTERVAL bytes plus one batch.
 */

export const INDEX_INTERVAL = 4096;

export class SparseIndex {
  count = 0;
  private offsets: Uint32Array;
  private positions: Uint32Array;
  private timestamps: Float64Array;

  constructor(
    readonly base: number,
    capacity = 16,
  ) {
    this.offsets = new Uint32Array(capacity);
    this.positions = new Uint32Array(capacity);
    this.timestamps = new Float64Array(capacity);
  }

  offsetAt(i: number): number {
    return this.base + this.offsets[i];
  }

  positionAt(i: number): number {
    return this.positions[i];
  }

  timestampAt(i: number): number {
    return this.timestamps[i];
  }

  /** Records a batch written at `position`, if it is due an entry. */
  add(offset: number, position: number, timestamp: number): void {
    const n = this.count;
    if (n > 0 && position - this.positions[n - 1] < INDEX_INTERVAL) return;
    this.push(offset, position, timestamp);
  }

  push(offset: number, position: number, timestamp: number): void {
    const n = this.count;
    if (n === this.offsets.length) this.grow(n * 2);
    this.offsets[n] = offset - this.base;
    this.positions[n] = position;
    this.timestamps[n] = timestamp;
    this.count = n + 1;
  }

  /** Index of the last entry with offset <= `offset`, or -1. */
  floorByOffset(offset: number): number {
    const target = offset - this.base;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid] <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Index of the first entry with offset >= `offset`, or count. */
  ceilByOffset(offset: number): number {
    return this.floorByOffset(offset - 1) + 1;
  }

  /** Index of the last entry whose timestamp is < `timestamp`, or -1. */
  lastBeforeTimestamp(timestamp: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid] < timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Drops the entries of batches at or after `position`. */
  truncate(position: number): void {
    while (this.count > 0 && this.positions[this.count - 1] >= position) this.count--;
  }

  private grow(capacity: number): void {
    const offsets = new Uint32Array(capacity);
    const positions = new Uint32Array(capacity);
    const timestamps = new Float64Array(capacity);
    offsets.set(this.offsets.subarray(0, this.count));
    positions.set(this.positions.subarray(0, this.count));
    timestamps.set(this.timestamps.subarray(0, this.count));
    this.offsets = offsets;
    this.positions = positions;
    this.timestamps = timestamps;
  }
}
