import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { isUnsupported } from './client.js';
import type { ServerRun } from './report.js';
import { fanOutLatencyScenario } from './scenarios/fan-out-latency.js';
import { fanOutThroughputScenario } from './scenarios/fan-out-throughput.js';
import { firehoseScenario } from './scenarios/firehose.js';
import { getRecordsScenario } from './scenarios/get-records.js';
import { putRecordScenario } from './scenarios/put-record.js';
import { putRecordsScenario } from './scenarios/put-records.js';
import { startUpScenario } from './scenarios/start-up.js';
import type { ClientKind, Scenario, ScenarioContext, ScenarioOptions, ScenarioResult } from './scenarios/types.js';
import { CLIENT_KINDS, UnsupportedError, describeClient } from './scenarios/types.js';
import { visibilityScenario } from './scenarios/visibility.js';
import { errorMessage, nowMs } from './util.js';

export const SCENARIOS: readonly Scenario[] = [
  putRecordsScenario,
  putRecordScenario,
  getRecordsScenario,
  visibilityScenario,
  fanOutLatencyScenario,
  fanOutThroughputScenario,
  firehoseScenario,
  startUpScenario,
];

export interface CommonArgs {
  options: ScenarioOptions;
  scenarios: Scenario[];
  json: string | null;
  keepData: boolean;
  quiet: boolean;
}

export const COMMON_HELP = `  --seconds N          measured window of the throughput scenarios (default 10)
  --warmup N           untimed warm-up before each window, seconds (default min(2, seconds/5))
  --records N          records loaded and read back by get-records (default 100000)
  --load-seconds N     time bound for loading those records (default 180); a server
                       that stores fewer in time is read back with what it stored
  --visible-count N    puts made by put-to-visible (default 1000)
  --interval MS        milliseconds between those puts (default 5)
  --record-size BYTES  data bytes per record (default 1024)
  --client KIND        client making the measured calls: sdk (AWS SDK v3, the
                       default) or raw (lean HTTP/1.1: JSON writes, CBOR GetRecords)
  --scenarios LIST     comma-separated subset of: ${SCENARIOS.map((s) => s.id).join(', ')}
  --json FILE          also write the results as JSON
  --keep-data          keep the data directories of servers the benchmark started
  --quiet              no progress lines on stderr
  --help               this text`;

export const COMMON_OPTIONS = {
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  records: { type: 'string' },
  'load-seconds': { type: 'string' },
  'visible-count': { type: 'string' },
  interval: { type: 'string' },
  'record-size': { type: 'string' },
  client: { type: 'string' },
  scenarios: { type: 'string' },
  json: { type: 'string' },
  'keep-data': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function positive(name: string, raw: string | undefined, fallback: number, integer = false): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  }
  return v;
}

