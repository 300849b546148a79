/**
 * The write rate of one shard over a sliding window of whole clock seconds: a ring of per-second
 * totals (records and bytes) and their running sums. Recording costs a comparison and two
 * additions; the window moves forward only when a new second is seen, so the answer depends on
 * clock time alone, never on when it is asked.
 */
export interface Rate {
  recordsPerSecond: number;
  bytesPerSecond: number;
}

export class RateMeter {
  private readonly records: Float64Array;
  private readonly bytes: Float64Array;
  /** The second being counted, and what it has counted so far. */
  private second: number;
  private secondRecords = 0;
  private secondBytes = 0;
  /** Totals of the ring: the `windowSeconds` whole seconds before `second`. */
  private sumRecords = 0;
  private sumBytes = 0;
  /** The first second this meter saw; before a full window has passed it gives no rate. */
  private readonly firstSecond: number;

  constructor(
    readonly windowSeconds: number,
    nowMs: number,
  ) {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new RangeError(`window of ${windowSeconds} s`);
    this.records = new Float64Array(windowSeconds);
    this.bytes = new Float64Array(windowSeconds);
    this.second = this.firstSecond = Math.floor(nowMs / 1000);
  }

  /** Counts `records` records of `bytes` bytes written at `nowMs`. */
  record(nowMs: number, records: number, bytes: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second > this.second) this.moveTo(second);
    this.secondRecords += records;
    this.secondBytes += bytes;
  }

  /**
   * The average rate over the last `windowSeconds` whole seconds before `nowMs`, or undefined
   * while the meter has not yet watched that long.
   */
  average(nowMs: number): Rate | undefined {
    const second = Math.floor(nowMs / 1000);
    if (second > this.second) this.moveTo(second);
    if (this.second - this.windowSeconds < this.firstSecond) return undefined;
    return {
      recordsPerSecond: this.sumRecords / this.windowSeconds,
      bytesPerSecond: this.sumBytes / this.windowSeconds,
    };
  }

  /** Closes the current second and any silent ones after it, up to (not including) `second`. */
  private moveTo(second: number): void {
    this.push(this.second, this.secondRecords, this.secondBytes);
    const silent = Math.min(second - this.second - 1, this.windowSeconds);
    for (let i = 1; i <= silent; i++) this.push(this.second + i, 0, 0);
    this.second = second;
    this.secondRecords = 0;
    this.secondBytes = 0;
  }

  private push(second: number, records: number, bytes: number): void {
    const slot = second % this.windowSeconds;
    this.sumRecords += records - this.records[slot]!;
    this.sumBytes += bytes - this.bytes[slot]!;
    this.records[slot] = records;
    this.bytes[slot] = bytes;
  }
}
