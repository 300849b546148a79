import { systemClock, type Clock } from './clock.js';

/**
 * A server-wide budget of bytes that responses hold while they are read, encoded and sent: the
 * records of a GetRecords batch (up to 10 MB) and their encoded body sit in memory until the body
 * has been handed to the operating system, so many large reads served at once would grow the
 * server without bound.
 *
 * A request takes a share before it reads, asking for the most it could need and the least it
 * expects to do with. When the budget has room it gets what it asked for, or the room that is
 * left if that is at least the least (a GetRecords reads a smaller batch then, as AWS may always
 * return fewer records than asked for); otherwise it waits, first come first served, for earlier
 * responses to be sent. A request that waits longer than `maxWaitMs` gets nothing (GetRecords
 * answers ProvisionedThroughputExceededException, as AWS does under load).
 *
 * A share is given back when its response has been taken by the operating system or its client
 * is gone. A response whose client is slow to read does not pin the budget: once it has been
 * sending for `sendHoldMs` and others need the room, its share is given back, and the bytes it
 * still holds are left to the bound on unsent bytes (--max-unsent-bytes).
 */
export class ResponseBudget {
  /** Bytes granted and not given back. */
  private used = 0;
  private readonly queue: Waiter[] = [];
  /** Shares whose responses were handed to the socket, with the time they were. */
  private readonly sending = new Map<BudgetShare, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly minGrant: number;
  private readonly maxWaitMs: number;
  private readonly sendHoldMs: number;
  private readonly sweepMs: number;
  private readonly clock: Clock;
  /** Requests that waited too long and got nothing. */
  refused = 0;

  constructor(
    readonly maxBytes: number,
    opts: { minGrant?: number; maxWaitMs?: number; sendHoldMs?: number; sweepMs?: number; clock?: Clock } = {},
  ) {
    this.minGrant = Math.min(maxBytes, opts.minGrant ?? 1024 * 1024);
    this.maxWaitMs = opts.maxWaitMs ?? 5_000;
    this.sendHoldMs = opts.sendHoldMs ?? 1_000;
    this.sweepMs = opts.sweepMs ?? 100;
    this.clock = opts.clock ?? systemClock;
  }

  /** Bytes granted and not yet given back. */
  get inUse(): number {
    return this.used;
  }

  /** Requests waiting for a share. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A share of up to `want` bytes when one can be had without waiting: nobody waits before this
   * request and the room left is at least `least` (by default `want`, or the smallest grant if
   * that is less).
   */
  tryTake(want: number, least = want): BudgetShare | undefined {
    if (this.queue.length > 0) return undefined;
    const grant = this.grantFor(want, least);
    if (grant === 0) return undefined;
    this.used += grant;
    return new BudgetShare(this, grant);
  }

  /**
   * Waits its turn for a share of up to `want` bytes (at least `least`, as for tryTake); undefined
   * after `maxWaitMs`.
   */
  take(want: number, least = want): Promise<BudgetShare | undefined> {
    const now = this.tryTake(want, least);
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      this.queue.push({ want, least, since: this.clock.now(), resolve });
      if (this.timer === undefined) {
        this.timer = setInterval(() => this.sweep(), this.sweepMs);
        this.timer.unref();
      }
    });
  }

  /**
   * Refuses the requests that waited too long, then serves the queue (taking back the shares of
   * responses sending for too long). Runs on a timer while requests wait.
   */
  sweep(): void {
    const now = this.clock.now();
    while (this.queue.length > 0 && now - this.queue[0]!.since >= this.maxWaitMs) {
      this.refused++;
      this.queue.shift()!.resolve(undefined);
    }
    this.serve();
  }

  /** Refuses every waiting request and stops the timer. */
  close(): void {
    for (const w of this.queue.splice(0)) w.resolve(undefined);
    this.serve();
  }

  /** @internal */
  resized(from: number, to: number): void {
    this.used += to - from;
    if (to < from) this.serve();
  }

  /** @internal */
  released(share: BudgetShare): void {
    this.used -= share.bytes;
    this.sending.delete(share);
    this.serve();
  }

  /** @internal */
  handedOver(share: BudgetShare): void {
    this.sending.set(share, this.clock.now());
  }

  /** What a request for `want` bytes, content with `least`, is granted now (0: it waits). */
  private grantFor(want: number, least: number): number {
    let free = this.maxBytes - this.used;
    if (free >= want) return want;
    if (this.sending.size > 0 && this.reclaim(this.clock.now())) free = this.maxBytes - this.used;
    if (free >= want) return want;
    return free >= Math.min(least, this.minGrant) && free > 0 ? free : 0;
  }

  /** Gives back the shares of responses sending for `sendHoldMs` or longer; whether there were any. */
  private reclaim(now: number): boolean {
    let any = false;
    for (const [share, since] of this.sending) {
      if (now - since < this.sendHoldMs) continue;
      // Not through release(): serving the queue is up to the caller.
      share.forget();
      this.used -= share.bytes;
      this.sending.delete(share);
      any = true;
    }
    return any;
  }

  private serve(): void {
    while (this.queue.length > 0) {
      const w = this.queue[0]!;
      const grant = this.grantFor(w.want, w.least);
      if (grant === 0) break;
      this.queue.shift();
      this.used += grant;
      w.resolve(new BudgetShare(this, grant));
    }
    if (this.queue.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

interface Waiter {
  want: number;
  least: number;
  since: number;
  resolve(share: BudgetShare | undefined): void;
}

/** Bytes of a ResponseBudget held by one response. */
export class BudgetShare {
  private done = false;

  constructor(
    private readonly budget: ResponseBudget,
    /** The bytes held. */
    public bytes: number,
  ) {}

  /** Holds `bytes` from now on (what the response turned out to need). */
  resize(bytes: number): void {
    if (this.done || bytes === this.bytes) return;
    const from = this.bytes;
    this.bytes = bytes;
    this.budget.resized(from, bytes);
  }

  /** @internal Marks the share given back without telling the budget. */
  forget(): void {
    this.done = true;
  }

  /** Gives the share back; later calls do nothing. */
  release(): void {
    if (this.done) return;
    this.done = true;
    this.budget.released(this);
  }

  /** The response was handed to the socket: from now on a slow client cannot pin the share for long. */
  handedOver(): void {
    if (!this.done) this.budget.handedOver(this);
  }
}

/**
 * An operation's output together with the share of a ResponseBudget it holds. Whoever returns it
 * hands the share over with it; the code that sends the response owns it from then on and gives
 * it back (see releaseWhenSent), or releases it at once when the response fails.
 */
export class HeldOutput<O = unknown> {
  constructor(
    readonly output: O,
    readonly share: BudgetShare,
  ) {}
}

/** Anything with the events of an HTTP/1.1 or HTTP/2 server response. */
interface SentResponse {
  once(event: 'finish' | 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
  /** An HTTP/1.1 response whose connection closed (HTTP/2 responses have none). */
  readonly destroyed?: boolean;
}

/**
 * Gives the share back once the response has been handed to the operating system ('finish') or
 * its client is gone ('close'); at once when either has already happened.
 */
export function releaseWhenSent(res: SentResponse, share: BudgetShare): void {
  if (res.writableFinished || res.destroyed === true) {
    share.release();
    return;
  }
  share.handedOver();
  const release = () => share.release();
  res.once('finish', release);
  res.once('close', release);
}
