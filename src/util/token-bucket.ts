/**
 * A token bucket: `capacity` tokens at most, refilled continuously at `ratePerSecond`. Time is
 * passed in (epoch milliseconds from the service clock), never read here, so tests drive it.
 *
 * The balance may go below zero when a caller charges more than it holds (see `takeAllowingDebt`
 * and `charge`): that debt is repaid by the refill before the bucket admits anything again, which
 * is how one large record or one large read is let through and then paid for at the sustained
 * rate.
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

  /** Adds what accrued since the last look. A clock that went back adds nothing. */
  private refill(now: number): void {
    if (now > this.last) {
      const next = this.balance + ((now - this.last) * this.ratePerSecond) / 1000;
      this.balance = next > this.capacity ? this.capacity : next;
      this.last = now;
    }
  }

  /** The balance at `now` (negative while in debt). */
  tokens(now: number): number {
    this.refill(now);
    return this.balance;
  }

  /** Takes `n` tokens if the bucket holds them. */
  tryTake(n: number, now: number): boolean {
    this.refill(now);
    if (this.balance < n) return false;
    this.balance -= n;
    return true;
  }

  /**
   * Takes `n` tokens if the bucket holds them, or, for a request larger than the whole bucket,
   * if the bucket is full; the remainder becomes debt.
   */
  takeAllowingDebt(n: number, now: number): boolean {
    this.refill(now);
    if (this.balance < (n < this.capacity ? n : this.capacity)) return false;
    this.balance -= n;
    return true;
  }

  /** Removes `n` tokens unconditionally (charging for work already done). */
  charge(n: number, now: number): void {
    this.refill(now);
    this.balance -= n;
  }

  /** True while the balance is below zero. */
  inDebt(now: number): boolean {
    this.refill(now);
    return this.balance < 0;
  }

  /** Milliseconds from `now` until the bucket holds `n` tokens (0 if it does already). */
  msUntil(n: number, now: number): number {
    this.refill(now);
    if (this.balance >= n) return 0;
    return ((n - this.balance) * 1000) / this.ratePerSecond;
  }
}
