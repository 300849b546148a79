/**
 * Crash anywhere: the server runs as a child process under a mixed load (puts, reads, resharding,
 * streams created and deleted, consumers registered and deregistered, retention trimming) and is
 * killed with SIGKILL at a random moment, round after round, on the same data directory. After
 * each restart every acknowledged write must be where it was acknowledged, nothing unsent may be
 * served, the catalog must be settled and consistent, and the files must be those of the streams
 * in the catalog, no bigger than their records explain.
 *
 * Each restart runs the server's clock ROUND_HOURS further ahead (--clock-offset-ms), so that
 * records age by that much per round and retention trims them: records of the last KEPT_ROUNDS
 * rounds are inside the 24-hour period, older ones are past it and must not be served.
 *
 * Some restarts are themselves killed a moment later, during recovery, and some kills land in the
 * middle of a clean shutdown (SIGTERM, then SIGKILL). Rounds take turns at the three fsync modes, with small segments (rolls and index files every
 * round) and short status delays (kills land inside CREATING, UPDATING and DELETING).
 *
 * TRIBUTARY_CRASH_SEED repeats a run's kill moments and choices (the seed is printed);
 * TRIBUTARY_KEEP_DATA=1 keeps the data directory for a look after a failure.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient, removeDir, tempDir, testEngine } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { spawnLoggingServer, type LoggingServer } from './child.js';
import { checkAfterRestart, inspectFiles, listShards, listStreams, readShard, type RoundFigures } from './check.js';
import { DURABLE, runLoad, type LoadContext } from './load.js';
import { Model, prng } from './model.js';

const ROUNDS = scale(20, 400);
const ROUND_HOURS = 7;
/** 3 rounds are 21 hours, inside the retention period; 4 are 28, past it. */
const KEPT_ROUNDS = 4;
/** The longest a round's load runs before the kill. */
const MAX_LOAD_MS = scale(1800, 4000);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A SIGKILL ends the process, not the machine: what was written is in the page cache and survives,
 * so every fsync mode must keep every acknowledged record here. Rounds take turns.
 */
const FSYNC_MODES = ['always', 'interval', 'never'];

function serverArgs(round: number): string[] {
  return [
    '--fsync', FSYNC_MODES[round % FSYNC_MODES.length]!,
    '--fsync-interval-ms', '50',
    // Small segments: rolls, index files and whole-segment trims happen every round.
    '--segment-bytes', String(64 * 1024),
    '--clock-offset-ms', String(round * ROUND_HOURS * 3_600_000),
    '--retention-sweep-ms', '300',
    '--create-stream-ms', '100',
    '--delete-stream-ms', '100',
    '--update-stream-ms', '100',
    '--consumer-status-ms', '100',
  ];
}

async function waitActive(client: KinesisClient, stream: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; ; ) {
    assert.ok(Date.now() < deadline, `${stream} became ACTIVE`);
    const { StreamDescriptionSummary: d } = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (d!.StreamStatus === 'ACTIVE') return;
    await pause(20);
  }
}

/** Waits (the retention sweep runs every 300 ms) until the files are those the catalog explains. */
async function checkFiles(dataDir: string, client: KinesisClient, figures: RoundFigures): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const names = new Set((await listStreams(client)).map((s) => s.StreamName!));
    const files = inspectFiles(dataDir, names, figures.recordBytes, figures.records);
    Object.assign(figures, { logBytes: files.logBytes, otherBytes: files.otherBytes, catalogBytes: files.catalogBytes, files: files.files });
    if (files.problems.length === 0) return;
    if (Date.now() > deadline) assert.fail(`files under ${dataDir}:\n${files.problems.join('\n')}`);
    await pause(100);
  }
}

/** How many file descriptors a process has open (Linux), or -1. */
function openFiles(pid: number | undefined): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** Starts the server, sets reads going on every stream, and kills it after `ms`. */
async function killDuringRecovery(dataDir: string, args: string[], ms: number): Promise<void> {
  const server = await spawnLoggingServer(dataDir, args);
  const client = kinesisClient(server.endpoint);
  const reads = (async () => {
    for (const s of await listStreams(client)) {
      for (const shard of await listShards(client, s.StreamName!)) void readShard(client, s.StreamName!, shard.ShardId!).catch(() => {});
    }
  })().catch(() => {});
  await pause(ms);
  server.child.kill('SIGKILL');
  await server.exited;
  await reads;
  client.destroy();
}

