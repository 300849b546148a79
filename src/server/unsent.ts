/** Something that holds response bytes for one client: an HTTP/1.1 connection or an HTTP/2 stream. */
export interface UnsentHolder {
  /** Response bytes written but not yet taken by the client (or the kernel). */
  buffered(): number;
  /** Gives up on the client: closes its connection or resets its stream. */
  drop(): void;
}

/**
 * Bounds the memory held for clients that stop reading. Every response a client has not taken
 * yet sits in the server's memory; a few slow readers are fine, thousands of stuck ones holding
 * 10 MB GetRecords batches are not. Every `everyMs` the holders are swept: when together they hold
 * more than `maxBytes`, the ones that made no progress since the last sweep are dropped, the most
 * behind first, until the rest fit. A client that reads, however slowly, is never dropped.
 */
export class UnsentBudget {
  private readonly last = new Map<UnsentHolder, number>();
  private readonly timer: NodeJS.Timeout | undefined;
  /** Holders dropped so far. */
  dropped = 0;

  constructor(
    private readonly maxBytes: number,
    everyMs = 250,
  ) {
    if (maxBytes > 0) {
      this.timer = setInterval(() => this.sweep(), everyMs);
      this.timer.unref();
    }
  }

  /** Watches a holder until the returned function is called. */
  add(holder: UnsentHolder): () => void {
    if (this.maxBytes <= 0) return () => {};
    this.last.set(holder, 0);
    return () => this.last.delete(holder);
  }

  sweep(): void {
    let total = 0;
    const stalled: Array<[UnsentHolder, number]> = [];
    for (const [holder, before] of this.last) {
      const now = holder.buffered();
      total += now;
      if (now > 0 && before > 0 && now >= before) stalled.push([holder, now]);
      this.last.set(holder, now);
    }
    if (total <= this.maxBytes) return;
    stalled.sort((a, b) => b[1] - a[1]);
    for (const [holder, bytes] of stalled) {
      if (total <= this.maxBytes) break;
      this.last.delete(holder);
      holder.drop();
      this.dropped++;
      total -= bytes;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.last.clear();
  }
}
