import { renderComparison, renderRun, type ServerRun } from './report.js';
import { type RunningServer, SERVER_KINDS, type ServerKind, startServer } from './servers.js';
import { describeClient } from './scenarios/types.js';
import { COMMON_HELP, parseCommon, progress, runSuite, warnIfBusy, writeJson } from './suite.js';
import { errorMessage } from './util.js';

const HELP = `Usage: npm run bench:peers -- [options]

Starts each server in turn on a free loopback port with its data on disk,
runs the same scenarios against it, stops it, and prints one table with every
figure per server and each peer's ratio to Tributary.

Options:
  --servers LIST       comma-separated subset of: ${SERVER_KINDS.join(', ')} (default: all)
${COMMON_HELP}`;

async function main(): Promise<number> {
  const { common, values, help } = parseCommon(process.argv.slice(2), { servers: { type: 'string' } });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const log = progress(common.quiet);
  warnIfBusy(log);
  let kinds: ServerKind[] = [...SERVER_KINDS];
  if (typeof values.servers === 'string') {
    const wanted = values.servers.split(',').map((s) => s.trim()).filter(Boolean);
    for (const w of wanted) {
      if (!SERVER_KINDS.includes(w as ServerKind)) throw new Error(`unknown server ${w}`);
    }
    kinds = SERVER_KINDS.filter((k) => wanted.includes(k));
  }

  const client = describeClient(common.options.client);
  let current: RunningServer | null = null;
  const onSignal = (): void => {
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runs: Array<ServerRun & { config?: Record<string, unknown> }> = [];
  for (const kind of kinds) {
    log(`starting ${kind}`);
    try {
      current = await startServer(kind, { keepData: common.keepData });
    } catch (err) {
      log(`${kind}: could not start: ${errorMessage(err)}`);
      runs.push({ kind, label: kind, endpoint: 'n/a', client, error: errorMessage(err), results: [] });
      continue;
    }
    try {
      log(`measuring ${current.label} at ${current.endpoint} (pid ${current.pid}) with client ${client}`);
      const results = await runSuite(current.endpoint, current.pid, common, log, kind);
      runs.push({ kind, label: current.label, endpoint: current.endpoint, client, config: current.config, results });
    } finally {
      log(`stopping ${current.label}`);
      await current.stop();
      current = null;
    }
  }
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);

  if (!common.quiet) {
    for (const run of runs) process.stderr.write(`\n${renderRun(run)}\n`);
  }
  process.stdout.write(`\n${renderComparison(runs, 'tributary')}\n`);
  if (common.json) {
    writeJson(common.json, common, runs, { baseline: 'tributary' });
    log(`results written to ${common.json}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench:peers: ${err instanceof Error ? err.message : String(err)} (see --help)\n`);
    process.exitCode = 2;
  },
);
