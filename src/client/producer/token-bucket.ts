/**
 * A token bucket holding at most `capacity` tokens, refilled continuously at `ratePerSecond`.
 * Times are epoch milliseconds passed in by the caller. The balance may go negative when a caller
 * spends more than the bucket holds (one record larger than the bucket); the refill repays it.
 */
export class TokenBucket {
  private balance: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    now: number,
  ) {
    this.balance = capacity;
    this.last = now;
  }

  /** The balance at `now`. */
  available(now: number): number {
    if (now > this.last) {
      this.balance = Math.min(this.capacity, this.balance + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
    return this.balance;
  }

  /** Spends `n` tokens (the balance may go negative). */
  take(n: number, now: number): void {
    this.available(now);
    this.balance -= n;
  }

  /** Milliseconds from `now` until the bucket holds `n` tokens (or is full, for `n` above its capacity). */
  msUntil(n: number, now: number): number {
    const want = Math.min(n, this.capacity);
    const have = this.available(now);
    return have >= want ? 0 : Math.ceil(((want - have) * 1000) / this.ratePerSecond);
  }
}
