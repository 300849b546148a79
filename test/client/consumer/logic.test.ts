import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Shard, _Record } from '@aws-sdk/client-kinesis';
import { Aggregator } from '../../../src/client/aggregation.js';
import { ShardCheckpointer } from '../../../src/client/consumer/checkpointer.js';
import { fromItem, toItem, type Lease } from '../../../src/client/consumer/lease.js';
import { decideLeasesToTake, LeaseObserver } from '../../../src/client/consumer/lease-taker.js';
import { compareExtended, SHARD_END, TRIM_HORIZON } from '../../../src/client/consumer/sequence.js';
import { effectiveHashKey, startPositionFor, userRecordsAfter } from '../../../src/client/consumer/shard-consumer.js';
import { leasesToCleanUp, leasesToCreate } from '../../../src/client/consumer/shard-sync.js';
import { ManualClock } from '../../../src/util/clock.js';

function lease(key: string, owner?: string, counter = 1, extra: Partial<Lease> = {}): Lease {
  return {
    leaseKey: key,
    ...(owner ? { leaseOwner: owner } : {}),
    leaseCounter: counter,
    checkpoint: TRIM_HORIZON,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [],
    childShardIds: [],
    ...extra,
  };
}

/** A deterministic "random" source. */
const first = () => 0;

describe('extended sequence numbers', () => {
  it('compare as integers, then by sub-sequence, with sentinels around real numbers', () => {
    const order = [
      { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 },
      { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      { sequenceNumber: 'LATEST', subSequenceNumber: 0 },
      { sequenceNumber: '9', subSequenceNumber: 0 },
      { sequenceNumber: '10', subSequenceNumber: 0 },
      { sequenceNumber: '10', subSequenceNumber: 3 },
      { sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 0 },
      SHARD_END,
    ];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        assert.equal(Math.sign(compareExtended(order[i], order[j])), Math.sign(i - j), `${i} vs ${j}`);
      }
    }
  });
});

describe('lease items', () => {
  it('round-trip through the KCL attribute names, sets as SS and empty sets left out', () => {
    const l = lease('shardId-000000000002', 'w1', 7, {
      checkpoint: { sequenceNumber: '123', subSequenceNumber: 4 },
      ownerSwitchesSinceCheckpoint: 2,
      parentShardIds: ['shardId-000000000000', 'shardId-000000000001'],
      startingHashKey: '0',
      endingHashKey: '340282366920938463463374607431768211455',
    });
    const item = toItem(l);
    assert.deepEqual(item.parentShardId, { SS: ['shardId-000000000000', 'shardId-000000000001'] });
    assert.equal(item.childShardIds, undefined);
    assert.deepEqual(item.checkpoint, { S: '123' });
    assert.deepEqual(item.checkpointSubSequenceNumber, { N: '4' });
    assert.deepEqual(item.leaseCounter, { N: '7' });
    assert.deepEqual(fromItem(item), l);
    const unowned = toItem(lease('a'));
    assert.equal(unowned.leaseOwner, undefined);
    assert.equal(fromItem({ leaseKey: { S: 'x' }, entityType: { S: 'LEADER' } }), undefined);
  });
});

describe('lease observer (expiry as observed)', () => {
  it('expires an owned lease only after its counter stood still for the lease duration', () => {
    const clock = new ManualClock(1_000_000);
    const obs = new LeaseObserver();
    obs.observe([lease('a', 'w1', 1), lease('b')], clock.now());
    assert.equal(obs.isAvailable(lease('a', 'w1', 1), clock.now(), 10_000), false, 'first seen with an owner counts as fresh');
    assert.equal(obs.isAvailable(lease('b'), clock.now(), 10_000), true, 'unowned is always available');
    clock.advance(6_000);
    obs.observe([lease('a', 'w1', 2)], clock.now());
    clock.advance(6_000);
    obs.observe([lease('a', 'w1', 2)], clock.now());
    assert.equal(obs.isAvailable(lease('a', 'w1', 2), clock.now(), 10_000), false, 'renewed 6 s ago');
    clock.advance(4_001);
    obs.observe([lease('a', 'w1', 2)], clock.now());
    assert.equal(obs.isAvailable(lease('a', 'w1', 2), clock.now(), 10_000), true, 'unchanged for more than 10 s');
  });
});

