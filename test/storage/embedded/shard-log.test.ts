import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import type { RecordInput } from '../../../src/storage/types.js';
import { batchSize, logOptions, plain, readAll, rec, withTempDir } from './helpers.js';

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

test('records round trip byte for byte, empty data and multi-byte keys included', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions());
    const log = await store.open('s', 0);
    const batches: RecordInput[][] = [
      [rec('plain', 'hello')],
      [rec('ключ', Buffer.alloc(0)), rec('🔑 emoji key', allBytes), rec('', 'empty key')],
      [rec('k'.repeat(256), Buffer.alloc(100_000, 7))],
    ];
    const results = [];
    for (const [i, batch] of batches.entries()) results.push(await log.append(batch, 1000 + i));
    assert.deepEqual(results, [
      { firstOffset: 0, timestamp: 1000 },
      { firstOffset: 1, timestamp: 1001 },
      { firstOffset: 4, timestamp: 1002 },
    ]);
    const expected = batches.flatMap((batch, i) => batch.map((r) => ({ ...r, timestamp: 1000 + i })));
    const check = (got: Awaited<ReturnType<typeof readAll>>) => {
      assert.equal(got.length, expected.length);
      got.forEach((r, i) => {
        assert.equal(r.offset, i);
        assert.equal(r.timestamp, expected[i].timestamp);
        assert.equal(r.partitionKey, expected[i].partitionKey);
        assert.ok(r.data.equals(expected[i].data), `data of record ${i}`);
      });
    };
    check(await readAll(log));
    await store.close();
    const reopened = await createEmbeddedLogStore(dir, logOptions()).open('s', 0);
    check(await readAll(reopened));
    await reopened.close();
  }));

test('offsets stay contiguous across many appends and segment rolls', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions({ segmentBytes: 600 }));
    const log = await store.open('s', 0);
    let expected = 0;
    const written: RecordInput[] = [];
    for (let i = 0; i < 300; i++) {
      const batch = Array.from({ length: 1 + (i % 4) }, (_, j) => rec(`key-${i}-${j}`, `value ${i}/${j}`));
      const { firstOffset } = await log.append(batch, 5000 + i);
      assert.equal(firstOffset, expected);
      expected += batch.length;
      written.push(...batch);
    }
    assert.equal(log.nextOffset, expected);
    assert.ok(log.stats.rolls >= 20, `only ${log.stats.rolls} rolls`);
    // Every segment is named by the offset of its first record and none exceeds segmentBytes
    // (a batch never straddles segments).
    const files = (await readdir(join(dir, 's', '0'))).filter((f) => f.endsWith('.log')).sort();
    assert.equal(files.length, log.stats.rolls + 1);
    const bases = log.segments.map((s) => s.base);
    assert.deepEqual(files, bases.map((b) => `${String(b).padStart(20, '0')}.log`));
    for (const segment of log.segments) assert.ok(segment.size <= 600);
    const all = await readAll(log, 0, 7);
    assert.deepEqual(all.map((r) => r.offset), written.map((_, i) => i));
    assert.deepEqual(all.map((r) => r.data.toString()), written.map((r) => r.data.toString()));
    for (const base of bases) assert.equal((await log.read(base, 1, 1e9)).records[0].offset, base);
    await store.close();
  }));

test('reads span segments and start anywhere', () =>
  withTempDir(async (dir) => {
    const store = createEmbeddedLogStore(dir, logOptions({ segmentBytes: 1000 }));
    const log = await store.open('s', 0);
    for (let i = 0; i < 100; i++) await log.append([rec('k', `r${i}`), rec('k', `r${i}b`)], i);
    assert.ok(log.segments.length > 5);
    const second = log.segments[1];
    const third = log.segments[2];
    // From the middle of one segment across the next two.
    const from = second.base + 1;
    const count = third.endOffset - from + 3;
    const r = await log.read(from, count, 1e9);
    assert.equal(r.records.length, count);
    assert.deepEqual(r.records.map((x) => x.offset), Array.from({ length: count }, (_, i) => from + i));
    assert.equal(r.nextOffset, from + count);
    assert.equal(r.records[0].data.toString(), from % 2 === 0 ? `r${from / 2}` : `r${(from - 1) / 2}b`);
    await store.close();
  }));

