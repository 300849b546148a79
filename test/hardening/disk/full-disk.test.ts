/**
 * A full disk, and a write error that is not ENOSPC, under a server running as a child process:
 * writes fail with InternalFailureException (HTTP 500, what the service answers for any fault of
 * its own), the server neither crashes nor hangs, reads of what is stored keep working, writes
 * resume once the fault is gone, and after a SIGKILL and a restart every acknowledged record is
 * there and nothing else.
 *
 * The full disk is a small tmpfs (mounting needs root: outside CI the test skips without it, under
 * CI=true it fails). The other write error is EFBIG from a file size limit (`ulimit -f`): a
 * read-only remount, the obvious candidate, is refused while the server holds its segment files
 * open for writing, and EIO needs a faulty block device.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, statfsSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { DescribeStreamSummaryCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient, removeDir, tempDir } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { listStreams } from '../crash/check.js';
import { spawnLoggingServer, type LoggingServer } from '../crash/child.js';
import { assertStorageFailure, createStream, Ledger, mountTmpfs, mountUnavailable, unmount } from './support.js';

const MiB = 1024 * 1024;

async function stop(server: LoggingServer | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  await server.exited;
}

/** Puts until one fails (at most `maxBytes`); returns the failures of that and `extra` more attempts. */
async function putUntilFailure(
  client: ReturnType<typeof kinesisClient>,
  ledger: Ledger,
  recordBytes: number,
  maxBytes: number,
  extra: number,
): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (let written = 0; written < maxBytes && failures.length <= extra; written += 10 * recordBytes) {
    try {
      await ledger.put(client, 10, recordBytes);
    } catch (err) {
      failures.push(err);
    }
  }
  return failures;
}