describe('lease taking and balancing', () => {
  it('a lone worker takes every available lease', () => {
    const leases = ['a', 'b', 'c', 'd'].map((k) => lease(k));
    const d = decideLeasesToTake({ leases, available: new Set(leases.map((l) => l.leaseKey)), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1, random: first });
    assert.equal(d.target, 4);
    assert.equal(d.take.length, 4);
    assert.equal(d.steal.length, 0);
  });

  it('takes available leases only up to ceil(leases / workers)', () => {
    const leases = [lease('a', 'w2'), lease('b', 'w2'), lease('c'), lease('d'), lease('e'), lease('f')];
    const d = decideLeasesToTake({ leases, available: new Set(['c', 'd', 'e', 'f']), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1, random: first });
    assert.equal(d.target, 3);
    assert.equal(d.take.length, 3);
  });

  it('caps the target at maxLeasesForWorker', () => {
    const leases = ['a', 'b', 'c', 'd'].map((k) => lease(k));
    const d = decideLeasesToTake({ leases, available: new Set(['a', 'b', 'c', 'd']), workerId: 'w1', maxLeasesForWorker: 2, maxLeasesToStealAtOneTime: 1, random: first });
    assert.equal(d.take.length, 2);
  });

  it('steals from the most loaded worker when nothing is available, at most maxLeasesToStealAtOneTime', () => {
    const leases = [
      ...['a', 'b', 'c', 'd'].map((k) => lease(k, 'w2')),
      ...['e', 'f'].map((k) => lease(k, 'w3')),
    ];
    const one = decideLeasesToTake({ leases, available: new Set(), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1, random: first });
    assert.equal(one.target, 2);
    assert.equal(one.take.length, 0);
    assert.equal(one.steal.length, 1);
    assert.equal(one.steal[0].leaseOwner, 'w2');
    const two = decideLeasesToTake({ leases, available: new Set(), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 5, random: first });
    assert.deepEqual(two.steal.map((l) => l.leaseOwner), ['w2', 'w2']);
  });

  it('steals one from a worker exactly at target only when more than one is needed', () => {
    // 7 leases, 3 workers: target 3; w2 and w3 at target.
    const leases = [...['a', 'b', 'c'].map((k) => lease(k, 'w2')), ...['d', 'e', 'f'].map((k) => lease(k, 'w3')), lease('g', 'w1')];
    const d = decideLeasesToTake({ leases, available: new Set(), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 3, random: first });
    assert.equal(d.target, 3);
    assert.equal(d.steal.length, 1);
    const balanced = [...leases.slice(1), lease('a', 'w1')];
    const e = decideLeasesToTake({ leases: balanced, available: new Set(), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 3, random: first });
    assert.equal(e.steal.length, 0, '2/2/3 ... a worker needing one does not steal from one at target');
  });

  it('does nothing at target, and counts neither ended leases nor expired owners', () => {
    const leases = [
      lease('a', 'w1'),
      lease('b', 'w1'),
      lease('c', 'w2'),
      lease('d', 'w2'),
      lease('e', 'dead'),
      lease('f', 'w1', 3, { checkpoint: SHARD_END }),
    ];
    const d = decideLeasesToTake({ leases, available: new Set(['e']), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1, random: first });
    assert.deepEqual([...d.counts.keys()].sort(), ['w1', 'w2']);
    assert.equal(d.target, 3);
    assert.deepEqual(d.take.map((l) => l.leaseKey), ['e']);
    const e = decideLeasesToTake({ leases: leases.filter((l) => l.leaseKey !== 'e'), available: new Set(), workerId: 'w1', maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1, random: first });
    assert.equal(e.take.length + e.steal.length, 0);
  });

  it('converges to an even spread when three workers take turns', () => {
    const leases = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => lease(k, 'w1'));
    let rnd = 0.37;
    const random = () => (rnd = (rnd * 9301 + 49297) % 233280 / 233280);
    for (let round = 0; round < 10; round++) {
      for (const w of ['w1', 'w2', 'w3']) {
        const d = decideLeasesToTake({ leases, available: new Set(), workerId: w, maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1, random });
        for (const l of [...d.take, ...d.steal]) l.leaseOwner = w;
      }
    }
    const counts = new Map<string, number>();
    for (const l of leases) counts.set(l.leaseOwner!, (counts.get(l.leaseOwner!) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [2, 2, 2]);
  });
});

