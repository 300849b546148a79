import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { evenHashRanges, HASH_KEY_MAX, hashKeyBytes, partitionKeyHash } from '../../src/util/hash-key.js';

describe('hash keys', () => {
  it('lay out three shards as AWS does', () => {
    assert.deepEqual(
      evenHashRanges(3).map((r) => [r.start.toString(), r.end.toString()]),
      [
        ['0', '113427455640312821154458202477256070484'],
        ['113427455640312821154458202477256070485', '226854911280625642308916404954512140969'],
        ['226854911280625642308916404954512140970', '340282366920938463463374607431768211455'],
      ],
    );
  });

  it('tile the whole space without gaps for any shard count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (n) => {
        const r = evenHashRanges(n);
        assert.equal(r.length, n);
        assert.equal(r[0]!.start, 0n);
        assert.equal(r[n - 1]!.end, HASH_KEY_MAX);
        for (let i = 1; i < n; i++) assert.equal(r[i]!.start, r[i - 1]!.end + 1n);
      }),
      { numRuns: 50 },
    );
  });

  it('hash partition keys with MD5 read as an unsigned big-endian integer', () => {
    // MD5("") = d41d8cd98f00b204e9800998ecf8427e
    assert.equal(partitionKeyHash(''), 0xd41d8cd98f00b204e9800998ecf8427en);
    fc.assert(
      fc.property(fc.string(), (k) => {
        const h = partitionKeyHash(k);
        assert.ok(h >= 0n && h <= HASH_KEY_MAX);
        assert.equal(BigInt('0x' + hashKeyBytes(h).toString('hex')), h);
      }),
    );
  });
});
