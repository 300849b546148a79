/**
 * A small latency histogram: log-spaced buckets about 4% wide from 0.1 ms to ~1 day, so memory is
 * fixed (a few hundred counters) however many samples it takes. Quantiles are exact to a bucket.
 */
const GROWTH = 1.04;
const MIN_MS = 0.1;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(86_400_000 / MIN_MS) / LOG_GROWTH) + 2;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private max = 0;
  private sum = 0;

  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const i = v <= MIN_MS ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v / MIN_MS) / LOG_GROWTH));
    this.counts[i]!++;
    this.total++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  get count(): number {
    return this.total;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** The value at quantile q (0..1): the upper bound of the bucket holding it, capped at the largest sample. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, i === 0 ? MIN_MS : MIN_MS * GROWTH ** i);
    }
    return this.max;
  }
}