function shard(id: number, parents: number[] = [], closed = false): Shard {
  const name = (n: number) => 'shardId-' + String(n).padStart(12, '0');
  return {
    ShardId: name(id),
    ParentShardId: parents[0] !== undefined ? name(parents[0]) : undefined,
    AdjacentParentShardId: parents[1] !== undefined ? name(parents[1]) : undefined,
    HashKeyRange: { StartingHashKey: String(id * 10), EndingHashKey: String(id * 10 + 9) },
    SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed ? { EndingSequenceNumber: '2' } : {}) },
  };
}

describe('shard sync', () => {
  // 0 split into 2 and 3; 2 and 3 merged into 4; 1 open.
  const shards = [shard(0, [], true), shard(1), shard(2, [0], true), shard(3, [0], true), shard(4, [2, 3])];

  it('TRIM_HORIZON on an empty table: every shard, children with their parents', () => {
    const created = leasesToCreate(shards, [], { type: 'TRIM_HORIZON' });
    assert.deepEqual(created.map((l) => l.leaseKey), shards.map((s) => s.ShardId));
    assert.ok(created.every((l) => l.checkpoint.sequenceNumber === 'TRIM_HORIZON'));
    assert.deepEqual(created[4].parentShardIds, ['shardId-000000000002', 'shardId-000000000003']);
    assert.deepEqual(created[2].parentShardIds, ['shardId-000000000000']);
    assert.equal(created[4].startingHashKey, '40');
  });

  it('LATEST on an empty table: open shards only, at LATEST', () => {
    const created = leasesToCreate(shards, [], { type: 'LATEST' });
    assert.deepEqual(created.map((l) => [l.leaseKey, l.checkpoint.sequenceNumber]), [
      ['shardId-000000000001', 'LATEST'],
      ['shardId-000000000004', 'LATEST'],
    ]);
  });

  it('a non-empty table gets leases for the descendants of leased shards, at TRIM_HORIZON', () => {
    const created = leasesToCreate(shards, ['shardId-000000000000', 'shardId-000000000001'], { type: 'LATEST' });
    assert.deepEqual(created.map((l) => [l.leaseKey, l.checkpoint.sequenceNumber]), [
      ['shardId-000000000002', 'TRIM_HORIZON'],
      ['shardId-000000000003', 'TRIM_HORIZON'],
      ['shardId-000000000004', 'TRIM_HORIZON'],
    ]);
    assert.deepEqual(leasesToCreate(shards, shards.map((s) => s.ShardId!), { type: 'TRIM_HORIZON' }), []);
  });

  it('does not recreate the lease of a shard whose descendants have leases (a cleaned-up parent)', () => {
    const created = leasesToCreate(shards, ['shardId-000000000001', 'shardId-000000000004'], { type: 'TRIM_HORIZON' });
    assert.deepEqual(created, []);
    const some = leasesToCreate(shards, ['shardId-000000000001', 'shardId-000000000002'], { type: 'TRIM_HORIZON' });
    assert.deepEqual(some.map((l) => l.leaseKey), ['shardId-000000000003', 'shardId-000000000004']);
  });

  it('cleans up a completed lease only when every child has started', () => {
    const parent = lease('p', undefined, 5, { checkpoint: SHARD_END, childShardIds: ['c1', 'c2'] });
    const started = (k: string) => lease(k, 'w', 1, { checkpoint: { sequenceNumber: '42', subSequenceNumber: 0 }, parentShardIds: ['p'] });
    assert.deepEqual(leasesToCleanUp([parent, started('c1'), started('c2')]).map((l) => l.leaseKey), ['p']);
    assert.deepEqual(leasesToCleanUp([parent, started('c1'), lease('c2', 'w', 1, { parentShardIds: ['p'] })]), [], 'c2 still at TRIM_HORIZON');
    assert.deepEqual(leasesToCleanUp([parent, started('c1')]), [], 'c2 has no lease yet');
    assert.deepEqual(leasesToCleanUp([lease('q', 'w', 1, { childShardIds: ['c1'] }), started('c1')]), [], 'not ended');
  });
});

