import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { HeldOutput, ResponseBudget, releaseWhenSent } from '../../src/util/response-budget.js';
import { ManualClock } from '../../src/util/clock.js';

const MiB = 1024 * 1024;

function budget(maxBytes: number, clock = new ManualClock()) {
  return new ResponseBudget(maxBytes, { minGrant: MiB, maxWaitMs: 5_000, sendHoldMs: 1_000, sweepMs: 3_600_000, clock });
}

/** A response that finishes or closes when told to. */
class FakeResponse extends EventEmitter {
  writableFinished = false;
  destroyed = false;
}

describe('ResponseBudget', () => {
  it('grants what is asked while there is room, then what is left, then nothing below the smallest grant', () => {
    const b = budget(10 * MiB);
    assert.equal(b.tryTake(4 * MiB)?.bytes, 4 * MiB);
    assert.equal(b.tryTake(4 * MiB)?.bytes, 4 * MiB);
    assert.equal(b.tryTake(4 * MiB)?.bytes, 2 * MiB);
    assert.equal(b.tryTake(4 * MiB), undefined);
    assert.equal(b.inUse, 10 * MiB);
  });

  it('grants all that is asked while there is room even to a request content with less, and the room left down to that least', async () => {
    const b = budget(10 * MiB);
    assert.equal(b.tryTake(8 * MiB, MiB / 4)?.bytes, 8 * MiB, 'the room is there: the least asked for does not shrink the grant');
    assert.equal(b.tryTake(4 * MiB, MiB / 4)?.bytes, 2 * MiB);
    const last = b.tryTake(4 * MiB, 3 * MiB);
    assert.equal(last, undefined, 'no room at all');
    const c = budget(10 * MiB);
    const big = c.tryTake(9.75 * MiB)!;
    assert.equal(c.tryTake(4 * MiB, MiB / 8)?.bytes, MiB / 4, 'below the smallest grant, but what it is content with');
    big.release();
    const waiting = c.take(12 * MiB, 11 * MiB);
    assert.equal((await waiting)?.bytes, 9.75 * MiB, 'less than the least is free, but at least the smallest grant');
  });

  it('serves waiting requests first come, first served, as shares are given back or shrink', async () => {
    const b = budget(10 * MiB);
    const first = b.tryTake(10 * MiB)!;
    const order: string[] = [];
    const a = b.take(6 * MiB).then((s) => (order.push('a'), s));
    const c = b.take(6 * MiB).then((s) => (order.push('c'), s));
    assert.equal(b.waiting, 2);
    // Room below the smallest grant serves nobody, and nobody overtakes the queue, even when it would fit.
    first.resize(9.5 * MiB);
    assert.equal(b.waiting, 2);
    assert.equal(b.tryTake(MiB / 4), undefined);
    first.resize(4 * MiB);
    assert.equal((await a)?.bytes, 6 * MiB);
    assert.equal(b.waiting, 1);
    first.release();
    first.release();
    assert.equal((await c)?.bytes, 4 * MiB);
    assert.deepEqual(order, ['a', 'c']);
    assert.equal(b.inUse, 10 * MiB);
  });

  it('refuses a request that waited too long', async () => {
    const clock = new ManualClock();
    const b = budget(10 * MiB, clock);
    const held = b.tryTake(10 * MiB)!;
    const waiting = b.take(MiB);
    clock.advance(4_999);
    b.sweep();
    assert.equal(b.waiting, 1);
    clock.advance(1);
    b.sweep();
    assert.equal(await waiting, undefined);
    assert.equal(b.refused, 1);
    held.release();
    assert.equal(b.inUse, 0);
  });

  it('gives back, when others need the room, the share of a response that has been sending too long', async () => {
    const clock = new ManualClock();
    const b = budget(10 * MiB, clock);
    const slow = b.tryTake(10 * MiB)!;
    const res = new FakeResponse();
    releaseWhenSent(res, slow);
    const waiting = b.take(MiB);
    clock.advance(999);
    b.sweep();
    assert.equal(b.waiting, 1);
    clock.advance(1);
    b.sweep();
    assert.equal((await waiting)?.bytes, MiB);
    assert.equal(b.inUse, MiB);
    // The response ending later gives nothing back twice.
    res.emit('close');
    assert.equal(b.inUse, MiB);
  });

  it('takes back a share sending too long for a request that would otherwise get less than it asked for', () => {
    const clock = new ManualClock();
    const b = budget(10 * MiB, clock);
    releaseWhenSent(new FakeResponse(), b.tryTake(6 * MiB)!);
    assert.equal(b.tryTake(6 * MiB)?.bytes, 4 * MiB);
    clock.advance(1_000);
    assert.equal(b.tryTake(6 * MiB)?.bytes, 6 * MiB);
    assert.equal(b.inUse, 10 * MiB);
  });

  it('takes a share back when its response is sent, its client goes away, or either happened already', () => {
    const b = budget(10 * MiB);
    const finished = new FakeResponse();
    releaseWhenSent(finished, b.tryTake(2 * MiB)!);
    const aborted = new FakeResponse();
    releaseWhenSent(aborted, b.tryTake(2 * MiB)!);
    assert.equal(b.inUse, 4 * MiB);
    finished.emit('finish');
    finished.emit('close');
    assert.equal(b.inUse, 2 * MiB);
    aborted.emit('close');
    assert.equal(b.inUse, 0);

    const done = new FakeResponse();
    done.writableFinished = true;
    releaseWhenSent(done, b.tryTake(2 * MiB)!);
    const gone = new FakeResponse();
    gone.destroyed = true;
    releaseWhenSent(gone, b.tryTake(2 * MiB)!);
    assert.equal(b.inUse, 0);
    assert.equal(done.listenerCount('close') + gone.listenerCount('close'), 0);
  });

  it('carries the share an output holds with the output', () => {
    const b = budget(10 * MiB);
    const output = { Records: [] };
    const share = b.tryTake(MiB)!;
    const held = new HeldOutput(output, share);
    assert.equal(held.output, output);
    assert.equal(held.share, share);
    held.share.release();
    assert.equal(b.inUse, 0);
  });

  it('refuses every waiting request when closed', async () => {
    const b = budget(10 * MiB);
    b.tryTake(10 * MiB);
    const waiting = [b.take(MiB), b.take(MiB)];
    b.close();
    assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
    assert.equal(b.waiting, 0);
  });
});
