import hdr from 'hdr-histogram-js';

/** Latency recorder with microsecond resolution, reporting milliseconds. */
export class LatencyHistogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  private negatives = 0;

  /** Records a duration given in nanoseconds. */
  recordNs(ns: bigint | number): void {
    const us = Math.round(Number(ns) / 1000);
    if (us < 0) {
      this.negatives++;
      this.h.recordValue(0);
      return;
    }
    this.h.recordValue(us);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Values recorded as zero because they came out negative. */
  get clamped(): number {
    return this.negatives;
  }

  percentileMs(p: number): number | null {
    if (this.h.totalCount === 0) return null;
    return this.h.getValueAtPercentile(p) / 1000;
  }

  maxMs(): number | null {
    if (this.h.totalCount === 0) return null;
    return this.h.maxValue / 1000;
  }

  meanMs(): number | null {
    if (this.h.totalCount === 0) return null;
    return this.h.mean / 1000;
  }
}
