import type { Lease } from './lease.js';

/**
 * A lease this worker holds. Every write to it (renewal, checkpoint, release) runs one at a time,
 * so that each one is conditional on the counter the previous one left.
 */
export class HeldLease {
  lost = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    public lease: Lease,
    /** Local time of the last successful write. */
    public lastRenewedAt: number,
  ) {}

  get leaseKey(): string {
    return this.lease.leaseKey;
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
