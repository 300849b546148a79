import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RateMeter } from '../../src/kinesis/rate-meter.js';

const T0 = 1_700_000_000_000;

describe('RateMeter', () => {
  it('gives no rate until it has watched a whole window', () => {
    const m = new RateMeter(10, T0);
    for (let s = 0; s < 10; s++) {
      assert.equal(m.average(T0 + s * 1000), undefined, `second ${s}`);
      m.record(T0 + s * 1000 + 500, 100, 1000);
    }
    assert.deepEqual(m.average(T0 + 10_000), { recordsPerSecond: 100, bytesPerSecond: 1000 });
  });

  it('averages over the last window only, counting silent seconds as zero', () => {
    const m = new RateMeter(4, T0);
    for (let s = 0; s < 4; s++) m.record(T0 + s * 1000, 10, 10);
    assert.deepEqual(m.average(T0 + 4000), { recordsPerSecond: 10, bytesPerSecond: 10 });
    assert.deepEqual(m.average(T0 + 5000), { recordsPerSecond: 7.5, bytesPerSecond: 7.5 });
    assert.deepEqual(m.average(T0 + 7999), { recordsPerSecond: 2.5, bytesPerSecond: 2.5 });
    assert.deepEqual(m.average(T0 + 8000), { recordsPerSecond: 0, bytesPerSecond: 0 });
    m.record(T0 + 60_000, 40, 4);
    assert.deepEqual(m.average(T0 + 60_999), { recordsPerSecond: 0, bytesPerSecond: 0 }, 'the current second is not yet counted');
    assert.deepEqual(m.average(T0 + 61_000), { recordsPerSecond: 10, bytesPerSecond: 1 });
  });

  it('does not depend on when it is asked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 60 }),
        fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
        (writes, asks) => {
          const w = 5;
          const a = new RateMeter(w, T0);
          const b = new RateMeter(w, T0);
          let t = T0;
          const perSecond = new Map<number, number>();
          writes.forEach(([dt, n], i) => {
            t += dt;
            if (asks[i]) a.average(t);
            a.record(t, n, n);
            b.record(t, n, n);
            const s = Math.floor(t / 1000);
            perSecond.set(s, (perSecond.get(s) ?? 0) + n);
          });
          const end = t + 1000;
          const ra = a.average(end);
          assert.deepEqual(ra, b.average(end));
          if (ra) {
            let sum = 0;
            const s = Math.floor(end / 1000);
            for (let x = s - w; x < s; x++) sum += perSecond.get(x) ?? 0;
            assert.equal(ra.recordsPerSecond, sum / w);
          }
        },
      ),
    );
  });
});
