/**
 * The producer against a small in-memory stand-in for the Kinesis API (ListShards and PutRecords
 * only) that fails entries and whole calls at random and splits a shard mid-run: whatever fails,
 * every record is stored once (in its own shard's hash range) and in per-key order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type KinesisClient, ListShardsCommand, PutRecordsCommand, type PutRecordsResultEntry, type Shard } from '@aws-sdk/client-kinesis';
import { deaggregate } from '../../../src/client/aggregation.js';
import { Producer } from '../../../src/client/index.js';
import { HASH_KEY_MAX, recordHashKey } from '../../../src/client/producer/shard-map.js';
import { parsePayload, payload } from './read-back.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimShard {
  id: string;
  start: bigint;
  end: bigint;
  open: boolean;
  records: { data: Uint8Array; partitionKey: string; sequenceNumber: string }[];
}

class SimulatedKinesis {
  shards: SimShard[] = [
    { id: 'shardId-000000000000', start: 0n, end: (HASH_KEY_MAX + 1n) / 2n - 1n, open: true, records: [] },
    { id: 'shardId-000000000001', start: (HASH_KEY_MAX + 1n) / 2n, end: HASH_KEY_MAX, open: true, records: [] },
  ];
  private seq = 1000n;
  calls = 0;

  constructor(
    private readonly random: () => number,
    private readonly entryFailure: number,
    private readonly callFailure: number,
  ) {}

  split(id: string): void {
    const parent = this.shards.find((s) => s.id === id)!;
    parent.open = false;
    const mid = (parent.start + parent.end) / 2n;
    const n = this.shards.length;
    this.shards.push(
      { id: `shardId-${String(n).padStart(12, '0')}`, start: parent.start, end: mid, open: true, records: [] },
      { id: `shardId-${String(n + 1).padStart(12, '0')}`, start: mid + 1n, end: parent.end, open: true, records: [] },
    );
  }

  async send(command: unknown): Promise<unknown> {
    await new Promise((r) => setImmediate(r));
    this.calls++;
    if (command instanceof ListShardsCommand) {
      const shards: Shard[] = this.shards.map((s) => ({
        ShardId: s.id,
        HashKeyRange: { StartingHashKey: s.start.toString(), EndingHashKey: s.end.toString() },
        SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: s.open ? undefined : '2' },
      }));
      return { Shards: shards };
    }
    assert.ok(command instanceof PutRecordsCommand);
    if (this.random() < this.callFailure) {
      throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
        name: 'InternalFailure',
        $metadata: { httpStatusCode: 500 },
      });
    }
    let failed = 0;
    const results: PutRecordsResultEntry[] = command.input.Records!.map((e) => {
      if (this.random() < this.entryFailure) {
        failed++;
        return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' };
      }
      const hash = recordHashKey(e.PartitionKey!, e.ExplicitHashKey);
      const shard = this.shards.find((s) => s.open && s.start <= hash && hash <= s.end)!;
      const sequenceNumber = String(this.seq++);
      shard.records.push({ data: e.Data!, partitionKey: e.PartitionKey!, sequenceNumber });
      return { ShardId: shard.id, SequenceNumber: sequenceNumber };
    });
    return { FailedRecordCount: failed, Records: results };
  }

  /** User records per key, parents read before children, keeping only those in each shard's range (as the KCL does). */
  readByKey(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const shard of this.shards) {
      for (const r of shard.records) {
        for (const u of deaggregate({ Data: r.data, PartitionKey: r.partitionKey, SequenceNumber: r.sequenceNumber })) {
          const h = recordHashKey(u.partitionKey, u.explicitHashKey);
          if (u.aggregated && (h < shard.start || h > shard.end)) continue;
          const { key, n } = parsePayload(u.data);
          let list = out.get(key);
          if (!list) out.set(key, (list = []));
          list.push(n);
        }
      }
    }
    return out;
  }
}

describe('Producer under random partial failures and a split (simulated service)', () => {
  for (const aggregation of [false, true]) {
    for (const seed of [1, 2, 3]) {
      it(`stores every record once, in per-key order (aggregation ${aggregation ? 'on' : 'off'}, seed ${seed})`, async () => {
        const random = prng(seed * 7919 + (aggregation ? 1 : 0));
        const sim = new SimulatedKinesis(random, 0.3, 0.1);
        const producer = new Producer({
          streamName: 'sim',
          kinesisClient: sim as unknown as KinesisClient,
          aggregation,
          aggregationMaxBytes: 2000,
          maxBufferedTimeMs: 1,
          retryBaseMs: 1,
          retryMaxMs: 4,
          rateLimitPercent: 1_000_000,
          recordTtlMs: 600_000,
          random,
        });
        const keys = 30;
        const perKey = 60;
        const puts: Promise<unknown>[] = [];
        for (let n = 0; n < perKey; n++) {
          for (let k = 0; k < keys; k++) puts.push(producer.put(`k${k}`, payload(`k${k}`, n, 20 + Math.floor(random() * 200))));
          if (n === 20) sim.split('shardId-000000000000');
          if (n === 40) sim.split('shardId-000000000001');
          if (n % 5 === 4) await Promise.all(puts.slice(-keys));
        }
        await Promise.all(puts);
        await producer.close();
        const m = producer.metrics();
        assert.equal(m.userRecordsPut, keys * perKey);
        assert.ok(m.retries > 0 && (m.errorsByCode.InternalFailure ?? 0) > 0 && (m.errorsByCode.ProvisionedThroughputExceededException ?? 0) > 0);
        const byKey = sim.readByKey();
        assert.equal(byKey.size, keys);
        for (const [key, list] of byKey) {
          assert.deepEqual(list, Array.from({ length: perKey }, (_, i) => i), `${key}: stored once each, in order`);
        }
      });
    }
  }
});
