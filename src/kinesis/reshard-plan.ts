/**
 * Resharding as hash-range arithmetic, with no I/O: which shards a split, a merge or a uniform
 * rescaling creates, and from which parents.
 *
 * A plan lists new shards in generations. Generation 1 is created from the stream's open shards;
 * generation g + 1 from shards of generation g (and open shards that generation g left alone).
 * A shard that a later generation replaces is created and closed by the same plan: it never takes
 * a write, but it keeps the lineage readable, since every child names at most two parents (the
 * KCL refuses a child with more, and expects exactly two when a parent has a single child).
 *
 * UpdateShardCount (UNIFORM_SCALING) aims at the layout CreateStream would give the target count
 * (evenHashRanges). Each target range is covered by some of the current shards: if by one or two,
 * the target range becomes a child of them directly (or stays, when one current shard already
 * has exactly that range). If by three or more, the pieces of the target range are merged in
 * pairs, left to right, into intermediate shards, and the same rule is applied again to those.
 * From a uniform layout of N shards, a target between N/2 and 2N covers at most three current
 * shards per target range, so the end state is reached in one generation when growing and in at
 * most two when shrinking. Parents are named in hash-key order: ParentShardId is the lower range,
 * AdjacentParentShardId the higher one.
 */
import { evenHashRanges } from '../util/hash-key.js';

/** A shard the planner may close: its index and inclusive hash-key range. */
export interface ShardRange {
  index: number;
  start: bigint;
  end: bigint;
}

/** A shard a plan creates. */
export interface PlannedShard extends ShardRange {
  /** One parent (a split child) or two adjacent ones (a merge child); ParentShardId first. */
  parents: number[];
  /** 1 for children of the open shards, g + 1 for children of generation g. */
  generation: number;
}

export interface ReshardPlan {
  /** New shards, by generation and then by hash key; indexes are consecutive from the first. */
  shards: PlannedShard[];
}

/** The two children of a split at `newStartingHashKey` (the first key of the upper child). */
export function planSplit(parent: ShardRange, newStartingHashKey: bigint, nextIndex: number): ReshardPlan {
  return {
    shards: [
      { index: nextIndex, start: parent.start, end: newStartingHashKey - 1n, parents: [parent.index], generation: 1 },
      { index: nextIndex + 1, start: newStartingHashKey, end: parent.end, parents: [parent.index], generation: 1 },
    ],
  };
}

/** Splits several shards at once, each at the middle of its range. */
export function planMidpointSplits(parents: readonly ShardRange[], nextIndex: number): ReshardPlan {
  const shards: PlannedShard[] = [];
  for (const p of parents) shards.push(...planSplit(p, midpoint(p), nextIndex + shards.length).shards);
  return { shards };
}

/** The first key of the upper half of a range. */
export function midpoint(r: ShardRange): bigint {
  return r.start + (r.end - r.start + 1n) / 2n;
}

/** Can this range be split at all? SplitShard needs start + 1 < key < end. */
export function splittable(r: ShardRange): boolean {
  const key = midpoint(r);
  return key > r.start + 1n && key < r.end;
}

/** The child of a merge. `shard` is ShardToMerge, `adjacent` AdjacentShardToMerge, in either hash order. */
export function planMerge(shard: ShardRange, adjacent: ShardRange, nextIndex: number): ReshardPlan {
  const start = shard.start < adjacent.start ? shard.start : adjacent.start;
  const end = shard.end > adjacent.end ? shard.end : adjacent.end;
  return { shards: [{ index: nextIndex, start, end, parents: [shard.index, adjacent.index], generation: 1 }] };
}

/** Do two ranges touch end to start, in either order? */
export function adjacent(a: ShardRange, b: ShardRange): boolean {
  return a.end + 1n === b.start || b.end + 1n === a.start;
}

/** Generations never needed from a uniform start; anything near this means a broken input. */
const MAX_GENERATIONS = 64;

/**
 * The shards that take `open` (the open shards, tiling the hash-key space) to the uniform layout
 * of `target` shards. Empty when the open shards already have that layout.
 */
export function planUniformScaling(open: readonly ShardRange[], target: number, nextIndex: number): ReshardPlan {
  const goal = evenHashRanges(target);
  let current: ShardRange[] = [...open].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const shards: PlannedShard[] = [];
  let index = nextIndex;
  for (let generation = 1; !sameLayout(current, goal); generation++) {
    if (generation > MAX_GENERATIONS) throw new Error('uniform scaling did not converge');
    const next: ShardRange[] = [];
    let first = 0;
    for (const range of goal) {
      while (current[first]!.end < range.start) first++;
      const covering: ShardRange[] = [];
      for (let j = first; j < current.length && current[j]!.start <= range.end; j++) covering.push(current[j]!);
      // One or two shards cover the range: one child takes it all. More: merge them in pairs.
      for (let g = 0; g < covering.length; g += 2) {
        const group = covering.slice(g, g + 2);
        const start = max(group[0]!.start, range.start);
        const end = min(group[group.length - 1]!.end, range.end);
        const only = group[0]!;
        if (group.length === 1 && only.start === start && only.end === end) {
          next.push(only);
          continue;
        }
        const shard: PlannedShard = { index: index++, start, end, parents: group.map((s) => s.index), generation };
        shards.push(shard);
        next.push(shard);
      }
    }
    current = next;
  }
  return { shards };
}

function sameLayout(current: readonly ShardRange[], goal: readonly { start: bigint; end: bigint }[]): boolean {
  return current.length === goal.length && current.every((s, i) => s.start === goal[i]!.start && s.end === goal[i]!.end);
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * For every shard that a plan closes (an open shard or an intermediate one), the generation of
 * its children: it closes when they are created.
 */
export function closingGenerations(plan: ReshardPlan): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of plan.shards) {
    for (const p of s.parents) {
      const g = out.get(p);
      if (g === undefined || s.generation < g) out.set(p, s.generation);
    }
  }
  return out;
}
