#!/usr/bin/env node
import { Command, Option } from 'commander';
import { startServer } from '../server/index.js';
import { createLogger } from '../server/logging.js';
import { packageVersion } from '../util/version.js';
import { checkDataDir, formatCheckReport, type CheckReport } from '../storage/embedded/check.js';
import {
  helpGroup,
  helpLine,
  resolveConfig,
  serveSettings,
  settingKeys,
  settingsTableMarkdown,
  SettingError,
  type RawSettings,
  type ServeConfig,
} from '../settings/index.js';
import { registerPut } from './commands/put.js';
import { registerShards } from './commands/shards.js';
import { registerStreams } from './commands/streams.js';
import { registerTail } from './commands/tail.js';

/** The property commander stores a flag under: `--create-stream-ms <ms>` → `createStreamMs`. */
function optionAttribute(flag: string): string {
  return flag
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

const program = new Command();
program
  .name('tributary')
  .description('A self-hosted streaming platform that speaks the AWS Kinesis APIs')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  // Usage errors (unknown option, missing argument, bad value) exit with 2; help and version with 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const serve = program
  .command('serve')
  .description('run the server (embedded storage in --data-dir)')
  .option('--config <file>', 'JSON file of settings (keys as in the README), below flags and environment')
  .option('--print-settings-table', "print the README's table of settings (Markdown) and exit");

for (const key of settingKeys) {
  serve.addOption(new Option(serveSettings[key].flag, helpLine(key)).helpGroup(helpGroup(key)));
}

serve.action(async (opts: Record<string, unknown> & { config?: string; printSettingsTable?: boolean }) => {
  if (opts.printSettingsTable) {
    process.stdout.write(settingsTableMarkdown());
    return;
  }
  let config: ServeConfig;
  try {
    const flags: RawSettings = {};
    for (const key of settingKeys) flags[key] = opts[optionAttribute(serveSettings[key].flag)];
    config = resolveConfig(flags, process.env, opts.config);
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    console.error(`tributary: ${err.message}`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  // The handlers are in place before anything starts: a signal that comes while the server starts
  // (or just after it says it listens) stops it once it is up, instead of killing it mid-way.
  let stopping: string | undefined;
  const shutDown = (running: NonNullable<typeof server>, signal: string) => {
    logger.info({ signal }, 'shutting down: finishing requests in flight and flushing');
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = signal;
    if (server) shutDown(server, signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    // A file that cannot be read, a port in use: one line, the stack only when debugging.
    logger.debug({ err }, 'start-up failed');
    console.error(`tributary: could not start: ${startFailure(err as NodeJS.ErrnoException)}`);
    process.exit(1);
  }
  logger.info(
    { endpoint: server.endpoint, s3Endpoint: server.s3Endpoint, dataDir: config.dataDir, fsync: config.fsync },
    `Tributary listening on ${server.endpoint}`,
  );
  // Tests and tools that start the server on port 0 read the port from this line.
  if (process.env.TRIBUTARY_ANNOUNCE === '1') {
    const s3 = server.s3Endpoint ? `TRIBUTARY_S3_LISTENING ${new URL(server.s3Endpoint).port}\n` : '';
    process.stdout.write(`${s3}TRIBUTARY_LISTENING ${server.port}\n`);
  }
  if (stopping) shutDown(server, stopping);
});

program
  .command('check')
  .description('verify a data directory offline (segments, indexes, catalog); exit 0 when clean, 1 when not')
  .argument('<data-dir>', 'the data directory of a server that is not running')
  .option('--repair', 'rewrite what can be saved: drop damaged batches, cut torn tails, rebuild indexes')
  .action(async (dataDir: string, opts: { repair?: boolean }) => {
    let report: CheckReport;
    try {
      report = await checkDataDir(dataDir, { repair: opts.repair === true });
    } catch (err) {
      console.error(`tributary check: ${(err as Error).message}`);
      process.exit(2);
    }
    const out = formatCheckReport(report, opts.repair === true);
    process.stdout.write(out);
    process.exit(report.problems.length === 0 ? 0 : 1);
  });

registerPut(program);
registerTail(program);
registerStreams(program);
registerShards(program);

program.parseAsync(process.argv).catch((err) => {
  console.error(err);
  process.exit(1);
});

/** A start-up failure in one line, saying what to do where the cause is the operator's to fix. */
function startFailure(err: NodeJS.ErrnoException & { address?: string; port?: number }): string {
  if (err.syscall === 'listen' && err.address !== undefined && err.port !== undefined) {
    const where = `${err.address.includes(':') ? `[${err.address}]` : err.address}:${err.port}`;
    if (err.code === 'EADDRINUSE') return `${where} is already in use by another process: stop it, or choose another port (--port, --s3-port)`;
    if (err.code === 'EACCES') return `not allowed to listen on ${where}: choose a port above 1023, or run with the right to bind it`;
    if (err.code === 'EADDRNOTAVAIL') return `${where} is not an address of this machine: choose another --host`;
  }
  return err.message;
}
