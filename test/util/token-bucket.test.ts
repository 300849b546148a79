import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TokenBucket } from '../../src/util/token-bucket.js';

const MiB = 1024 * 1024;

/** A sequence of (time step in ms, tokens asked for). */
const steps = fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 1, max: 50 })), { maxLength: 200 });

describe('TokenBucket', () => {
  it('never grants more than its capacity plus what the elapsed time refilled', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 500 }), steps, (rate, capacity, seq) => {
        const start = 1_000_000;
        const bucket = new TokenBucket(rate, capacity, start);
        let now = start;
        let granted = 0;
        for (const [dt, n] of seq) {
          now += dt;
          if (bucket.tryTake(n, now)) granted += n;
          assert.ok(granted <= capacity + (rate * (now - start)) / 1000 + 1e-6, `granted ${granted} by ${now - start} ms`);
        }
      }),
    );
  });

  it('grants every request that fits at the sustained rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }), (rate, n, count) => {
        const bucket = new TokenBucket(rate, n, 0);
        let now = 0;
        for (let i = 0; i < count; i++) {
          assert.ok(bucket.tryTake(n, now), `request ${i} at ${now} ms`);
          now += Math.ceil((n * 1000) / rate);
        }
      }),
    );
  });

  it('spends a full bucket at once, then refuses, and a refusal costs nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 200 }), (rate, capacity) => {
        const bucket = new TokenBucket(rate, capacity, 5);
        for (let i = 0; i < capacity; i++) assert.ok(bucket.tryTake(1, 5));
        assert.equal(bucket.tryTake(1, 5), false);
        assert.equal(bucket.tokens(5), 0);
      }),
    );
  });

  it('refills to its capacity and no further, and a clock that goes back adds nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 100_000 }), (rate, capacity, wait) => {
        const bucket = new TokenBucket(rate, capacity, 1_000);
        bucket.charge(capacity, 1_000);
        assert.ok(bucket.tokens(1_000 + wait) <= capacity);
        const held = bucket.tokens(1_000 + wait);
        assert.equal(bucket.tokens(500), held, 'an earlier time changes nothing');
      }),
    );
  });

  it('lets a request larger than the bucket through when full, and its debt is repaid at the rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 1_000 }), (rate, capacity, extra) => {
        const bucket = new TokenBucket(rate, capacity, 0);
        assert.equal(bucket.takeAllowingDebt(capacity + extra, 0), true);
        assert.equal(bucket.inDebt(0), true);
        assert.equal(bucket.takeAllowingDebt(1, 0), false, 'nothing more while in debt');
        const repaidAt = (extra * 1000) / rate;
        assert.ok(Math.abs(bucket.msUntil(0, 0) - repaidAt) < 1e-6);
        assert.equal(bucket.inDebt(Math.ceil(repaidAt)), false);
      }),
    );
  });

  it('does not let a request larger than the bucket through unless the bucket is full', () => {
    const bucket = new TokenBucket(10, 10, 0);
    assert.ok(bucket.tryTake(1, 0));
    assert.equal(bucket.takeAllowingDebt(25, 0), false);
    assert.equal(bucket.takeAllowingDebt(25, 100), true, 'full again after 100 ms at 10/s');
    assert.equal(bucket.tokens(100), -15);
  });
});

