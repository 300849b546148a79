import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Shard } from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import { LatencyHistogram } from '../../../src/client/producer/histogram.js';
import { HASH_KEY_MAX, partitionKeyHash, recordHashKey, ShardMap } from '../../../src/client/producer/shard-map.js';
import { TokenBucket } from '../../../src/util/token-bucket.js';
import { msUntilHolds } from '../../../src/client/producer/producer.js';

function shard(id: number, start: bigint, end: bigint, closed = false): Shard {
  return {
    ShardId: `shardId-${String(id).padStart(12, '0')}`,
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: closed ? '2' : undefined },
  };
}

describe('shard map', () => {
  const half = (HASH_KEY_MAX + 1n) / 2n;
  const map = new ShardMap([
    shard(0, 0n, HASH_KEY_MAX, true),
    shard(2, half, HASH_KEY_MAX),
    shard(1, 0n, half - 1n),
  ]);

  it('keeps the open shards, sorted by range, and finds the one holding a hash key', () => {
    assert.deepEqual(
      map.shards.map((s) => s.shardId),
      ['shardId-000000000001', 'shardId-000000000002'],
    );
    assert.ok(map.complete);
    assert.equal(map.shardFor(0n)!.shardId, 'shardId-000000000001');
    assert.equal(map.shardFor(half - 1n)!.shardId, 'shardId-000000000001');
    assert.equal(map.shardFor(half)!.shardId, 'shardId-000000000002');
    assert.equal(map.shardFor(HASH_KEY_MAX)!.shardId, 'shardId-000000000002');
    assert.equal(map.shardFor(HASH_KEY_MAX + 1n), undefined);
  });

  it('finds every hash key in exactly the shard whose range holds it', () => {
    const shards = [shard(0, 0n, 99n), shard(1, 100n, 1000n), shard(2, 1001n, HASH_KEY_MAX)];
    const m = new ShardMap(shards);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: HASH_KEY_MAX }), (h) => {
        const want = shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= h && h <= BigInt(s.HashKeyRange!.EndingHashKey!));
        assert.equal(m.shardFor(h)!.shardId, want!.ShardId);
      }),
    );
  });

  it('is incomplete when the open shards leave a gap', () => {
    assert.equal(new ShardMap([shard(1, 0n, half - 1n)]).complete, false);
    assert.equal(new ShardMap([]).complete, false);
  });

  it('hashes partition keys with MD5 and takes explicit hash keys as they are', () => {
    assert.equal(partitionKeyHash('a'), BigInt('0x' + createHash('md5').update('a').digest('hex')));
    assert.equal(partitionKeyHash('é'), BigInt('0x' + createHash('md5').update(Buffer.from('é', 'utf8')).digest('hex')));
    assert.equal(recordHashKey('a', '12345'), 12345n);
  });
});

describe('token bucket waits', () => {
  it('wait for the tokens asked, or for a full bucket when more than it holds', () => {
    const b = new TokenBucket(1000, 1000, 0);
    b.charge(1000, 0);
    assert.equal(msUntilHolds(b, 100, 0), 100);
    assert.equal(msUntilHolds(b, 0.5, 0), 1, 'whole milliseconds');
    assert.equal(b.tokens(250), 250);
    assert.equal(b.tokens(10_000), 1000);
    b.charge(3000, 10_000); // more than the bucket holds: debt
    assert.equal(b.tokens(10_000), -2000);
    assert.equal(msUntilHolds(b, 5000, 10_000), 3000, 'a request above capacity waits for a full bucket');
  });
});

describe('latency histogram', () => {
  it('reports quantiles within a bucket (4%) of the exact ones', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.2, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 500 }), (samples) => {
        const h = new LatencyHistogram();
        for (const s of samples) h.record(s);
        const sorted = [...samples].sort((a, b) => a - b);
        for (const q of [0.5, 0.99]) {
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
          const got = h.quantile(q);
          assert.ok(got >= exact * 0.999 && got <= exact * 1.0401, `q${q}: ${got} for ${exact}`);
        }
        assert.equal(h.count, samples.length);
      }),
    );
    assert.equal(new LatencyHistogram().quantile(0.5), 0);
  });
});