describe('checkpointer', () => {
  it('accepts values between the last checkpoint and the largest delivered, and SHARD_END only at the end', async () => {
    const written: string[] = [];
    const cp = new ShardCheckpointer(async (v) => void written.push(`${v.sequenceNumber}/${v.subSequenceNumber}`), { sequenceNumber: '100', subSequenceNumber: 0 });
    cp.advance({ sequenceNumber: '200', subSequenceNumber: 2 });
    await assert.rejects(cp.checkpoint('201'), RangeError);
    await assert.rejects(cp.checkpoint('99'), RangeError);
    await assert.rejects(cp.checkpoint('SHARD_END'), RangeError);
    await assert.rejects(cp.checkpoint('12ab'), RangeError);
    await cp.checkpoint('200', 1);
    await assert.rejects(cp.checkpoint('150'), RangeError, 'before the last checkpoint');
    await cp.checkpoint();
    cp.advance(SHARD_END);
    await cp.checkpoint();
    assert.deepEqual(written, ['200/1', '200/2', 'SHARD_END/0']);
    assert.deepEqual(cp.lastCheckpoint, SHARD_END);
  });
});

describe('user records from fetched records', () => {
  const agg = new Aggregator();
  for (let i = 0; i < 5; i++) agg.add(`pk-${i}`, Buffer.from(`v${i}`));
  const built = agg.build();
  const records: _Record[] = [
    { SequenceNumber: '10', PartitionKey: 'plain', Data: Buffer.from('p') },
    { SequenceNumber: '20', PartitionKey: built.partitionKey, Data: built.data },
    { SequenceNumber: '30', PartitionKey: 'plain2', Data: Buffer.from('q') },
  ];

  it('de-aggregates and skips everything up to the checkpoint, inside an aggregate too', () => {
    const all = userRecordsAfter(records, TRIM_HORIZON, {});
    assert.deepEqual(all.map((u) => `${u.sequenceNumber}.${u.subSequenceNumber}`), ['10.0', '20.0', '20.1', '20.2', '20.3', '20.4', '30.0']);
    const after = userRecordsAfter(records, { sequenceNumber: '20', subSequenceNumber: 2 }, {});
    assert.deepEqual(after.map((u) => `${u.sequenceNumber}.${u.subSequenceNumber}`), ['20.3', '20.4', '30.0']);
    assert.deepEqual(Buffer.from(after[0].data).toString(), 'v3');
    assert.equal(after[0].partitionKey, 'pk-3');
  });

  it('drops aggregated user records whose hash key is outside the shard', () => {
    const keys = [0, 1, 2, 3, 4].map((i) => effectiveHashKey({ partitionKey: `pk-${i}` }));
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const range = { startingHashKey: String(sorted[1]), endingHashKey: String(sorted[3]) };
    const kept = userRecordsAfter(records, TRIM_HORIZON, range).filter((u) => u.aggregated);
    assert.equal(kept.length, 3);
    for (const u of kept) {
      const h = effectiveHashKey(u);
      assert.ok(h >= sorted[1] && h <= sorted[3]);
    }
    assert.equal(userRecordsAfter(records, TRIM_HORIZON, range).filter((u) => !u.aggregated).length, 2, 'plain records are kept');
  });

  it('maps checkpoints to start positions', () => {
    assert.deepEqual(startPositionFor(TRIM_HORIZON, { type: 'LATEST' }), { type: 'TRIM_HORIZON' });
    assert.deepEqual(startPositionFor({ sequenceNumber: '77', subSequenceNumber: 3 }, { type: 'LATEST' }), { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: '77' });
    const ts = new Date(1_700_000_000_000);
    assert.deepEqual(startPositionFor({ sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 }, { type: 'AT_TIMESTAMP', timestamp: ts }), { type: 'AT_TIMESTAMP', timestamp: ts });
  });
});

describe('public entry point', () => {
  it('tributary/client exports the consumer next to the aggregation helpers', async () => {
    const client = await import('../../../src/client/index.js');
    assert.equal(typeof client.Consumer, 'function');
    assert.equal(typeof client.ShutdownException, 'function');
    assert.equal(typeof client.deaggregate, 'function');
  });
});
