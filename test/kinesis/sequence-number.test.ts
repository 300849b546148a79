import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeSequenceNumber, offsetFor, ShardSequenceFormat } from '../../src/kinesis/sequence-number.js';

const shardIndex = fc.integer({ min: 0, max: 0x7fffffff });
const seconds = fc.integer({ min: 1_000_000_000, max: 4_000_000_000 });
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 });

describe('sequence numbers', () => {
  it('are 56-digit decimal strings that decode back to their shard and offset', () => {
    fc.assert(
      fc.property(shardIndex, seconds, offset, fc.integer({ min: 0, max: 10_000_000 }), (index, created, off, lag) => {
        const f = new ShardSequenceFormat(index, created);
        const s = f.encode(off, (created + lag) * 1000 + 999);
        assert.match(s, /^[1-9]\d{55}$/);
        const d = decodeSequenceNumber(s)!;
        assert.equal(d.shardIndex, index);
        assert.equal(d.shardCreatedSeconds, created);
        assert.equal(offsetFor(d, false), BigInt(off));
        assert.equal(offsetFor(d, true), BigInt(off) + 1n);
        assert.equal(d.arrivalSeconds, created + lag);
      }),
    );
  });

  it('increase strictly with the offset within a shard, whatever the arrival times', () => {
    fc.assert(
      fc.property(shardIndex, seconds, offset, fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (i, c, off, t1, t2) => {
        const f = new ShardSequenceFormat(i, c);
        const a = BigInt(f.encode(off, (c + t1) * 1000));
        const b = BigInt(f.encode(off + 1, (c + t2) * 1000));
        assert.ok(b > a);
      }),
    );
  });

  it('start below every record of the shard and end above all of them', () => {
    const f = new ShardSequenceFormat(3, 1_700_000_000);
    const start = BigInt(f.starting());
    const first = BigInt(f.encode(0, 1_700_000_000_000));
    const end = BigInt(f.ending(1_800_000_000_000));
    assert.ok(start < first);
    assert.ok(BigInt(f.encode(Number.MAX_SAFE_INTEGER - 1, 1_799_000_000_000)) < end);
    const d = decodeSequenceNumber(f.starting())!;
    assert.equal(offsetFor(d, false), 0n);
    assert.equal(offsetFor(d, true), 0n);
  });

  it('of a shard created later exceed every number of an older shard', () => {
    const parent = new ShardSequenceFormat(0, 1_700_000_000);
    const child = new ShardSequenceFormat(2, 1_700_000_001);
    assert.ok(BigInt(child.starting()) > BigInt(parent.ending(1_700_000_000_500)));
  });

  it('refuse numbers that are not ours', () => {
    for (const s of ['0', '1', '12345678901234567890', '9'.repeat(56), '49' + '0'.repeat(54)]) {
      assert.equal(decodeSequenceNumber(s), undefined, s);
    }
  });
});