test('maxRecords and maxBytes limit a read, which still returns one record at least', () =>
  withTempDir(async (dir) => {
    const log = await createEmbeddedLogStore(dir, logOptions()).open('s', 0);
    await log.append([rec('ab', '1234'), rec('c', '56'), rec('é', '789'), rec('d', '0')], 1);
    // Bytes count partition key (UTF-8) and data: 6, 3, 5, 2.
    let r = await log.read(0, 3, 1e9);
    assert.deepEqual([r.records.length, r.nextOffset, r.bytes], [3, 3, 14]);
    r = await log.read(0, 100, 9);
    assert.deepEqual([r.records.length, r.nextOffset, r.bytes], [2, 2, 9]);
    r = await log.read(0, 100, 8);
    assert.deepEqual([r.records.length, r.nextOffset, r.bytes], [1, 1, 6]);
    r = await log.read(1, 100, 1);
    assert.deepEqual([r.records.length, r.nextOffset, r.bytes], [1, 2, 3]);
    r = await log.read(4, 100, 1e9);
    assert.deepEqual([r.records.length, r.nextOffset, r.bytes], [0, 4, 0]);
    r = await log.read(17, 100, 1e9);
    assert.deepEqual([r.records.length, r.nextOffset], [0, 17]);
    r = await log.read(0, 0, 1e9);
    assert.deepEqual([r.records.length, r.nextOffset], [0, 0]);
    await log.close();
  }));

test('reopening restores nextOffset, startOffset, lastTimestamp and the records', () =>
  withTempDir(async (dir) => {
    const options = logOptions({ segmentBytes: 300 });
    let log = await createEmbeddedLogStore(dir, options).open('s', 3);
    assert.deepEqual([log.nextOffset, log.startOffset, log.lastTimestamp], [0, 0, undefined]);
    for (let i = 0; i < 40; i++) await log.append([rec(`k${i}`, `v${i}`)], 100 + i * 10);
    await log.trim(150);
    const before = [log.nextOffset, log.startOffset, log.lastTimestamp];
    assert.deepEqual(before, [40, 5, 490]);
    const records = plain(await readAll(log));
    await log.close();
    log = await createEmbeddedLogStore(dir, options).open('s', 3);
    assert.deepEqual([log.nextOffset, log.startOffset, log.lastTimestamp], before);
    assert.deepEqual(plain(await readAll(log)), records);
    assert.equal((await log.append([rec('k', 'after')], 1)).firstOffset, 40);
    await log.close();
  }));

test('stored timestamps never go backwards', () =>
  withTempDir(async (dir) => {
    const log = await createEmbeddedLogStore(dir, logOptions()).open('s', 0);
    assert.deepEqual(await log.append([rec('k', 'a')], 500), { firstOffset: 0, timestamp: 500 });
    assert.deepEqual(await log.append([rec('k', 'b')], 400), { firstOffset: 1, timestamp: 500 });
    assert.deepEqual(await log.append([rec('k', 'c')], 600), { firstOffset: 2, timestamp: 600 });
    assert.deepEqual((await readAll(log)).map((r) => r.timestamp), [500, 500, 600]);
    assert.equal(log.lastTimestamp, 600);
    await log.close();
  }));

test('offsetAtTimestamp and timestampAt, within and across segments', () =>
  withTempDir(async (dir) => {
    const log = await createEmbeddedLogStore(dir, logOptions({ segmentBytes: 200 })).open('s', 0);
    // Offsets 0..59; timestamp of offset i is 1000 + 10 * floor(i / 3).
    for (let i = 0; i < 20; i++) await log.append([rec('k', 'x'), rec('k', 'y'), rec('k', 'z')], 1000 + 10 * i);
    assert.ok(log.segments.length > 3);
    assert.equal(await log.offsetAtTimestamp(0), 0);
    assert.equal(await log.offsetAtTimestamp(1000), 0);
    assert.equal(await log.offsetAtTimestamp(1001), 3);
    assert.equal(await log.offsetAtTimestamp(1010), 3);
    assert.equal(await log.offsetAtTimestamp(1095), 30);
    assert.equal(await log.offsetAtTimestamp(1190), 57);
    assert.equal(await log.offsetAtTimestamp(1191), 60);
    for (let i = 0; i < 60; i++) assert.equal(await log.timestampAt(i), 1000 + 10 * Math.floor(i / 3));
    assert.equal(await log.timestampAt(60), undefined);
    assert.equal(await log.timestampAt(-1), undefined);
    for (const segment of log.segments) {
      assert.equal(await log.offsetAtTimestamp(segment.firstTimestamp), segment.base);
    }
    await log.close();
  }));

