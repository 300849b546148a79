import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ServeConfig } from '../config.js';
import { kinesisOperations } from '../kinesis/operations/index.js';
import { useReadBudget } from '../kinesis/operations/get-records.js';
import { useAtRestCipher } from '../kinesis/at-rest.js';
import { Kinesis } from '../kinesis/service.js';
import { defaultKinesisSettings, quotaSettingsFromConfig } from '../kinesis/settings.js';
import { kinesisShapes } from '../kinesis/shapes.js';
import { UnknownOperationException } from '../protocol/errors.js';
import { SqliteCatalog } from '../storage/embedded/catalog.js';
import { SqliteTableStore } from '../storage/embedded/tables.js';
import { dynamoDbBinding } from '../dynamodb/binding.js';
import { DynamoDb } from '../dynamodb/service.js';
import { createEmbeddedLogStore } from '../storage/embedded/index.js';
import { CatalogLease, openJetStreamStorage } from '../storage/jetstream/index.js';
import { OffsetClock, systemClock, type Clock } from '../util/clock.js';
import { createAuth } from '../auth/index.js';
import { createPrometheusRegistry } from '../metrics/prometheus.js';
import { startS3Endpoint, type S3Endpoint } from './s3-endpoint.js';
import { Listener } from './listener.js';
import { loadMasterKey } from './master-key.js';
import { ResponseBudget } from './response-budget.js';
import { createRouter, type ServiceBinding } from './router.js';
import { loadTls } from './tls.js';

export interface RunningServer {
  host: string;
  port: number;
  /** The endpoint URL clients use. */
  endpoint: string;
  /** The embedded S3-compatible endpoint's URL; undefined with --s3-port off. */
  s3Endpoint?: string;
  /** Where Tributary writes objects: --s3-endpoint, or else its own S3 endpoint. */
  objectEndpoint?: string;
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
  const clock = hooks.clock ?? (config.clockOffsetMs > 0 ? offsetClock(config.clockOffsetMs) : systemClock);
  const logger = hooks.logger ?? pino({ level: config.logLevel });
  mkdirSync(config.dataDir, { recursive: true });
  // Both fail before anything is opened: a wrong master key must not meet the data.
  const masterKey = loadMasterKey(config);
  const tlsMaterial = loadTls(config);
  const jetStream =
    config.storage === 'jetstream' ? await openJetStreamStorage({ servers: config.nats, replicas: config.natsReplicas, prefix: config.natsPrefix }) : undefined;
  const catalog = jetStream?.catalog ?? new SqliteCatalog(path.join(config.dataDir, 'catalog.sqlite'));
  const logs = jetStream?.logs ?? createEmbeddedLogStore(path.join(config.dataDir, 'streams'), {
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
      metricsRetentionMinutes: Math.max(1, Math.round(config.metricsRetentionHours * 60)),
    },
    catalog,
    logs,
    clock,
  );
  useAtRestCipher(kinesis, masterKey.cipher);
  kinesis.onFault = (err, context) => logger.error({ err, ...context }, 'a shard write failed; its records were answered InternalFailure');
  const readBudget = config.maxReadBytes > 0 ? new ResponseBudget(config.maxReadBytes) : undefined;
  if (readBudget) useReadBudget(kinesis, readBudget);
  // Nodes sharing a JetStream cluster run the background work on whichever holds the lease.
  const lease = jetStream
    ? new CatalogLease(catalog, 'lease.background', `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`, {
        onChange: (held) => logger.info({ held }, held ? 'holding the background-work lease' : 'background-work lease lost'),
        onError: (err) => logger.warn({ err }, 'background-work lease renewal failed'),
      })
    : undefined;
  if (lease) {
    kinesis.lease = lease;
    await lease.start();
  }
  await kinesis.start();
  logger.info(
    { masterKeyFile: masterKey.file, generated: masterKey.generated },
    masterKey.generated ? 'generated a master key for encryption at rest' : 'master key for encryption at rest loaded',
  );
  if (masterKey.exposed) logger.warn({ masterKeyFile: masterKey.file }, 'the master key file can be read by other users: chmod 600 it');

  const auth = createAuth(config, logger);
  const kinesisBinding: ServiceBinding = {
    targetPrefix: 'Kinesis_20131202',
    shapes: kinesisShapes,
    handle(operation, input) {
      const op = kinesisOperations.get(operation);
      if (!op) throw new UnknownOperationException('');
      return op.handle(kinesis, input);
    },
    authorize: auth.kinesisAuthorizer(kinesis),
  };
  // GET /metrics is unauthenticated: with a credentials file it is served only when asked for.
  const serveMetrics = config.metricsEndpoint === 'on' || (config.metricsEndpoint === 'auto' && !config.credentials);
  const registry = serveMetrics ? createPrometheusRegistry(kinesis.metrics) : undefined;
  const debug = logger.isLevelEnabled('debug');
  const dynamodb = new DynamoDb(
    { region: config.region, accountId: config.accountId },
    jetStream?.tables ?? new SqliteTableStore(path.join(config.dataDir, 'tables.sqlite')),
    clock,
  );
  const router = createRouter([kinesisBinding, dynamoDbBinding(dynamodb, auth.dynamoDbAuthorizer)], {
    maxBodyBytes: config.maxBodyBytes,
    verifier: auth.verifier,
    now: () => clock.now(),
    metrics: registry && (async () => ({ contentType: registry.contentType, body: await registry.metrics() })),
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
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      maxConnections: config.maxConnections,
      maxConcurrentStreams: config.maxConcurrentStreams,
      maxUnsentBytes: config.maxUnsentBytes,
      onError: (err) => logger.warn({ err }, 'accepting a connection failed'),
      tls: tlsMaterial && { cert: tlsMaterial.cert, key: tlsMaterial.key },
    },
  );
  const address = await listener.listen();
  let s3: S3Endpoint | undefined;
  try {
    if (config.s3Port !== 'off') s3 = await startS3Endpoint(config, { clock, logger, auth: auth.s3, tls: tlsMaterial });
  } catch (err) {
    await listener.close(0);
    await kinesis.close();
    await dynamodb.close();
    await jetStream?.close();
    throw err;
  }
  if (tlsMaterial) {
    logger.info(
      { certificate: tlsMaterial.certFile, sha256: tlsMaterial.fingerprint, selfSigned: tlsMaterial.selfSigned },
      `TLS certificate SHA-256 fingerprint ${tlsMaterial.fingerprint}`,
    );
  }

  const ticker = setInterval(() => {
    kinesis.tick().catch((err) => logger.error({ err }, 'stream lifecycle tick failed'));
  }, 50);
  ticker.unref();
  const trimmer = setInterval(() => {
    kinesis.trimAll().catch((err) => logger.error({ err }, 'retention failed'));
  }, Math.max(100, config.retentionSweepMs));
  trimmer.unref();

  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    endpoint: `${tlsMaterial ? 'https' : 'http'}://${host}:${address.port}`,
    s3Endpoint: s3?.endpoint,
    objectEndpoint: config.s3Endpoint || s3?.endpoint,
    kinesis,
    close() {
      closing ??= (async () => {
        clearInterval(ticker);
        clearInterval(trimmer);
        // Event streams never finish on their own; end them so that connections can close.
        kinesis.fanOut.close();
        await lease?.stop();
        readBudget?.close();
        await listener.close(5_000);
        await s3?.close();
        await kinesis.close();
        await dynamodb.close();
        await jetStream?.close();
      })();
      return closing;
    },
  };
}

function offsetClock(ms: number): Clock {
  const clock = new OffsetClock();
  clock.advance(ms);
  return clock;
}
