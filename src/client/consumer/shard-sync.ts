import { ListShardsCommand, type KinesisClient, type Shard, type ShardFilter } from '@aws-sdk/client-kinesis';
import type { Lease } from './lease.js';
import type { LeaseTable } from './lease-table.js';
import { AT_TIMESTAMP, isShardEnd, LATEST, TRIM_HORIZON, type ExtendedSequenceNumber } from './sequence.js';
import type { InitialPosition } from './types.js';

export function parentsOf(shard: Shard): string[] {
  const ids: string[] = [];
  if (shard.ParentShardId) ids.push(shard.ParentShardId);
  if (shard.AdjacentParentShardId) ids.push(shard.AdjacentParentShardId);
  return ids;
}

export function isOpen(shard: Shard): boolean {
  return !shard.SequenceNumberRange?.EndingSequenceNumber;
}

export function initialCheckpoint(position: InitialPosition): ExtendedSequenceNumber {
  switch (position.type) {
    case 'TRIM_HORIZON':
      return TRIM_HORIZON;
    case 'LATEST':
      return LATEST;
    case 'AT_TIMESTAMP':
      return AT_TIMESTAMP;
  }
}

export function newLease(shardId: string, checkpoint: ExtendedSequenceNumber, parents: string[], range?: Shard['HashKeyRange']): Lease {
  const lease: Lease = {
    leaseKey: shardId,
    leaseCounter: 0,
    checkpoint,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [...parents].sort(),
    childShardIds: [],
  };
  if (range?.StartingHashKey !== undefined) lease.startingHashKey = range.StartingHashKey;
  if (range?.EndingHashKey !== undefined) lease.endingHashKey = range.EndingHashKey;
  return lease;
}

/**
 * The leases a shard sync creates, parents before children, for shards that have no lease and no
 * descendant with a lease:
 * - a shard one of whose parents has (or is given) a lease: TRIM_HORIZON, with parentShardId, so it
 *   starts once its parents have ended;
 * - otherwise, with TRIM_HORIZON as initial position: every shard;
 * - otherwise (LATEST, AT_TIMESTAMP): shards still open, or listed in `eligible` (the shards
 *   ListShards returned for the initial position), at the initial position.
 */
export function leasesToCreate(
  shards: Shard[],
  existing: Iterable<string>,
  initial: InitialPosition,
  eligible: Set<string> = new Set(),
): Lease[] {
  const leased = new Set(existing);
  const created: Lease[] = [];
  const children = new Map<string, string[]>();
  for (const shard of shards) {
    for (const p of parentsOf(shard)) children.set(p, [...(children.get(p) ?? []), shard.ShardId!]);
  }
  /** A shard one of whose descendants has a lease was consumed (or skipped) already; its own lease may have been cleaned up. */
  const descendantLeased = (id: string): boolean => {
    const stack = [...(children.get(id) ?? [])];
    const seen = new Set<string>();
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      if (leased.has(c)) return true;
      stack.push(...(children.get(c) ?? []));
    }
    return false;
  };
  // Shard ids grow with creation, and a child is always created after its parents.
  const ordered = [...shards].filter((s) => s.ShardId).sort((a, b) => (a.ShardId! < b.ShardId! ? -1 : a.ShardId! > b.ShardId! ? 1 : 0));
  for (const shard of ordered) {
    const id = shard.ShardId!;
    if (leased.has(id) || descendantLeased(id)) continue;
    const parents = parentsOf(shard);
    let checkpoint: ExtendedSequenceNumber | undefined;
    if (parents.some((p) => leased.has(p))) checkpoint = TRIM_HORIZON;
    else if (initial.type === 'TRIM_HORIZON') checkpoint = TRIM_HORIZON;
    else if (isOpen(shard) || eligible.has(id)) checkpoint = initialCheckpoint(initial);
    if (!checkpoint) continue;
    created.push(newLease(id, checkpoint, parents, shard.HashKeyRange));
    leased.add(id);
  }
  return created;
}

export async function listAllShards(
  kinesis: KinesisClient,
  stream: { StreamName?: string; StreamARN?: string },
  filter?: ShardFilter,
): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const r = await kinesis.send(
      new ListShardsCommand(token ? { NextToken: token } : { ...stream, ...(filter ? { ShardFilter: filter } : {}) }),
    );
    shards.push(...(r.Shards ?? []));
    token = r.NextToken;
  } while (token);
  return shards;
}

/** One shard sync: creates the missing leases with conditional puts; returns how many it created. */
export async function syncShards(
  kinesis: KinesisClient,
  table: LeaseTable,
  stream: { StreamName?: string; StreamARN?: string },
  initial: InitialPosition,
): Promise<number> {
  const [shards, leases] = await Promise.all([listAllShards(kinesis, stream), table.listLeases()]);
  let eligible = new Set<string>();
  if (leases.length === 0 && initial.type === 'AT_TIMESTAMP') {
    const atTime = await listAllShards(kinesis, stream, { Type: 'AT_TIMESTAMP', Timestamp: initial.timestamp });
    eligible = new Set(atTime.map((s) => s.ShardId!));
  }
  let created = 0;
  for (const lease of leasesToCreate(shards, leases.map((l) => l.leaseKey), initial, eligible)) {
    if (await table.createLeaseIfNotExists(lease)) created++;
  }
  return created;
}

/** Leases for the children named at the end of a shard (ChildShards), created if missing. */
export function childLeases(children: Array<{ ShardId?: string; ParentShards?: string[]; HashKeyRange?: Shard['HashKeyRange'] }>): Lease[] {
  return children.filter((c) => c.ShardId).map((c) => newLease(c.ShardId!, TRIM_HORIZON, c.ParentShards ?? [], c.HashKeyRange));
}

/**
 * Leases that may be deleted: the shard has ended (checkpoint SHARD_END), its children are known,
 * and every child has a lease that has started (its checkpoint is past TRIM_HORIZON). Children
 * treat a missing parent lease as not blocking, and shard sync does not recreate a lease for a
 * shard whose descendants have leases.
 */
export function leasesToCleanUp(leases: Lease[]): Lease[] {
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  return leases.filter(
    (l) =>
      isShardEnd(l.checkpoint) &&
      l.childShardIds.length > 0 &&
      l.childShardIds.every((c) => {
        const child = byKey.get(c);
        return child !== undefined && !['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'].includes(child.checkpoint.sequenceNumber);
      }),
  );
}