/** Appends to `file` until the file system has no page left. */
function fillUp(file: string): void {
  const fd = openSync(file, 'a');
  try {
    for (const chunk of [Buffer.alloc(64 * 1024, 1), Buffer.alloc(4096, 1), Buffer.alloc(1, 1)]) {
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Adds the server's first logged errors to a failure's message. */
function withServerLog(err: unknown, server: LoggingServer | undefined): unknown {
  const logged = server?.errors().slice(-4).map((e) => JSON.stringify(e).slice(0, 1200)) ?? [];
  if (logged.length > 0 && err instanceof Error) err.message += `\nthe server logged:\n${logged.join('\n')}`;
  return err;
}

function loggedCode(server: LoggingServer, code: string): boolean {
  return server.errors().some((e) => JSON.stringify(e).includes(code));
}

describe('disk faults', () => {
  const cleanups: (() => void)[] = [];
  after(() => cleanups.reverse().forEach((f) => f()));

  /**
   * A fresh tmpfs of `bytes` (its base directory removed after the suite), or undefined when this
   * machine cannot mount one: the test is then skipped, except under CI, where it fails.
   */
  function tmpfsOrSkip(t: TestContext, prefix: string, bytes: number): string | undefined {
    const base = tempDir(prefix);
    cleanups.push(() => removeDir(base));
    const unavailable = mountUnavailable(path.join(base, 'probe'));
    if (unavailable) {
      assert.notEqual(process.env.CI, 'true', `CI must be able to mount a tmpfs: ${unavailable}`);
      t.skip(unavailable);
      return undefined;
    }
    const mount = path.join(base, 'mnt');
    mountTmpfs(mount, bytes);
    return mount;
  }

  it('a full disk fails writes with InternalFailure, keeps reads, and resumes writes once space returns', async (t) => {
    const mount = tmpfsOrSkip(t, 'tributary-full-', scale(24, 128) * MiB);
    if (mount === undefined) return;
    const dataDir = path.join(mount, 'data');
    const filler = path.join(mount, 'filler');
    const args = ['--fsync', 'always', '--segment-bytes', String(MiB), '--create-stream-ms', '0'];
    let server: LoggingServer | undefined;
    try {
      server = await spawnLoggingServer(dataDir, args);
      let client = kinesisClient(server.endpoint);
      await createStream(client, 'full', 2);
      const ledger = new Ledger('full');
      for (let i = 0; i < 10; i++) await ledger.put(client, 20, 1000);

      // Leave about 1 MiB free, then write until the disk is full.
      const { bavail, bsize } = statfsSync(mount);
      writeFileSync(filler, Buffer.alloc(bavail * bsize - MiB, 1));
      const failures = await putUntilFailure(client, ledger, 8 * 1024, 8 * MiB, 5);
      assert.ok(failures.length > 0, 'writes failed once the disk was full');
      failures.forEach((err, i) => assertStorageFailure(err, `write ${i} on a full disk`));
      await assert.rejects(
        client.send(new PutRecordCommand({ StreamName: 'full', PartitionKey: 'k', Data: Buffer.alloc(64 * 1024, 2) })),
        (err) => (assertStorageFailure(err, 'PutRecord on a full disk'), true),
      );
      assert.equal(server.child.exitCode, null, 'the server is still running');
      assert.ok(loggedCode(server, 'ENOSPC'), 'the server logged the ENOSPC');
      const { StreamDescriptionSummary: d } = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'full' }));
      assert.equal(d!.StreamStatus, 'ACTIVE');
      await ledger.verify(client, 'reads on a full disk');
      // A catalog change on the full disk: it fails or it happens, and what the server shows of it lasts.
      fillUp(filler);
      let created = true;
      try {
        await createStream(client, 'born-full', 1);
      } catch (err) {
        created = false;
        assertStorageFailure(err, 'CreateStream on a full disk');
      }
      const shownWhileFull = (await listStreams(client)).map((s) => s.StreamName);

      // Killed and started again on the still-full disk: it starts, serves what it has, fails writes.
      client.destroy();
      await stop(server, 'SIGKILL');
      server = await spawnLoggingServer(dataDir, args);
      client = kinesisClient(server.endpoint);
      await ledger.verify(client, 'after a restart on the full disk');
      await assert.rejects(ledger.put(client, 10, 8 * 1024), (err) => (assertStorageFailure(err, 'a write after the restart on the full disk'), true));

      unlinkSync(filler);
      for (let i = 0; i < 10; i++) await ledger.put(client, 10, 8 * 1024);
      await ledger.verify(client, 'after space returned');
      t.diagnostic(
        `${ledger.acked.size} records acknowledged, ${failures.length} writes failed on the full disk; ` +
          `CreateStream there ${created ? 'succeeded' : 'failed'}, listed: ${shownWhileFull.join(', ')}`,
      );

      client.destroy();
      await stop(server, 'SIGKILL');
      server = await spawnLoggingServer(dataDir, args);
      client = kinesisClient(server.endpoint);
      await ledger.verify(client, 'after a restart');
      const shownAfterRestart = await listStreams(client);
      assert.deepEqual(
        shownAfterRestart.map((s) => s.StreamName),
        shownWhileFull,
        `the catalog kept the streams it showed on the full disk (CreateStream ${created ? 'succeeded' : 'failed'})`,
      );
      for (const s of shownAfterRestart) assert.equal(s.StreamStatus, 'ACTIVE', `${s.StreamName} settled`);
      assert.ok(!server.lines.some((l) => /CORRUPT_BATCH|TRUNCATED_TAIL/.test(l)), `no damage found at restart:\n${server.lines.join('\n')}`);
      await ledger.put(client, 10, 1000);
      await ledger.verify(client, 'writes after the restart');
      client.destroy();
      await stop(server, 'SIGTERM');
      assert.equal(await server.exited, 0);
    } catch (err) {
      throw withServerLog(err, server);
    } finally {
      await stop(server, 'SIGKILL');
      unmount(mount);
    }
  });

  it('retention frees space on a full disk: expired segments go even when the trim point cannot be written', async (t) => {
    const mount = tmpfsOrSkip(t, 'tributary-full-aging-', scale(16, 64) * MiB);
    if (mount === undefined) return;
    const dataDir = path.join(mount, 'data');
    const args = ['--fsync', 'always', '--segment-bytes', String(256 * 1024), '--create-stream-ms', '0'];
    // A day and an hour later: past the default retention of 24 hours.
    const later = [...args, '--clock-offset-ms', String(25 * 3_600_000)];
    let server: LoggingServer | undefined;
    try {
      server = await spawnLoggingServer(dataDir, args);
      let client = kinesisClient(server.endpoint);
      await createStream(client, 'aging', 1);
      const old = new Ledger('aging', 'old');
      for (let i = 0; i < scale(30, 300); i++) await old.put(client, 10, 10 * 1024);
      const { bavail, bsize } = statfsSync(mount);
      writeFileSync(path.join(mount, 'filler'), Buffer.alloc(bavail * bsize - 256 * 1024, 1));
      const failures = await putUntilFailure(client, old, 10 * 1024, 4 * MiB, 0);
      assert.ok(failures.length > 0, 'the disk is full');
      client.destroy();
      await stop(server, 'SIGKILL');
      // Not a page left, not even for a trim point.
      fillUp(path.join(mount, 'filler'));

      server = await spawnLoggingServer(dataDir, later);
      client = kinesisClient(server.endpoint);
      const fresh = new Ledger('aging', 'fresh');
      // Every old record is past retention: none is served, and their segments are deleted.
      assert.equal(await fresh.verify(client, 'reads after the records expired on a full disk'), 0);
      assert.ok(
        server.lines.some((l) => l.includes('"storage":"write-failed"') && l.includes('trim.json')),
        `the trim point could not be written, and that was reported:\n${server.lines.join('\n')}`,
      );
      for (let i = 0; i < 10; i++) await fresh.put(client, 10, 10 * 1024);
      assert.equal(await fresh.verify(client, 'writes in the space retention freed'), 100);
      client.destroy();
      await stop(server, 'SIGKILL');

      server = await spawnLoggingServer(dataDir, later);
      client = kinesisClient(server.endpoint);
      assert.equal(await fresh.verify(client, 'after a restart'), 100);
      client.destroy();
      await stop(server, 'SIGTERM');
      assert.equal(await server.exited, 0);
    } catch (err) {
      throw withServerLog(err, server);
    } finally {
      await stop(server, 'SIGKILL');
      unmount(mount);
    }
  });

  it('a write error other than ENOSPC (EFBIG from a file size limit) is handled the same way', async (t) => {
    const dataDir = tempDir('tributary-efbig-');
    cleanups.push(() => removeDir(dataDir));
    // Segments large enough that the active one meets the file size limit before it rolls.
    const args = ['--fsync', 'always', '--segment-bytes', String(64 * MiB), '--create-stream-ms', '0'];
    let server: LoggingServer | undefined;
    try {
      server = await spawnLoggingServer(dataDir, args, `ulimit -f ${scale(16_384, 65_536)}`);
      let client = kinesisClient(server.endpoint);
      await createStream(client, 'limited', 1);
      const ledger = new Ledger('limited');
      const failures = await putUntilFailure(client, ledger, 50 * 1024, scale(64, 256) * MiB, 3);
      assert.ok(failures.length > 0, 'writes failed at the file size limit');
      failures.forEach((err, i) => assertStorageFailure(err, `write ${i} past the file size limit`));
      assert.equal(server.child.exitCode, null, 'the server is still running');
      assert.ok(loggedCode(server, 'EFBIG'), 'the server logged the EFBIG');
      await ledger.verify(client, 'reads at the file size limit');
      // A small write may still fit below the limit; either way nothing half-written is served.
      try {
        await ledger.put(client, 1, 100);
      } catch (err) {
        assertStorageFailure(err, 'a small write at the limit');
      }
      await ledger.verify(client, 'after a small write');
      t.diagnostic(`${ledger.acked.size} records acknowledged before the limit, ${failures.length} writes failed`);

      client.destroy();
      await stop(server, 'SIGKILL');
      server = await spawnLoggingServer(dataDir, args);
      client = kinesisClient(server.endpoint);
      await ledger.verify(client, 'after a restart without the limit');
      assert.ok(!server.lines.some((l) => /CORRUPT_BATCH|TRUNCATED_TAIL/.test(l)), `no damage found at restart:\n${server.lines.join('\n')}`);
      for (let i = 0; i < 5; i++) await ledger.put(client, 10, 50 * 1024);
      await ledger.verify(client, 'writes after the restart');
      client.destroy();
      await stop(server, 'SIGTERM');
      assert.equal(await server.exited, 0);
    } catch (err) {
      throw withServerLog(err, server);
    } finally {
      await stop(server, 'SIGKILL');
    }
  });
});
