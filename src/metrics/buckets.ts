/** One minute of clock time. */
export const MINUTE_MS = 60_000;

/** The minute (since the epoch) that an epoch-millisecond time falls in. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS);
}

/** Fields per metric in a bucket: sum, sample count, maximum. */
export const FIELDS = 3;

/** A completed minute: its metrics' sums, sample counts and maxima, FIELDS numbers per metric. */
export interface CompletedMinute {
  minute: number;
  values: Float64Array;
}

/**
 * One-minute buckets of a fixed set of metrics. A sample adds to the bucket of the minute the clock
 * is in: three number updates, no allocation. When the clock enters a new minute, the current bucket
 * is completed (kept in `completed` until drained) and a new one is started; a sample stamped with an
 * earlier minute than the current bucket's (a clock set back) is counted in the current bucket.
 */
export class MinuteBuckets {
  minute: number;
  values: Float64Array;
  /** Minutes completed but not yet drained, oldest first. */
  completed: CompletedMinute[] = [];
  /** Sums over every completed minute since this object was made. */
  readonly totals: Float64Array;
  /** The last completed minute that had samples (for levels between samples). */
  previous: Float64Array | undefined;

  constructor(readonly size: number, minute: number) {
    this.minute = minute;
    this.values = new Float64Array(size * FIELDS);
    this.totals = new Float64Array(size);
  }

  add(metric: number, value: number, minute: number): void {
    if (minute > this.minute) this.roll(minute);
    const v = this.values;
    const o = metric * FIELDS;
    v[o]! += value;
    v[o + 1]! += 1;
    if (value > v[o + 2]!) v[o + 2] = value;
  }

  /** Completes the current bucket if `minute` is past it. */
  roll(minute: number): void {
    if (minute <= this.minute) return;
    if (this.hasSamples()) this.complete();
    this.minute = minute;
  }

  /** Completes the current bucket whatever the clock says (on shutdown), if it has samples. */
  completeNow(): void {
    if (this.hasSamples()) this.complete();
  }

  hasSamples(): boolean {
    const v = this.values;
    for (let o = 1; o < v.length; o += FIELDS) if (v[o] !== 0) return true;
    return false;
  }

  /** Takes the completed minutes out. */
  drain(): CompletedMinute[] {
    const out = this.completed;
    this.completed = [];
    return out;
  }

  /** Sum of a metric over all completed minutes and the current one. */
  total(metric: number): number {
    return this.totals[metric]! + this.values[metric * FIELDS]!;
  }

  /** The maximum of a metric in the current minute, else in the last completed minute with samples of it. */
  level(metric: number): number | undefined {
    const o = metric * FIELDS;
    if (this.values[o + 1]! > 0) return this.values[o + 2];
    if (this.previous && this.previous[o + 1]! > 0) return this.previous[o + 2];
    return undefined;
  }

  private complete(): void {
    const done = this.values;
    for (let i = 0; i < this.size; i++) this.totals[i]! += done[i * FIELDS]!;
    this.completed.push({ minute: this.minute, values: done });
    this.previous = done;
    this.values = new Float64Array(this.size * FIELDS);
  }
}
