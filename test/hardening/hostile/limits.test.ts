import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionCap } from '../../../src/server/listener.js';
import { UnsentBudget, type UnsentHolder } from '../../../src/server/unsent.js';

class FakeHolder implements UnsentHolder {
  dropped = false;
  constructor(public bytes: number) {}
  buffered(): number {
    return this.bytes;
  }
  drop(): void {
    this.dropped = true;
  }
}

describe('the budget for responses clients have not read', () => {
  it('drops nothing while the total fits', () => {
    const budget = new UnsentBudget(100, 60_000);
    const a = new FakeHolder(40);
    const b = new FakeHolder(50);
    budget.add(a);
    budget.add(b);
    budget.sweep();
    budget.sweep();
    assert.equal(a.dropped || b.dropped, false);
    budget.close();
  });

  it('gives a new response one sweep of grace, then drops the stuck ones, most behind first, until the rest fit', () => {
    const budget = new UnsentBudget(100, 60_000);
    const small = new FakeHolder(30);
    const big = new FakeHolder(80);
    const reading = new FakeHolder(60);
    for (const h of [small, big, reading]) budget.add(h);
    budget.sweep();
    assert.equal(budget.dropped, 0, 'the first sight of a backlog is not a stall');
    reading.bytes = 50; // this client reads
    budget.sweep();
    assert.equal(big.dropped, true, 'the most behind stuck client goes first');
    assert.equal(small.dropped, false, 'then the rest fit: 30 + 50');
    assert.equal(reading.dropped, false, 'a client that reads is never dropped');
    assert.equal(budget.dropped, 1);
    budget.close();
  });

  it('never drops a client that reads, even over the budget', () => {
    const budget = new UnsentBudget(10, 60_000);
    const slow = new FakeHolder(1_000);
    budget.add(slow);
    for (let i = 0; i < 5; i++) {
      budget.sweep();
      slow.bytes -= 1;
    }
    assert.equal(slow.dropped, false);
    budget.close();
  });

  it('forgets holders that are gone, and does nothing at 0', () => {
    const budget = new UnsentBudget(10, 60_000);
    const h = new FakeHolder(100);
    const forget = budget.add(h);
    budget.sweep();
    forget();
    budget.sweep();
    assert.equal(h.dropped, false);
    budget.close();
    const off = new UnsentBudget(0);
    const x = new FakeHolder(1e9);
    off.add(x);
    off.sweep();
    off.sweep();
    assert.equal(x.dropped, false);
  });
});

describe('the connection cap', () => {
  it('keeps descriptors for files below the open-file limit', () => {
    assert.equal(connectionCap(10_000, 20_000), 10_000);
    assert.equal(connectionCap(10_000, 1_024), 1_024 - 128);
    assert.equal(connectionCap(0, 1_024), 1_024 - 128);
    assert.equal(connectionCap(10_000, 200), 100);
    assert.equal(connectionCap(500, undefined), 500);
    assert.equal(connectionCap(0, undefined), 0);
  });
});
