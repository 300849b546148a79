import type { Lease } from './lease.js';
import { isShardEnd } from './sequence.js';

/**
 * Lease expiry as the KCL observes it: nothing about time is stored in the table; each worker
 * remembers, per lease, when it last saw leaseCounter change, and a lease is expired once that is
 * longer ago than the lease duration.
 */
export class LeaseObserver {
  private readonly seen = new Map<string, { counter: number; owner: string | undefined; changedAt: number }>();

  /** Records one scan of the table taken at `now`; forgets leases that are gone. */
  observe(leases: Lease[], now: number): void {
    const keys = new Set<string>();
    for (const lease of leases) {
      keys.add(lease.leaseKey);
      const prev = this.seen.get(lease.leaseKey);
      if (!prev || prev.counter !== lease.leaseCounter || prev.owner !== lease.leaseOwner) {
        this.seen.set(lease.leaseKey, { counter: lease.leaseCounter, owner: lease.leaseOwner, changedAt: now });
      }
    }
    for (const key of [...this.seen.keys()]) if (!keys.has(key)) this.seen.delete(key);
  }

  /** Unowned leases are always available; owned ones once their counter stood still for `durationMs`. */
  isAvailable(lease: Lease, now: number, durationMs: number): boolean {
    if (lease.leaseOwner === undefined) return true;
    const s = this.seen.get(lease.leaseKey);
    if (!s) return false;
    const age = now - s.changedAt;
    return age > durationMs || age < -durationMs;
  }
}

export interface TakeDecisionInput {
  /** Every lease in the table, as just scanned. */
  leases: Lease[];
  /** Keys of the leases that are available (unowned or expired). */
  available: Set<string>;
  workerId: string;
  maxLeasesForWorker: number;
  maxLeasesToStealAtOneTime: number;
  /** Random number in [0, 1); injected for tests. */
  random?: () => number;
}

export interface TakeDecision {
  /** Available leases to take. */
  take: Lease[];
  /** Leases to steal from the most loaded worker. */
  steal: Lease[];
  target: number;
  /** Active (not ended) lease count per worker, this worker included. */
  counts: Map<string, number>;
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * The KCL 2.x lease taker's decision (DynamoDBLeaseTaker): leases of ended shards (checkpoint
 * SHARD_END) are done and neither counted nor taken. The target is ⌈leases / workers⌉ (1 when there
 * are at least as many workers as leases), capped at the per-worker maximum; a worker below target
 * takes available leases, and when there are none, steals from the most loaded worker:
 * min(needed, its excess), or 1 when it sits exactly at target and more than one is needed, at
 * most maxLeasesToStealAtOneTime.
 */
export function decideLeasesToTake(input: TakeDecisionInput): TakeDecision {
  const random = input.random ?? Math.random;
  const active = input.leases.filter((l) => !isShardEnd(l.checkpoint));
  const counts = new Map<string, number>([[input.workerId, 0]]);
  const available: Lease[] = [];
  for (const lease of active) {
    if (input.available.has(lease.leaseKey) && lease.leaseOwner !== input.workerId) {
      available.push(lease);
      continue;
    }
    const owner = lease.leaseOwner!;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  const workers = counts.size;
  let target = workers >= active.length ? 1 : Math.ceil(active.length / workers);
  if (target > input.maxLeasesForWorker) target = input.maxLeasesForWorker;
  const mine = counts.get(input.workerId) ?? 0;
  const needed = target - mine;
  const decision: TakeDecision = { take: [], steal: [], target, counts };
  if (needed <= 0) return decision;
  if (available.length) {
    decision.take = shuffled(available, random).slice(0, needed);
    return decision;
  }
  let busiest: string | undefined;
  let most = 0;
  for (const [worker, count] of counts) {
    if (worker === input.workerId) continue;
    if (count > most || (count === most && busiest !== undefined && worker < busiest)) {
      busiest = worker;
      most = count;
    }
  }
  if (busiest === undefined) return decision;
  let toSteal = 0;
  if (most > target) toSteal = Math.min(needed, most - target);
  else if (most === target && needed > 1) toSteal = 1;
  toSteal = Math.min(toSteal, input.maxLeasesToStealAtOneTime);
  if (toSteal <= 0) return decision;
  const victims = active.filter((l) => l.leaseOwner === busiest && !input.available.has(l.leaseKey));
  decision.steal = shuffled(victims, random).slice(0, toSteal);
  return decision;
}
