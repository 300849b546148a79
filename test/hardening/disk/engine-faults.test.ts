/**
 * Retention under faults, on the embedded engine's shard log directly: a trim point that cannot be
 * written does not stop retention (it is what frees a full disk), and a log whose records have all
 * expired holds no file open (closed shards past retention are many, and stay open in the store).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import type { LogWarning } from '../../../src/storage/embedded/events.js';
import type { LogOptions, ShardLog } from '../../../src/storage/types.js';
import { removeDir, tempDir } from '../../helpers/server.js';

const options: LogOptions = { fsync: 'always', fsyncIntervalMs: 1000, segmentBytes: 4096, segmentMaxAgeMs: 3_600_000 };

/** The files under `dir` this process has open (Linux), or undefined where /proc is missing. */
function openFilesUnder(dir: string): string[] | undefined {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return undefined;
  }
  return fds.flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir + path.sep) ? [target] : [];
    } catch {
      return [];
    }
  });
}

async function appendMany(log: ShardLog, count: number, timestamp: number): Promise<void> {
  for (let i = 0; i < count; i++) await log.append([{ partitionKey: 'k', data: Buffer.alloc(500, i) }], timestamp + i);
}

describe('retention under faults (embedded shard log)', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('goes on when the trim point cannot be written: expired records hidden, their segments deleted, reported', async () => {
    const dir = tempDir('tributary-trim-fault-');
    dirs.push(dir);
    const warnings: LogWarning[] = [];
    const store = createEmbeddedLogStore(dir, options, { onWarning: (w) => warnings.push(w) });
    const log = await store.open('s', 0);
    await appendMany(log, 40, 1_000);
    await appendMany(log, 5, 100_000);
    const shardDir = path.join(dir, 's', '0');
    const segmentsBefore = readdirSync(shardDir).filter((f) => f.endsWith('.log')).length;
    assert.ok(segmentsBefore > 3, `several segments (${segmentsBefore})`);
    // The trim point is written to trim.json.tmp and renamed; a directory in its way makes that fail.
    mkdirSync(path.join(shardDir, 'trim.json.tmp'));

    await log.trim(50_000);
    assert.equal(log.startOffset, 40, 'the expired records are hidden');
    const read = await log.read(0, 100, 1 << 20);
    assert.deepEqual(
      read.records.map((r) => r.offset),
      [40, 41, 42, 43, 44],
    );
    const segmentsAfter = readdirSync(shardDir).filter((f) => f.endsWith('.log')).length;
    assert.ok(segmentsAfter < segmentsBefore, `expired segments are deleted (${segmentsBefore} → ${segmentsAfter})`);
    assert.ok(
      warnings.some((w) => w.code === 'write-failed' && w.path.endsWith('trim.json')),
      `the failed trim point is reported: ${JSON.stringify(warnings)}`,
    );
    await store.close();

    // After a restart, the first trim hides again what the lost trim point would have.
    rmSync(path.join(shardDir, 'trim.json.tmp'), { recursive: true });
    const again = await createEmbeddedLogStore(dir, options, { onWarning: (w) => warnings.push(w) }).open('s', 0);
    await again.trim(50_000);
    assert.equal(again.startOffset, 40);
    assert.deepEqual(
      (await again.read(0, 100, 1 << 20)).records.map((r) => r.offset),
      [40, 41, 42, 43, 44],
    );
    await again.close();
  });

  it('holds no file open for a log whose records have all expired, and opens it again to append', async (t) => {
    const dir = tempDir('tributary-idle-handles-');
    dirs.push(dir);
    if (!openFilesUnder(dir)) {
      t.skip('needs /proc/self/fd (Linux) to see open files');
      return;
    }
    const store = createEmbeddedLogStore(dir, options, { onWarning: () => {} });
    const log = await store.open('s', 0);
    await appendMany(log, 20, 1_000);
    assert.ok(openFilesUnder(dir)!.length > 0, 'an active log holds its segment open');
    await log.trim(1_000_000);
    assert.equal(log.startOffset, log.nextOffset, 'every record expired');
    // Closing a handle is asynchronous; give it the turn of the event loop it needs.
    for (let i = 0; i < 50 && openFilesUnder(dir)!.length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(openFilesUnder(dir), [], 'nothing is held open for it');

    const appended = await log.append([{ partitionKey: 'k', data: Buffer.from('later') }], 2_000_000);
    assert.equal(appended.firstOffset, 20);
    assert.deepEqual(
      (await log.read(0, 10, 1 << 20)).records.map((r) => r.data.toString()),
      ['later'],
    );
    await store.close();
  });
});