test('a segment rolls when its first record is older than segmentMaxAgeMs', () =>
  withTempDir(async (dir) => {
    const log = await createEmbeddedLogStore(dir, logOptions({ segmentMaxAgeMs: 100 })).open('s', 0);
    for (const ts of [0, 50, 100, 101, 150, 201, 202, 1000]) await log.append([rec('k', String(ts))], ts);
    // 101 - 0 > 100 rolls; 202 - 101 > 100 rolls; 1000 - 202 > 100 rolls.
    assert.deepEqual(
      log.segments.map((s) => [s.base, s.firstTimestamp]),
      [
        [0, 0],
        [3, 101],
        [6, 202],
        [7, 1000],
      ],
    );
    await log.close();
  }));

test('concurrent appends resolve in call order and all become visible', () =>
  withTempDir(async (dir) => {
    const log = await createEmbeddedLogStore(dir, logOptions({ segmentBytes: 4000 })).open('s', 0);
    const order: number[] = [];
    const sizes = Array.from({ length: 500 }, (_, i) => 1 + (i % 5));
    const appends = sizes.map((n, i) =>
      log
        .append(
          Array.from({ length: n }, (_, j) => rec(`p${i}`, `${i}:${j}`)),
          2000 + i,
        )
        .then((r) => {
          order.push(i);
          return r;
        }),
    );
    const results = await Promise.all(appends);
    assert.deepEqual(order, sizes.map((_, i) => i));
    let offset = 0;
    results.forEach((r, i) => {
      assert.equal(r.firstOffset, offset);
      offset += sizes[i];
    });
    assert.ok(log.stats.flushes < 500, 'appends made together share flushes');
    const all = await readAll(log);
    assert.equal(all.length, offset);
    let k = 0;
    sizes.forEach((n, i) => {
      for (let j = 0; j < n; j++) assert.equal(all[k++].data.toString(), `${i}:${j}`);
    });
    await log.close();
  }));

test('records are not visible to reads before their append resolves', () =>
  withTempDir(async (dir) => {
    // With fdatasync there is a real gap between the write and the publication.
    const log = await createEmbeddedLogStore(dir, logOptions({ fsync: 'always' })).open('s', 0);
    let readsBeforeResolve = 0;
    for (let round = 0; round < 20; round++) {
      let resolved = false;
      const append = log.append([rec('k', `round ${round}`)], round).then((r) => {
        resolved = true;
        return r;
      });
      const early: number[] = [];
      while (!resolved) {
        const r = await log.read(round, 10, 1e9);
        if (!resolved) early.push(r.records.length);
        // A read past the end completes without I/O; let the write make progress.
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(early.every((n) => n === 0), `round ${round}: a read saw the record before the append resolved`);
      readsBeforeResolve += early.length;
      await append;
      assert.equal((await log.read(round, 10, 1e9)).records.length, 1);
    }
    assert.ok(readsBeforeResolve > 0, 'reads ran while appends were in flight');
    await log.close();
  }));

test('bad appends are refused, and a closed log refuses everything', () =>
  withTempDir(async (dir) => {
    const log = await createEmbeddedLogStore(dir, logOptions()).open('s', 0);
    await assert.rejects(log.append([], 1), RangeError);
    await assert.rejects(log.append([rec('k', 'v')], 1.5), TypeError);
    assert.equal(log.nextOffset, 0);
    const last = log.append([rec('k', 'v')], 1);
    await log.close();
    assert.deepEqual(await last, { firstOffset: 0, timestamp: 1 }, 'an append made before close() completes');
    await assert.rejects(log.append([rec('k', 'v')], 1), /closed/);
    await assert.rejects(log.read(0, 1, 1), /closed/);
  }));
