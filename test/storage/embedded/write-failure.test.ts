/**
 * A write that fails part way (here: EFBIG from a file size limit set with `ulimit -f`, which
 * behaves like a full disk: a short write, then an error) must reject the appends it carried,
 * cut the segment back, and leave the log usable. The scenario runs in a child process that has
 * the limit; this file is that child when TRIBUTARY_WRITE_FAILURE_DIR is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createEmbeddedLogStore } from '../../../src/storage/embedded/index.js';
import { batchSize, logOptions, readAll, rec, recordingHooks, withTempDir } from './helpers.js';

const CHILD_ENV = 'TRIBUTARY_WRITE_FAILURE_DIR';

async function scenario(dir: string): Promise<unknown> {
  const options = logOptions({ fsync: 'always', segmentBytes: 64 << 20 });
  const { hooks, warnings } = recordingHooks();
  const log = await createEmbeddedLogStore(dir, options, hooks).open('s', 0);
  const path = join(dir, 's', '0', '00000000000000000000.log');
  for (let i = 0; i < 10; i++) await log.append([rec('k', `small ${i}`)], i);
  const sizeBefore = (await stat(path)).size;

  // Far larger than the file size limit; a small append made at the same time shares its write.
  const big = log.append([rec('k', Buffer.alloc(4 << 20, 1))], 10);
  const sharing = log.append([rec('k', 'shares the failed write')], 10);
  const outcomes = await Promise.allSettled([big, sharing]);
  const sizeAfterFailure = (await stat(path)).size;

  const next = await log.append([rec('k', 'after the failure')], 11);
  const records = (await readAll(log)).map((r) => [r.offset, r.data.toString()]);
  await log.close();

  const reopened = await createEmbeddedLogStore(dir, options, hooks).open('s', 0);
  const reread = (await readAll(reopened)).map((r) => [r.offset, r.data.toString()]);
  const nextOffset = reopened.nextOffset;
  await reopened.close();
  return {
    outcomes: outcomes.map((o) => (o.status === 'rejected' ? { rejected: (o.reason as NodeJS.ErrnoException).code } : o)),
    sizeBefore,
    sizeAfterFailure,
    next,
    records,
    reread,
    nextOffset,
    warnings: warnings.map((w) => w.code),
  };
}

if (process.env[CHILD_ENV]) {
  process.stdout.write(JSON.stringify(await scenario(process.env[CHILD_ENV])) + '\n');
} else {
  test('a failed write rejects its appends, is cut back, and the log goes on', () =>
    withTempDir(async (dir) => {
      const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_ENV]: dir };
      delete env.NODE_TEST_CONTEXT;
      const { stdout } = await promisify(execFile)(
        '/bin/sh',
        ['-c', 'ulimit -f 256 && exec "$0" "$1"', process.execPath, fileURLToPath(import.meta.url)],
        { env },
      );
      const result = JSON.parse(stdout);
      const small = Array.from({ length: 10 }, (_, i) => [i, `small ${i}`]);
      const expected = [...small, [10, 'after the failure']];
      assert.deepEqual(result, {
        outcomes: [{ rejected: 'EFBIG' }, { rejected: 'EFBIG' }],
        sizeBefore: small.reduce((n, [, d]) => n + batchSize([rec('k', d as string)]), 0),
        sizeAfterFailure: result.sizeBefore,
        next: { firstOffset: 10, timestamp: 11 },
        records: expected,
        reread: expected,
        nextOffset: 11,
        warnings: [],
      });
    }));
}
