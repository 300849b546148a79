import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { ServeConfig } from '../config.js';
import { kinesisOperations } from '../kinesis/operations/index.js';
import { Kinesis } from '../kinesis/service.js';
import { defaultKinesisSettings, quotaSettingsFromConfig } from '../kinesis/settings.js';
import { kinesisShapes } from '../kinesis/shapes.js';
import { UnknownOperationException } from '../protocol/errors.js';
import { SqliteCatalog } from '../storage/embedded/catalog.js';
import { createEmbeddedLogStore } from '../storage/embedded/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Listener } from './listener.js';
import { createRouter, type ServiceBinding } from './router.js';

export interface RunningServer {
  host: string;
  port: number;
  /** The endpoint URL clients use. */
  endpoint: string;
  kinesis: Kinesis;
  /** Stops accepting, finishes requests in flight, flushes and closes storage. */
  close(): Promise<void>;
}

export interface ServerHooks {
  clock?: Clock;
  logger?: pino.Logger;
}

/** Starts Tributary with the embedded storage engine. */
export async function startServer(config: ServeConfig, hooks: ServerHooks = {}): Promise<RunningServer> {
  const clock = hooks.clock ?? systemClock;
  const logger = hooks.logger ?? pino({ level: config.logLevel });
  mkdirSync(config.dataDir, { recursive: true });
  const catalog = new SqliteCatalog(path.join(config.dataDir, 'catalog.sqlite'));
  const logs = createEmbeddedLogStore(path.join(config.dataDir, 'streams'), {
    fsync: config.fsync,
    fsyncIntervalMs: config.fsyncIntervalMs,
    segmentBytes: config.segmentBytes,
    segmentMaxAgeMs: 3_600_000,
  });
  const kinesis = new Kinesis(
    {
      ...defaultKinesisSettings,
      region: config.region,
      accountId: config.accountId,
      createStreamDelayMs: config.createStreamDelayMs,
      deleteStreamDelayMs: config.deleteStreamDelayMs,
      shardLimit: config.shardLimit,
      ...quotaSettingsFromConfig(config),
      consumerDelayMs: config.consumerDelayMs,
      subscriptionHeartbeatMs: config.subscriptionHeartbeatMs,
      subscriptionLifetimeMs: config.subscriptionLifetimeMs,
      fanOutReadBytesPerSecond: config.fanOutReadBytesPerSecond,
    },
    catalog,
    logs,
    clock,
  );
  await kinesis.start();

  const kinesisBinding: ServiceBinding = {
    targetPrefix: 'Kinesis_20131202',
    shapes: kinesisShapes,
    handle(operation, input) {
      const op = kinesisOperations.get(operation);
      if (!op) throw new UnknownOperationException('');
      return op.handle(kinesis, input);
    },
  };
  const debug = logger.isLevelEnabled('debug');
  const router = createRouter([kinesisBinding], {
    maxBodyBytes: config.maxBodyBytes,
    log: (event) => {
      if ('error' in event) logger.error(event, 'request failed');
      else if (debug) logger.debug(event, 'request');
    },
  });
  const listener = new Listener(
    (req, res) => {
      router(req, res).catch((err) => logger.error({ err }, 'request handler failed'));
    },
    {
      host: config.host,
      port: config.port,
      keepAliveTimeoutMs: 65_000,
      requestTimeoutMs: 120_000,
      headersTimeoutMs: 60_000,
      maxHeaderBytes: 64 * 1024,
    },
  );
  const address = await listener.listen();

  const ticker = setInterval(() => {
    kinesis.tick().catch((err) => logger.error({ err }, 'stream lifecycle tick failed'));
  }, 50);
  ticker.unref();
  const trimmer = setInterval(() => {
    kinesis.trimAll().catch((err) => logger.error({ err }, 'retention failed'));
  }, 60_000);
  trimmer.unref();

  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    endpoint: `http://${host}:${address.port}`,
    kinesis,
    close() {
      closing ??= (async () => {
        clearInterval(ticker);
        clearInterval(trimmer);
        // Event streams never finish on their own; end them so that connections can close.
        kinesis.fanOut.close();
        await listener.close(5_000);
        await kinesis.close();
      })();
      return closing;
    },
  };
}
