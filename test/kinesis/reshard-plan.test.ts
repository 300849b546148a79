import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { evenHashRanges, HASH_KEY_MAX } from '../../src/util/hash-key.js';
import {
  closingGenerations,
  midpoint,
  planMerge,
  planMidpointSplits,
  planSplit,
  planUniformScaling,
  type ReshardPlan,
  type ShardRange,
} from '../../src/kinesis/reshard-plan.js';

function uniform(n: number): ShardRange[] {
  return evenHashRanges(n).map((r, index) => ({ index, ...r }));
}

function tiles(ranges: readonly ShardRange[]): void {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : 1));
  assert.equal(sorted[0]!.start, 0n, 'the first range starts at 0');
  assert.equal(sorted[sorted.length - 1]!.end, HASH_KEY_MAX, 'the last range ends at 2^128 - 1');
  for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i]!.start, sorted[i - 1]!.end + 1n, 'no gap, no overlap');
  for (const r of sorted) assert.ok(r.start <= r.end, 'no empty range');
}

const overlaps = (a: ShardRange, b: ShardRange) => a.start <= b.end && b.start <= a.end;

/**
 * Replays a plan generation by generation from `open` and checks what consumers rely on; returns
 * the open shards at the end and the number of generations.
 */
function replay(open: readonly ShardRange[], plan: ReshardPlan, nextIndex: number): { live: ShardRange[]; generations: number } {
  const live = new Map(open.map((s) => [s.index, s]));
  const known = new Map(open.map((s) => [s.index, s]));
  plan.shards.forEach((s, i) => assert.equal(s.index, nextIndex + i, 'indexes are consecutive'));
  const generations = Math.max(0, ...plan.shards.map((s) => s.generation));
  const children = new Map<number, number[]>();
  for (let g = 1; g <= generations; g++) {
    const born = plan.shards.filter((s) => s.generation === g);
    assert.ok(born.length > 0, `generation ${g} is not empty`);
    const before = [...live.values()];
    for (const child of born) {
      assert.ok(child.parents.length === 1 || child.parents.length === 2, 'one or two parents');
      const parents = child.parents.map((p) => {
        const parent = live.get(p);
        assert.ok(parent, `parent ${p} of ${child.index} is open when the child is created`);
        (children.get(p) ?? children.set(p, []).get(p)!).push(child.index);
        return parent;
      });
      if (parents.length === 2) {
        assert.equal(parents[0]!.end + 1n, parents[1]!.start, 'two parents are adjacent, ParentShardId the lower');
      }
      assert.ok(child.start >= parents[0]!.start && child.end <= parents[parents.length - 1]!.end, 'child within its parents');
      // Every shard that covered part of the child's keys is one of its parents.
      for (const b of before) if (overlaps(b, child)) assert.ok(child.parents.includes(b.index), 'lineage is complete');
    }
    for (const child of born) for (const p of child.parents) live.delete(p);
    for (const child of born) {
      live.set(child.index, child);
      known.set(child.index, child);
    }
    tiles([...live.values()]);
  }
  for (const [parent, kids] of children) {
    if (kids.length === 1) {
      const only = plan.shards.find((s) => s.index === kids[0])!;
      assert.equal(only.parents.length, 2, `a parent with one child (${parent}) is merged: the child names two parents`);
    }
  }
  const closing = closingGenerations(plan);
  for (const [index, g] of closing) {
    for (const kid of children.get(index)!) {
      assert.equal(plan.shards.find((s) => s.index === kid)!.generation, g, 'all children of a shard are of one generation');
    }
  }
  return { live: [...live.values()].sort((a, b) => (a.start < b.start ? -1 : 1)), generations };
}

function layoutOf(ranges: readonly ShardRange[]): string[] {
  return ranges.map((r) => `${r.start}-${r.end}`);
}

