import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deaggregate } from '../../../src/client/aggregation.js';
import { type BatchLimits, buildBatch } from '../../../src/client/producer/batch.js';
import { recordHashKey } from '../../../src/client/producer/shard-map.js';
import type { PendingRecord } from '../../../src/client/producer/types.js';

function pending(id: number, key: string, size: number): PendingRecord {
  const data = new Uint8Array(size).fill(id % 251);
  const pkBytes = Buffer.byteLength(key);
  return {
    id,
    partitionKey: key,
    explicitHashKey: undefined,
    hashKey: recordHashKey(key, undefined),
    data,
    bytes: size + pkBytes,
    pkBytes,
    putAt: 0,
    deadline: 1e9,
    lastActivity: 0,
    settled: false,
    attempts: [],
    resolve: () => {},
    reject: () => {},
  };
}

const queueArb = fc
  .array(fc.record({ key: fc.integer({ min: 0, max: 12 }), size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70_000 })) }), {
    minLength: 1,
    maxLength: 300,
  })
  .map((list) => list.map((r, i) => pending(i, `key-${r.key}`, r.size)));

const limitsArb = fc.record({
  maxEntries: fc.integer({ min: 1, max: 500 }),
  maxBytes: fc.integer({ min: 100, max: 5 * 1024 * 1024 }),
  allowOversizeFirst: fc.boolean(),
  aggregation: fc.boolean(),
  aggregationMaxBytes: fc.constantFrom(1000, 51_200, 1024 * 1024),
  aggregationMaxCount: fc.integer({ min: 1, max: 1000 }),
  scanLimit: fc.integer({ min: 1, max: 4096 }),
}) as fc.Arbitrary<BatchLimits>;

describe('choosing a PutRecords call from a shard queue', () => {
  it('keeps per-key order whatever subset of the call fails, and respects the limits', () => {
    fc.assert(
      fc.property(queueArb, limitsArb, (queue, limits) => {
        const batch = buildBatch(queue, limits);
        const takenIds = new Set(batch.taken.map((i) => queue[i]!.id));
        assert.deepEqual([...batch.taken].sort((a, b) => a - b), batch.taken, 'taken positions ascend');
        assert.equal(takenIds.size, batch.taken.length);
        const inEntries = batch.entries.flatMap((e) => e.records.map((r) => r.id));
        assert.deepEqual([...inEntries].sort((a, b) => a - b), [...takenIds].sort((a, b) => a - b), 'entries hold exactly the taken records');
        // A key appears in one entry only, in queue order inside it.
        const keyEntry = new Map<string, number>();
        batch.entries.forEach((e, i) => {
          for (let j = 0; j < e.records.length; j++) {
            const k = e.records[j]!.partitionKey;
            assert.ok(keyEntry.get(k) === undefined || keyEntry.get(k) === i, `${k} in two entries`);
            keyEntry.set(k, i);
            if (j > 0 && e.records[j - 1]!.partitionKey === k) assert.ok(e.records[j - 1]!.id < e.records[j]!.id);
          }
        });
        // What a key sends is a prefix of its records in the queue: no record goes ahead of an earlier one of its key.
        const byKey = new Map<string, PendingRecord[]>();
        for (const r of queue) {
          let l = byKey.get(r.partitionKey);
          if (!l) byKey.set(r.partitionKey, (l = []));
          l.push(r);
        }
        for (const list of byKey.values()) {
          let sawSkipped = false;
          for (const r of list) {
            if (!takenIds.has(r.id)) sawSkipped = true;
            else assert.ok(!sawSkipped, `record ${r.id} of ${r.partitionKey} sent after an earlier one was left`);
          }
        }
        // Limits.
        assert.ok(batch.entries.length <= Math.max(1, limits.maxEntries));
        if (batch.entries.length > 0 && !(batch.entries.length === 1 && limits.allowOversizeFirst)) {
          assert.ok(batch.bytes <= limits.maxBytes, `${batch.bytes} bytes over ${limits.maxBytes}`);
        }
        assert.equal(batch.bytes, batch.entries.reduce((n, e) => n + e.bytes, 0));
        assert.ok(batch.taken.every((i) => i < limits.scanLimit));
        if (limits.maxBytes >= 70_000 + 10 && limits.maxEntries >= 1) assert.ok(batch.entries.length > 0, 'the head record fits');
        // Entries carry what they claim; aggregates deaggregate to their records.
        for (const e of batch.entries) {
          assert.equal(e.bytes, e.data.length + Buffer.byteLength(e.partitionKey));
          if (!e.aggregated) {
            assert.equal(e.records.length, 1);
            assert.equal(e.data, e.records[0]!.data);
            continue;
          }
          assert.ok(limits.aggregation);
          assert.ok(e.records.length >= 2 && e.records.length <= limits.aggregationMaxCount);
          assert.ok(e.data.length <= limits.aggregationMaxBytes);
          assert.equal(e.explicitHashKey, e.records[0]!.hashKey.toString());
          const users = deaggregate({ Data: e.data, PartitionKey: e.partitionKey, SequenceNumber: '1' });
          assert.deepEqual(
            users.map((u) => [u.partitionKey, Buffer.from(u.data).toString('hex')]),
            e.records.map((r) => [r.partitionKey, Buffer.from(r.data).toString('hex')]),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('without aggregation sends one record per key per call', () => {
    const queue = [0, 1, 2, 3, 4, 5].map((i) => pending(i, i % 2 === 0 ? 'a' : 'b', 10));
    const b = buildBatch(queue, {
      maxEntries: 500,
      maxBytes: 1e6,
      allowOversizeFirst: false,
      aggregation: false,
      aggregationMaxBytes: 51_200,
      aggregationMaxCount: 100,
      scanLimit: 100,
    });
    assert.deepEqual(b.taken, [0, 1]);
  });

  it('spreads busy keys over several aggregated records when the queue holds more than one', () => {
    const queue = Array.from({ length: 2000 }, (_, i) => pending(i, `k${i % 10}`, 200));
    const b = buildBatch(queue, {
      maxEntries: 500,
      maxBytes: 1024 * 1024,
      allowOversizeFirst: false,
      aggregation: true,
      aggregationMaxBytes: 51_200,
      aggregationMaxCount: 1_000_000,
      scanLimit: 4096,
    });
    assert.equal(b.entries.length, 8);
    assert.ok(b.entries.every((e) => e.aggregated));
    assert.ok(b.taken.length > 1500, `${b.taken.length} records taken`);
  });
});