/** Parses the arguments shared by both entry points; `extra` adds entry-specific ones. */
export function parseCommon<E extends Record<string, { type: 'string' | 'boolean' }>>(
  argv: string[],
  extra: E,
) {
  const { values } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, strict: true });
  const v = values as Record<string, string | boolean | undefined>;
  const seconds = positive('seconds', v.seconds as string | undefined, 10);
  const warmupRaw = v.warmup as string | undefined;
  const warmup = warmupRaw === undefined ? Math.min(2, seconds / 5) : Number(warmupRaw);
  if (!Number.isFinite(warmup) || warmup < 0) throw new Error(`--warmup must be >= 0, got ${warmupRaw}`);
  const clientRaw = (v.client as string | undefined) ?? 'sdk';
  if (!CLIENT_KINDS.includes(clientRaw as ClientKind)) {
    throw new Error(`--client must be one of ${CLIENT_KINDS.join(', ')}, got ${clientRaw}`);
  }
  const options: ScenarioOptions = {
    seconds,
    warmupSeconds: warmup,
    recordSize: positive('record-size', v['record-size'] as string | undefined, 1024, true),
    getRecordsCount: positive('records', v.records as string | undefined, 100_000, true),
    loadSeconds: positive('load-seconds', v['load-seconds'] as string | undefined, 180),
    latencyRecords: positive('visible-count', v['visible-count'] as string | undefined, 1000, true),
    latencyIntervalMs: positive('interval', v.interval as string | undefined, 5),
    client: clientRaw as ClientKind,
  };
  if (options.recordSize > 1024 * 1024) throw new Error('--record-size must be at most 1 MiB');
  let scenarios = [...SCENARIOS];
  if (typeof v.scenarios === 'string') {
    const wanted = v.scenarios.split(',').map((s) => s.trim()).filter(Boolean);
    for (const w of wanted) {
      if (!SCENARIOS.some((s) => s.id === w)) throw new Error(`unknown scenario ${w}`);
    }
    scenarios = SCENARIOS.filter((s) => wanted.includes(s.id));
  }
  const common: CommonArgs = {
    options,
    scenarios,
    json: typeof v.json === 'string' ? v.json : null,
    keepData: v['keep-data'] === true,
    quiet: v.quiet === true,
  };
  return { common, values: v, help: v.help === true };
}

export function progress(quiet: boolean): (message: string) => void {
  const t0 = nowMs();
  return (message: string) => {
    if (!quiet) process.stderr.write(`[${((nowMs() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
  };
}

/** Runs one scenario; a failure becomes a result with status error or n/a. */
export async function runScenario(s: Scenario, ctx: ScenarioContext): Promise<ScenarioResult> {
  const t0 = nowMs();
  const base = { id: s.id, title: s.title };
  try {
    const out = await s.run(ctx);
    return {
      ...base,
      status: 'ok',
      metrics: s.metrics.map((m) => ({
        ...m,
        value: out.values[m.key] ?? null,
        ...(out.notes?.[m.key] ? { note: out.notes[m.key] } : {}),
      })),
      details: out.details,
      elapsedSeconds: (nowMs() - t0) / 1000,
    };
  } catch (err) {
    const unsupported = err instanceof UnsupportedError || isUnsupported(err);
    const reason = err instanceof UnsupportedError ? err.message : errorMessage(err);
    ctx.log(`${s.id}: ${unsupported ? 'not supported' : 'failed'}: ${reason}`);
    return {
      ...base,
      status: unsupported ? 'n/a' : 'error',
      reason: reason.split('\n')[0],
      metrics: s.metrics.map((m) => ({ ...m, value: null })),
      details: {},
      elapsedSeconds: (nowMs() - t0) / 1000,
    };
  }
}

export async function runSuite(
  endpoint: string,
  serverPid: number | null,
  args: CommonArgs,
  log: (m: string) => void,
  serverKind?: string,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const s of args.scenarios) {
    log(`${s.id}: start`);
    const r = await runScenario(s, { endpoint, serverPid, serverKind, options: args.options, log });
    log(`${s.id}: ${r.status} in ${r.elapsedSeconds.toFixed(1)} s`);
    results.push(r);
  }
  return results;
}

/** Says so when other work is keeping the machine busy, since it skews every figure. */
export function warnIfBusy(log: (m: string) => void): void {
  const [one] = loadavg();
  const cores = cpus().length;
  if (one > 0.5 * cores) {
    log(`note: load average ${one.toFixed(2)} on ${cores} cores before starting; other work will skew the figures`);
  }
}

export function machineInfo(): Record<string, unknown> {
  const c = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const startedAt = new Date().toISOString();
const machineAtStart = machineInfo();

export function writeJson(
  file: string,
  args: CommonArgs,
  runs: Array<ServerRun & { config?: Record<string, unknown> }>,
  extra: Record<string, unknown> = {},
): void {
  const doc = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineAtStart,
    client: describeClient(args.options.client),
    options: args.options,
    ...extra,
    runs,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