describe('reshard plans', () => {
  it('split a shard into [start, key - 1] and [key, end], both children of it', () => {
    const parent = { index: 3, start: 100n, end: 200n };
    const plan = planSplit(parent, 150n, 7);
    assert.deepEqual(plan.shards, [
      { index: 7, start: 100n, end: 149n, parents: [3], generation: 1 },
      { index: 8, start: 150n, end: 200n, parents: [3], generation: 1 },
    ]);
    assert.equal(midpoint(parent), 150n);
    assert.deepEqual(
      planMidpointSplits([parent, { index: 4, start: 201n, end: 300n }], 9).shards.map((s) => [s.index, s.start, s.end]),
      [
        [9, 100n, 149n],
        [10, 150n, 200n],
        [11, 201n, 250n],
        [12, 251n, 300n],
      ],
    );
  });

  it('merge two adjacent shards given in either order, ShardToMerge first', () => {
    const low = { index: 1, start: 0n, end: 9n };
    const high = { index: 2, start: 10n, end: 30n };
    assert.deepEqual(planMerge(low, high, 5).shards, [{ index: 5, start: 0n, end: 30n, parents: [1, 2], generation: 1 }]);
    assert.deepEqual(planMerge(high, low, 5).shards, [{ index: 5, start: 0n, end: 30n, parents: [2, 1], generation: 1 }]);
  });

  it('scale 4 → 8 by splitting every shard in two', () => {
    const plan = planUniformScaling(uniform(4), 8, 4);
    assert.deepEqual(
      plan.shards.map((s) => s.parents),
      [[0], [0], [1], [1], [2], [2], [3], [3]],
    );
    assert.deepEqual(layoutOf(replay(uniform(4), plan, 4).live), layoutOf(uniform(8)));
  });

  it('scale 8 → 4 by merging neighbours', () => {
    const plan = planUniformScaling(uniform(8), 4, 8);
    assert.deepEqual(plan.shards.map((s) => s.parents), [[0, 1], [2, 3], [4, 5], [6, 7]]);
  });

  it('scale 5 → 3 through one generation of intermediate shards', () => {
    const plan = planUniformScaling(uniform(5), 3, 5);
    const { live, generations } = replay(uniform(5), plan, 5);
    assert.equal(generations, 2);
    assert.deepEqual(layoutOf(live), layoutOf(uniform(3)));
  });

  it('leave a stream that already has the layout alone', () => {
    assert.deepEqual(planUniformScaling(uniform(6), 6, 6).shards, []);
  });

  it('reach the uniform layout from any uniform start within ½× to 2×, in at most two generations', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: Math.ceil(n / 2), max: Math.min(2 * n, 10_000) })),
        ),
        ([n, target]) => {
          const open = uniform(n);
          const plan = planUniformScaling(open, target, n);
          const { live, generations } = replay(open, plan, n);
          assert.deepEqual(layoutOf(live), layoutOf(uniform(target)));
          assert.ok(generations <= 2, `${n} → ${target} took ${generations} generations`);
          if (target >= n) assert.ok(generations <= 1, `${n} → ${target} grows in one generation`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reach the uniform layout from any layout, every child naming at most two parents', () => {
    // Random layouts: cut points anywhere in the space (as splits and merges leave them).
    const layout = fc
      .uniqueArray(fc.bigInt({ min: 1n, max: HASH_KEY_MAX }), { minLength: 0, maxLength: 40 })
      .map((cuts) => {
        const sorted = cuts.sort((a, b) => (a < b ? -1 : 1));
        const starts = [0n, ...sorted];
        return starts.map((start, index) => ({ index, start, end: index + 1 < starts.length ? starts[index + 1]! - 1n : HASH_KEY_MAX }));
      });
    fc.assert(
      fc.property(layout, fc.integer({ min: 1, max: 80 }), (open, target) => {
        const plan = planUniformScaling(open, target, open.length);
        const { live } = replay(open, plan, open.length);
        assert.deepEqual(layoutOf(live), layoutOf(uniform(target)));
      }),
      { numRuns: 300 },
    );
  });
});
