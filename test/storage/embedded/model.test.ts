/**
 * Property: any sequence of appends (one at a time or several at once), reads, trims, lookups
 * and reopens gives the same results as a plain array of records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEmbeddedLogStore, type EmbeddedShardLog } from '../../../src/storage/embedded/index.js';
import type { LogOptions, RecordInput } from '../../../src/storage/types.js';
import { logOptions, plain, withTempDir } from './helpers.js';

interface ModelRecord {
  timestamp: number;
  partitionKey: string;
  data: Buffer;
}

class Model {
  records: ModelRecord[] = [];
  start = 0;
  last: number | undefined;

  append(records: RecordInput[], timestamp: number): { firstOffset: number; timestamp: number } {
    const stored = Math.max(timestamp, this.last ?? -Infinity);
    const firstOffset = this.records.length;
    for (const r of records) this.records.push({ timestamp: stored, partitionKey: r.partitionKey, data: r.data });
    this.last = stored;
    return { firstOffset, timestamp: stored };
  }

  read(fromOffset: number, maxRecords: number, maxBytes: number) {
    const from = Math.max(fromOffset, this.start);
    const out = [];
    let bytes = 0;
    for (let o = from; o < this.records.length && out.length < maxRecords; o++) {
      const r = this.records[o];
      const size = Buffer.byteLength(r.partitionKey) + r.data.length;
      if (bytes + size > maxBytes && out.length > 0) break;
      bytes += size;
      out.push({ offset: o, timestamp: r.timestamp, partitionKey: r.partitionKey, data: r.data.toString('hex') });
    }
    return { records: out, nextOffset: out.length > 0 ? out[out.length - 1].offset + 1 : from, bytes };
  }

  offsetAtTimestamp(timestamp: number): number {
    for (let o = this.start; o < this.records.length; o++) if (this.records[o].timestamp >= timestamp) return o;
    return this.records.length;
  }

  timestampAt(offset: number): number | undefined {
    return offset >= this.start && offset < this.records.length ? this.records[offset].timestamp : undefined;
  }

  trim(before: number): void {
    this.start = Math.max(this.start, this.offsetAtTimestamp(before));
  }
}

const record = fc.record({
  partitionKey: fc.string({ unit: 'grapheme', maxLength: 6 }),
  data: fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
});
const batch = fc.array(record, { minLength: 1, maxLength: 4 });
/** Timestamps move by a step that is sometimes negative, so the log must hold them monotonic. */
const step = fc.integer({ min: -30, max: 120 });

type Command =
  | { kind: 'append'; batches: RecordInput[][]; steps: number[] }
  | { kind: 'read'; from: number; maxRecords: number; maxBytes: number }
  | { kind: 'trim'; back: number }
  | { kind: 'offsetAt'; back: number }
  | { kind: 'timestampAt'; from: number }
  | { kind: 'reopen' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), batches: fc.array(batch, { minLength: 1, maxLength: 5 }), steps: fc.array(step, { minLength: 5, maxLength: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), from: fc.nat(60), maxRecords: fc.integer({ min: 1, max: 30 }), maxBytes: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('trim' as const), back: fc.integer({ min: -50, max: 800 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('offsetAt' as const), back: fc.integer({ min: -50, max: 800 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('timestampAt' as const), from: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
);

async function run(options: LogOptions, commands: Command[]): Promise<void> {
  await withTempDir(async (dir) => {
    const model = new Model();
    const open = () => createEmbeddedLogStore(dir, options).open('s', 0);
    let log: EmbeddedShardLog = await open();
    let clock = 1000;
    try {
      for (const c of commands) {
        switch (c.kind) {
          case 'append': {
            const stamps = c.batches.map((_, i) => (clock += c.steps[i]));
            const expected = c.batches.map((b, i) => model.append(b, stamps[i]));
            // All of them at once, so that they share flushes.
            assert.deepEqual(await Promise.all(c.batches.map((b, i) => log.append(b, stamps[i]))), expected);
            break;
          }
          case 'read': {
            const got = await log.read(c.from, c.maxRecords, c.maxBytes);
            const want = model.read(c.from, c.maxRecords, c.maxBytes);
            assert.deepEqual({ ...got, records: plain(got.records) }, want);
            break;
          }
          case 'trim':
            await log.trim(clock - c.back);
            model.trim(clock - c.back);
            break;
          case 'offsetAt':
            assert.equal(await log.offsetAtTimestamp(clock - c.back), model.offsetAtTimestamp(clock - c.back));
            break;
          case 'timestampAt':
            assert.equal(await log.timestampAt(c.from), model.timestampAt(c.from));
            break;
          case 'reopen':
            await log.close();
            log = await open();
            break;
        }
        assert.deepEqual([log.nextOffset, log.startOffset, log.lastTimestamp], [model.records.length, model.start, model.last]);
      }
      const everything = await log.read(0, 1e6, Number.MAX_SAFE_INTEGER);
      assert.deepEqual({ ...everything, records: plain(everything.records) }, model.read(0, 1e6, Number.MAX_SAFE_INTEGER));
    } finally {
      await log.close();
    }
  });
}

test('the log behaves like an array of records', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ segmentBytes: fc.integer({ min: 60, max: 3000 }), segmentMaxAgeMs: fc.integer({ min: 1, max: 1000 }) }),
      fc.array(command, { maxLength: 40 }),
      (sizes, commands) => run(logOptions(sizes), commands),
    ),
    { numRuns: 80 },
  );
});
