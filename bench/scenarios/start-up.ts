import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSON_TYPE, RawClient } from '../raw-client.js';
import { tributaryCliPath } from '../servers.js';
import { nowMs, readProcMemory, sleep } from '../util.js';
import { round } from './common.js';
import { type Scenario, UnsupportedError } from './types.js';

/** Start-ups measured; the figures are their medians. */
const RUNS = 10;
/** How long the server is left alone after its first answer before its memory is read. */
const IDLE_MS = 1_000;
/** How long one start-up may take before the scenario gives up. */
const START_TIMEOUT_MS = 30_000;

/** The status of one ListStreams on 127.0.0.1:`port`. */
async function listStreams(port: number): Promise<number> {
  const client = new RawClient(`http://127.0.0.1:${port}`, 1);
  try {
    return (await client.post('ListStreams', Buffer.from('{}'), JSON_TYPE)).status;
  } finally {
    client.close();
  }
}

interface StartUp {
  /** Spawn to the first ListStreams answered 200, ms. */
  firstAnswerMs: number;
  /** Spawn to the port announcement, ms. */
  listeningMs: number;
  /** Resident set size IDLE_MS after the first answer, bytes. */
  idleRss: number | null;
}

/** Starts the built server once on a fresh data directory, measures it, and stops it. */
async function startOnce(cli: string): Promise<StartUp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-bench-start-'));
  const t0 = nowMs();
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--limits', 'off', '--log-level', 'warn'],
    { env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the server did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${code} before listening`));
      });
    });
    const listeningMs = nowMs() - t0;
    for (;;) {
      const status = await listStreams(port);
      if (status === 200) break;
      if (nowMs() - t0 > START_TIMEOUT_MS) throw new Error(`ListStreams answered ${status}`);
      await sleep(5);
    }
    const firstAnswerMs = nowMs() - t0;
    await sleep(IDLE_MS);
    const idleRss = child.pid === undefined ? null : (readProcMemory(child.pid)?.rss ?? null);
    return { firstAnswerMs, listeningMs, idleRss };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Start-up of the built Tributary (embedded engine, default settings): it is started afresh
 * RUNS times, one after the other, apart from the server being measured.
 */
export const startUpScenario: Scenario = {
  id: 'start-up',
  title: `Start-up of the built Tributary (spawn -> first ListStreams answer, idle RSS; median of ${RUNS})`,
  metrics: [
    { key: 'firstAnswerMs', label: 'spawn -> first ListStreams answer', unit: 'ms', better: 'lower', digits: 0 },
    { key: 'listeningMs', label: 'spawn -> listening', unit: 'ms', better: 'lower', digits: 0 },
    { key: 'idleRssMiB', label: `RSS ${IDLE_MS / 1000} s after the first answer`, unit: 'MiB', better: 'lower', digits: 1 },
  ],

  async run(ctx) {
    if (ctx.serverKind !== undefined && ctx.serverKind !== 'tributary' && ctx.serverKind !== 'endpoint') {
      throw new UnsupportedError(`measures Tributary's own start-up, not ${ctx.serverKind}'s`);
    }
    const cli = tributaryCliPath();
    if (!existsSync(cli)) throw new UnsupportedError(`the Tributary CLI is not built (${cli})`);
    const runs: StartUp[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await startOnce(cli));
      ctx.log(`start-up ${i + 1}/${RUNS}: ${runs[i]!.firstAnswerMs.toFixed(0)} ms`);
    }
    const rss = runs.map((r) => r.idleRss).filter((r): r is number => r !== null);
    const idleRss = median(rss);
    return {
      values: {
        firstAnswerMs: round(median(runs.map((r) => r.firstAnswerMs))!, 1),
        listeningMs: round(median(runs.map((r) => r.listeningMs))!, 1),
        idleRssMiB: idleRss === null ? null : round(idleRss / 2 ** 20, 1),
      },
      ...(idleRss === null ? { notes: { idleRssMiB: 'no /proc on this system' } } : {}),
      details: { runs, engine: 'embedded', args: 'serve --port 0 --s3-port 0 --data-dir <tmp> --limits off --log-level warn' },
    };
  },
};
