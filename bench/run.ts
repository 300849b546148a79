import { existsSync } from 'node:fs';
import { renderRun, type ServerRun } from './report.js';
import {
  type RunningServer,
  SERVER_KINDS,
  type ServerKind,
  answers,
  startServer,
  tributaryCliPath,
} from './servers.js';
import { describeClient } from './scenarios/types.js';
import { COMMON_HELP, parseCommon, progress, runSuite, warnIfBusy, writeJson } from './suite.js';
import { checkEndpoint } from './util.js';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:4567';

const HELP = `Usage: npm run bench -- [options]

Measures a Kinesis endpoint with the AWS SDK v3 client (--client sdk, the
default) or a lean HTTP/1.1 client (--client raw).

Without --endpoint or --server, ${DEFAULT_ENDPOINT} is used when something answers
there; otherwise Tributary is started from the build (dist/src/cli/main.js).

Options:
  --endpoint URL       measure a running server (loopback addresses only)
  --server KIND        start and measure one of: ${SERVER_KINDS.join(', ')}
  --engine ENGINE      storage engine of a Tributary the benchmark starts: embedded
                       (default) or jetstream (three nats-servers on loopback with
                       routes, JetStream R3, and one Tributary node on them)
${COMMON_HELP}`;

async function main(): Promise<number> {
  const { common, values, help } = parseCommon(process.argv.slice(2), {
    endpoint: { type: 'string' },
    server: { type: 'string' },
    engine: { type: 'string' },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const log = progress(common.quiet);
  warnIfBusy(log);
  const endpointArg = typeof values.endpoint === 'string' ? values.endpoint : null;
  const serverArg = typeof values.server === 'string' ? values.server : null;
  if (endpointArg && serverArg) throw new Error('use either --endpoint or --server, not both');
  const engineArg = typeof values.engine === 'string' ? values.engine : undefined;
  if (engineArg !== undefined && engineArg !== 'embedded' && engineArg !== 'jetstream') {
    throw new Error('--engine must be embedded or jetstream');
  }
  const engine = engineArg as 'embedded' | 'jetstream' | undefined;
  if (engine && (endpointArg || (serverArg && serverArg !== 'tributary'))) {
    throw new Error('--engine applies to a Tributary the benchmark starts');
  }
  if (serverArg && !SERVER_KINDS.includes(serverArg as ServerKind)) {
    throw new Error(`--server must be one of ${SERVER_KINDS.join(', ')}`);
  }

  let server: RunningServer | null = null;
  let endpoint: string;
  let label: string;
  let kind: string;

  if (endpointArg) {
    endpoint = checkEndpoint(endpointArg).origin;
    if (!(await answers(endpoint, 2000))) {
      process.stderr.write(`nothing answers at ${endpoint}\n`);
      return 2;
    }
    label = endpoint;
    kind = 'endpoint';
  } else if (serverArg) {
    log(`starting ${serverArg}`);
    server = await startServer(serverArg as ServerKind, { keepData: common.keepData, engine });
    endpoint = server.endpoint;
    label = server.label;
    kind = server.kind;
  } else if (!engine && (await answers(DEFAULT_ENDPOINT, 1000))) {
    endpoint = DEFAULT_ENDPOINT;
    label = DEFAULT_ENDPOINT;
    kind = 'endpoint';
  } else if (!existsSync(tributaryCliPath())) {
    process.stderr.write(
      [
        `Nothing answers at ${DEFAULT_ENDPOINT}, and the Tributary server cannot be started:`,
        `its CLI is not built (${tributaryCliPath()} does not exist).`,
        'Either build it (npm run build), start a server and pass --endpoint URL,',
        `or pick a server to start with --server ${SERVER_KINDS.join('|')}.`,
        '',
      ].join('\n'),
    );
    return 2;
  } else {
    log('nothing answers at the default endpoint; starting Tributary');
    server = await startServer('tributary', { keepData: common.keepData, engine });
    endpoint = server.endpoint;
    label = server.label;
    kind = server.kind;
  }

  const onSignal = (): void => {
    void (server?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(
      `measuring ${label} at ${endpoint}${server ? ` (pid ${server.pid})` : ''}` +
        ` with client ${describeClient(common.options.client)}`,
    );
    const results = await runSuite(endpoint, server?.pid ?? null, common, log, kind);
    const run: ServerRun & { config?: Record<string, unknown> } = {
      kind,
      label,
      endpoint,
      client: describeClient(common.options.client),
      results,
      ...(server ? { config: server.config } : {}),
    };
    process.stdout.write(`\n${renderRun(run)}\n`);
    if (common.json) {
      writeJson(common.json, common, [run]);
      log(`results written to ${common.json}`);
    }
    return results.some((r) => r.status === 'error') ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (server) {
      log(`stopping ${server.label}`);
      await server.stop();
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)} (see --help)\n`);
    process.exitCode = 2;
  },
);
