#!/usr/bin/env node
import { Command } from 'commander';
import pino from 'pino';
import { configDocs, defaultConfig, resolveConfig, type ServeConfig } from '../config.js';
import { startServer } from '../server/index.js';

/** The property commander stores a flag under: `--create-stream-ms <ms>` → `createStreamMs`. */
function optionAttribute(flag: string): string {
  return flag
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

const program = new Command();
program.name('tributary').description('A self-hosted streaming platform that speaks the AWS Kinesis APIs');

const serve = program
  .command('serve')
  .description('run the server (embedded storage in --data-dir)')
  .option('--config <file>', 'JSON file of settings (keys as in the README), below flags and environment');

for (const key of Object.keys(configDocs) as (keyof ServeConfig)[]) {
  const doc = configDocs[key];
  serve.option(doc.flag, `${doc.help} [env ${doc.env}] (default: ${JSON.stringify(defaultConfig[key])})`);
}

serve.action(async (opts: Record<string, unknown> & { config?: string }) => {
  let config: ServeConfig;
  try {
    const flags: Partial<Record<keyof ServeConfig, unknown>> = {};
    for (const key of Object.keys(configDocs) as (keyof ServeConfig)[]) {
      flags[key] = opts[optionAttribute(configDocs[key].flag)];
    }
    config = resolveConfig(flags, process.env, opts.config);
  } catch (err) {
    console.error(`tributary: ${(err as Error).message}`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel });
  const server = await startServer(config, { logger });
  logger.info(
    { endpoint: server.endpoint, s3Endpoint: server.s3Endpoint, dataDir: config.dataDir, fsync: config.fsync },
    `Tributary listening on ${server.endpoint}`,
  );
  // Tests and tools that start the server on port 0 read the port from this line.
  if (process.env.TRIBUTARY_ANNOUNCE === '1') {
    const s3 = server.s3Endpoint ? `TRIBUTARY_S3_LISTENING ${new URL(server.s3Endpoint).port}\n` : '';
    process.stdout.write(`${s3}TRIBUTARY_LISTENING ${server.port}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight and flushing');
    server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
});

program.parseAsync(process.argv).catch((err) => {
  console.error(err);
  process.exit(1);
});
