import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LruCache } from '../../src/util/lru-cache.js';

describe('LruCache', () => {
  it('drops the entry used least recently once it holds more than its bound', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    assert.equal(c.get('a'), 1, 'reading a makes b the least recently used');
    c.set('c', 3);
    assert.equal(c.has('b'), false);
    assert.deepEqual([c.get('a'), c.get('c'), c.size], [1, 3, 2]);
    c.set('a', 10);
    c.set('d', 4);
    assert.deepEqual([c.get('a'), c.has('c'), c.get('d')], [10, false, 4]);
    c.clear();
    assert.equal(c.size, 0);
  });

  it('never holds more than its bound and keeps the most recent entries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 100 }), (max, keys) => {
        const c = new LruCache<number, number>(max);
        for (const k of keys) c.set(k, k);
        assert.ok(c.size <= max);
        const recent = [...new Set([...keys].reverse())].slice(0, max);
        for (const k of recent) assert.equal(c.get(k), k);
      }),
    );
  });

  it('refuses a bound below one', () => {
    assert.throws(() => new LruCache(0), RangeError);
  });
});
