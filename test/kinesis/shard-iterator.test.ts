import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IteratorCodec } from '../../src/kinesis/shard-iterator.js';

describe('shard iterators', () => {
  const codec = new IteratorCodec(randomBytes(32));

  it('round-trip their position and stay within 512 characters', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z0-9_.-]{1,128}~[0-9a-f]{8}$/),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (streamKey, shardIndex, offset, issuedAt) => {
          const it = codec.encode({ streamKey, shardIndex, offset, issuedAt });
          assert.ok(it.length <= 512);
          assert.deepEqual(codec.decode(it), { streamKey, shardIndex, offset, issuedAt });
        },
      ),
    );
  });

  it('refuse tampered, truncated and foreign iterators', () => {
    const it0 = codec.encode({ streamKey: 's~00000000', shardIndex: 1, offset: 5, issuedAt: 1 });
    const raw = Buffer.from(it0, 'base64');
    raw[14] = raw[14]! ^ 1;
    assert.equal(codec.decode(raw.toString('base64')), undefined);
    assert.equal(codec.decode(it0.slice(0, -4)), undefined);
    assert.equal(codec.decode('not an iterator'), undefined);
    assert.equal(new IteratorCodec(randomBytes(32)).decode(it0), undefined);
  });
});