describe('crash anywhere', () => {
  const dirs: string[] = [];
  after(() => process.env.TRIBUTARY_KEEP_DATA === '1' || dirs.forEach(removeDir));

  it(`keeps every acknowledged write and a consistent catalog through ${ROUNDS} SIGKILLs under mixed load`, async (t) => {
    const seed = Number(process.env.TRIBUTARY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed ${seed} (TRIBUTARY_CRASH_SEED=${seed} repeats this run)`);
    const dataDir = tempDir('tributary-crash-');
    t.diagnostic(`data directory ${dataDir}`);
    const rng = prng(seed);
    dirs.push(dataDir);
    const model = new Model();
    const counts: Record<string, number> = {};
    const started = Date.now();
    let server: LoggingServer | undefined;
    let peakBytes = 0;
    /** Bytes on disk and files after each check, for the report. */
    const growth: string[] = [];
    let lastFigures: RoundFigures | undefined;
    try {
      for (let round = 0; round <= ROUNDS; round++) {
        if (round > 0 && rng() < 0.25) {
          // Killed again while it recovers: settling transitions, opening logs, the first trims.
          await killDuringRecovery(dataDir, serverArgs(round), rng() * 150);
          counts.killedInRecovery = (counts.killedInRecovery ?? 0) + 1;
        }
        server = await spawnLoggingServer(dataDir, serverArgs(round));
        const client = kinesisClient(server.endpoint);
        try {
          if (round === 0) {
            for (const d of DURABLE) await client.send(new CreateStreamCommand({ StreamName: d.name, ShardCount: d.shards }));
            for (const d of DURABLE) await waitActive(client, d.name);
          } else {
            const figures = await checkAfterRestart(client, model, round, KEPT_ROUNDS);
            if (testEngine === 'embedded') await checkFiles(dataDir, client, figures);
            model.forget(round - KEPT_ROUNDS);
            peakBytes = Math.max(peakBytes, figures.logBytes + figures.otherBytes + figures.catalogBytes);
            lastFigures = figures;
            const fds = openFiles(server.child.pid);
            growth.push(`${figures.logBytes + figures.otherBytes + figures.catalogBytes}/${figures.files}/${fds}`);
            // A log holds its active segment and a few warm closed ones open; expired shards hold none.
            assert.ok(fds <= 64 + 4 * figures.shards, `the server holds ${fds} files open for ${figures.shards} listed shards`);
          }
          if (round === ROUNDS) break;

          const ctx: LoadContext = { client, model, round, rng, stop: false, killing: false, faults: [], counts };
          const load = runLoad(ctx);
          await pause(100 + rng() * MAX_LOAD_MS);
          ctx.killing = true;
          if (rng() < 0.2) {
            // Killed in the middle of a clean shutdown (finishing requests, flushing, closing).
            server.child.kill('SIGTERM');
            await pause(rng() * 30);
            counts.killedInShutdown = (counts.killedInShutdown ?? 0) + 1;
          }
          server.child.kill('SIGKILL');
          await server.exited;
          ctx.stop = true;
          await load;
          const logged = server.errors().slice(0, 5).map((e) => JSON.stringify(e));
          assert.deepEqual(ctx.faults, [], `round ${round}: no fault while the server was up; it logged:\n${logged.join('\n')}`);
        } catch (err) {
          const logged = server.errors().slice(0, 3).map((e) => JSON.stringify(e).slice(0, 1500));
          if (logged.length > 0 && err instanceof Error) err.message += `\nround ${round}; the server logged:\n${logged.join('\n')}`;
          throw err;
        } finally {
          client.destroy();
        }
      }
      server!.child.kill('SIGTERM');
      assert.equal(await server!.exited, 0, 'a clean shutdown after the last round');
      server = undefined;
    } finally {
      if (server && server.child.exitCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(`${ROUNDS} kills in ${seconds} s; answered: ${JSON.stringify(counts)}`);
    t.diagnostic(`last check: ${JSON.stringify(lastFigures)}; peak bytes on disk ${peakBytes}`);
    t.diagnostic(`bytes on disk / files / server's open file descriptors after each check: ${growth.join(' ')}`);
  });
});
