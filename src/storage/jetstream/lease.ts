/**
 * A lease on background work shared by the nodes of a cluster: one catalog setting whose value
 * names its holder. The holder renews it every `renewMs` with a compare-and-set write; another node
 * takes it over once it has seen the setting unchanged for `expireAfterMs` (a holder that died stops
 * renewing). Time here is the local monotonic clock of each node, never a timestamp written by
 * another, so clock skew between nodes does not matter.
 *
 * The holder considers the lease its own only while its last successful renewal was sent less than
 * `expireAfterMs` ago: a node cut off from the cluster stops acting before anyone else may take
 * over. The lease makes one node do the work; the work itself still writes with compare-and-set,
 * so two nodes acting at once (a paused holder waking up) cannot corrupt the catalog.
 */
import { performance } from 'node:perf_hooks';
import { CatalogConflictError, type Catalog } from '../catalog.js';

export interface Lease {
  /** True while this node may run the background work. */
  readonly held: boolean;
  /** Stops renewing; a held lease is released so that another node takes it at once. */
  stop(): Promise<void>;
}

/** The lease of a single process: always held. */
export const soleLease: Lease = { held: true, stop: async () => {} };

export interface LeaseOptions {
  renewMs?: number;
  /** Defaults to three renewal intervals. */
  expireAfterMs?: number;
  /** Told when this node gains or loses the lease. */
  onChange?: (held: boolean) => void;
  onError?: (err: unknown) => void;
}

interface LeaseValue {
  holder: string;
  /** Counts renewals, so that each one is a change others can see. */
  term: number;
}

export const DEFAULT_LEASE_RENEW_MS = 1_000;

export class CatalogLease implements Lease {
  readonly renewMs: number;
  readonly expireAfterMs: number;
  private heldUntil = -Infinity;
  private observedRevision = -1;
  private observedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private wasHeld = false;

  constructor(
    private readonly catalog: Catalog,
    readonly name: string,
    readonly holder: string,
    private readonly options: LeaseOptions = {},
  ) {
    this.renewMs = options.renewMs ?? DEFAULT_LEASE_RENEW_MS;
    this.expireAfterMs = options.expireAfterMs ?? 3 * this.renewMs;
  }

  get held(): boolean {
    return !this.stopped && performance.now() < this.heldUntil;
  }

  /** Makes a first attempt, then keeps renewing (or watching) every renewMs. */
  async start(): Promise<void> {
    await this.round();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.round());
    }, this.renewMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.announce();
    if (performance.now() >= this.heldUntil) return;
    this.heldUntil = -Infinity;
    try {
      const current = await this.catalog.getSettingRevisioned(this.name);
      if (current && parse(current.value)?.holder === this.holder) {
        await this.catalog.putSettingIf(this.name, JSON.stringify({ holder: '', term: 0 }), current.revision);
      }
    } catch {
      // Whoever comes next takes it over after it expires.
    }
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const sentAt = performance.now();
    try {
      const current = await this.catalog.getSettingRevisioned(this.name);
      const value = current ? parse(current.value) : undefined;
      const mine = value?.holder === this.holder;
      let take = current === undefined || value === undefined || value.holder === '' || mine;
      if (!take && current) {
        if (current.revision !== this.observedRevision) {
          this.observedRevision = current.revision;
          this.observedAt = sentAt;
        } else if (sentAt - this.observedAt >= this.expireAfterMs) {
          take = true;
        }
      }
      if (!take) {
        this.heldUntil = -Infinity;
      } else {
        const next: LeaseValue = { holder: this.holder, term: mine ? value!.term + 1 : 0 };
        await this.catalog.putSettingIf(this.name, JSON.stringify(next), current?.revision ?? 0);
        this.heldUntil = sentAt + this.expireAfterMs;
      }
    } catch (err) {
      // A conflict: someone else renewed or took it. Anything else: keep what is left of the term.
      if (err instanceof CatalogConflictError) this.heldUntil = -Infinity;
      else this.options.onError?.(err);
    }
    this.announce();
  }

  private announce(): void {
    const held = this.held;
    if (held !== this.wasHeld) {
      this.wasHeld = held;
      this.options.onChange?.(held);
    }
  }
}

function parse(text: string): LeaseValue | undefined {
  try {
    const v = JSON.parse(text) as Partial<LeaseValue>;
    return typeof v.holder === 'string' && typeof v.term === 'number' ? { holder: v.holder, term: v.term } : undefined;
  } catch {
    return undefined;
  }
}
