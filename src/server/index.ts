import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Registry } from 'prom-client';
import { kinesisOperations } from '../kinesis/operations/index.js';
import { kinesisAuthorizer } from '../kinesis/authorization.js';
import { Kinesis } from '../kinesis/service.js';
import { shardIdOf } from '../kinesis/shard.js';
import type { OperationContext } from '../kinesis/operations/context.js';
import { SqliteCatalog } from '../storage/embedded/catalog.js';
import { SqliteTableStore } from '../storage/embedded/tables.js';
import { dynamoDbErrorType } from '../dynamodb/errors.js';
import { DYNAMODB_JSON_CONTENT_TYPE, DYNAMODB_TARGET_PREFIX, dynamoDbOperations } from '../dynamodb/operations/index.js';
import { DynamoDb } from '../dynamodb/service.js';
import { FIREHOSE_TARGET_PREFIX, firehoseOperations } from '../firehose/operations/index.js';
import { createJqRunner } from '../delivery/jq.js';
import type { DeliveryDeps } from '../firehose/delivery.js';
import type { DeliveryStarter } from '../firehose/service.js';
import { loadLambdaFunctions } from '../firehose/lambda-functions.js';
import { loadSchemaCatalog, SchemaCatalog } from '../delivery/formats/schema-catalog.js';
import { parseRedshiftHosts } from '../delivery/destinations/redshift-copy.js';
import { Firehose } from '../firehose/service.js';
import { ObjectWriter, objectWriterOptions } from '../s3/writer.js';
import { createEmbeddedLogStore } from '../storage/embedded/index.js';
import { DataDirLock } from '../storage/embedded/dir-lock.js';
import type { CatalogLease } from '../storage/jetstream/index.js';
import { OffsetClock, systemClock, type Clock } from '../util/clock.js';
import { createAuth } from '../auth/index.js';
import { metricsStoreFor } from '../metrics/store.js';
import { FirehoseMetrics } from '../metrics/firehose.js';
import { StorageFaultCounts } from '../metrics/storage-faults.js';
import {
  authSettings,
  dynamoDbSettings,
  embeddedLogSettings,
  firehoseSettings,
  jetStreamSettings,
  lambdaFunctionSettings,
  kinesisSettings,
  listenerSettings,
  masterKeySettings,
  servesMetricsEndpoint,
  tlsSettings,
  type ServeConfig,
} from '../settings/index.js';
import { packageVersion } from '../util/version.js';
import { mkdirPrivateSync } from '../util/private-files.js';
import { startS3Endpoint, type S3Endpoint } from './s3-endpoint.js';
import { storageWarningSink } from './storage-events.js';
import { Listener } from './listener.js';
import { loadMasterKey } from './master-key.js';
import { warnExposedSecrets } from './secret-files.js';
import { HeldOutput, ResponseBudget } from '../util/response-budget.js';
import { createRouter, httpErrorAnswer, type ServiceEndpoint } from './router.js';
import { answerRestCatalog } from '../delivery/iceberg/rest-catalog.js';
import { loadTls } from './tls.js';
import { createLogger } from './logging.js';

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

/**
 * Starts Tributary. With the embedded storage engine the data directory is locked for as long as
 * the server runs (see storage/embedded/dir-lock.ts): a second server on it fails to start.
 */
export async function startServer(config: ServeConfig, hooks: ServerHooks = {}): Promise<RunningServer> {
  mkdirPrivateSync(config.dataDir);
  const lock = jetStreamSettings(config) ? undefined : DataDirLock.acquire(config.dataDir);
  if (!lock) return start(config, hooks);
  let server: RunningServer;
  try {
    server = await start(config, hooks);
  } catch (err) {
    lock.release();
    throw err;
  }
  const close = server.close;
  return { ...server, close: () => close().finally(() => lock.release()) };
}

async function start(config: ServeConfig, hooks: ServerHooks): Promise<RunningServer> {
  const clock = hooks.clock ?? (config.clockOffsetMs > 0 ? offsetClock(config.clockOffsetMs) : systemClock);
  const logger = hooks.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  // These fail before anything is opened: a wrong master key must not meet the data.
  const masterKey = loadMasterKey(masterKeySettings(config));
  const tlsMaterial = loadTls(tlsSettings(config));
  // Record format conversion reads its tables from the schema file.
  const schemas = config.schemaFile ? await loadSchemaCatalog(config.schemaFile) : new SchemaCatalog([]);
  const httpEndpointCertificates = config.httpEndpointCa ? [readHttpEndpointCa(config.httpEndpointCa)] : undefined;
  // The modules of --lambda-functions load now, so that a wrong path stops the start.
  const lambdas = lambdaFunctionSettings(config);
  const lambdaFunctions = await loadLambdaFunctions(lambdas.entries, lambdas);
  const jetStreamCluster = jetStreamSettings(config);
  // The JetStream client loads only for --storage jetstream.
  const jetStreamModule = jetStreamCluster ? await import('../storage/jetstream/index.js') : undefined;
  const jetStream = jetStreamCluster && jetStreamModule ? await jetStreamModule.openJetStreamStorage(jetStreamCluster) : undefined;
  const catalog = jetStream?.catalog ?? new SqliteCatalog(path.join(config.dataDir, 'catalog.sqlite'));
  const embeddedLogs = embeddedLogSettings(config);
  const storageFaults = new StorageFaultCounts();
  let kinesisRef: Kinesis | undefined;
  const logs =
    jetStream?.logs ??
    createEmbeddedLogStore(embeddedLogs.dir, embeddedLogs.options, {
      onWarning: storageWarningSink(logger, storageFaults, () => kinesisRef),
    });
  // Nodes sharing a JetStream cluster run the background work on whichever holds the lease.
  const lease: CatalogLease | undefined =
    jetStream && jetStreamModule
      ? new jetStreamModule.CatalogLease(catalog, 'lease.background', `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`, {
          onChange: (held) => logger.info({ held }, held ? 'holding the background-work lease' : 'background-work lease lost'),
          onError: (err) => logger.warn({ err }, 'background-work lease renewal failed'),
        })
      : undefined;
  const readBudget = config.maxReadBytes > 0 ? new ResponseBudget(config.maxReadBytes) : undefined;
  const metricsStore = metricsStoreFor(catalog);
  const firehoseMetrics = new FirehoseMetrics({ clock, store: metricsStore });
  const kinesis = new Kinesis({
    settings: kinesisSettings(config),
    catalog,
    logs,
    clock,
    metricsStore,
    cipher: masterKey.cipher,
    readBudget,
    lease,
    logger,
  });
  kinesisRef = kinesis;
  await lease?.start();
  await kinesis.start();
  logger.info(
    { masterKeyFile: masterKey.file, generated: masterKey.generated },
    masterKey.generated ? 'generated a master key for encryption at rest' : 'master key for encryption at rest loaded',
  );
  warnExposedSecrets(logger, [
    { what: 'credentials file', file: config.credentials },
    { what: 'master key file', file: masterKey.file },
    { what: 'TLS key file', file: tlsMaterial?.keyFile ?? '' },
  ]);

  const auth = createAuth(authSettings(config), logger);
  const kinesisAuthorize = auth.policies && kinesisAuthorizer(kinesis, auth.policies);
  const kinesisEndpoint: ServiceEndpoint<OperationContext> = {
    targetPrefix: 'Kinesis_20131202',
    signingName: 'kinesis',
    context: kinesis,
    operations: kinesisOperations,
    ...(kinesisAuthorize ? { authorize: (op, input, facts) => kinesisAuthorize(op.name, input, facts) } : {}),
  };
  // The Prometheus registry reads the metrics when scraped, so it is made (and prom-client loaded) on the first scrape.
  let registry: Promise<Registry> | undefined;
  const scrape = servesMetricsEndpoint(config)
    ? async () => {
        registry ??= import('../metrics/prometheus.js').then((m) => m.createPrometheusRegistry(kinesis.metrics, shardIdOf, storageFaults, firehoseMetrics));
        const r = await registry;
        return { contentType: r.contentType, body: await r.metrics() };
      }
    : undefined;
  const debug = logger.isLevelEnabled('debug');
  const dynamodb = new DynamoDb(
    dynamoDbSettings(config),
    jetStream?.tables ?? new SqliteTableStore(path.join(config.dataDir, 'tables.sqlite')),
    clock,
  );
  const dynamoDbEndpoint: ServiceEndpoint<DynamoDb> = {
    targetPrefix: DYNAMODB_TARGET_PREFIX,
    signingName: 'dynamodb',
    context: dynamodb,
    operations: dynamoDbOperations,
    jsonContentType: DYNAMODB_JSON_CONTENT_TYPE,
    errorType: dynamoDbErrorType,
    authorize: auth.dynamoDbAuthorizer,
  };
  // Firehose writes objects through the S3 API: to --s3-endpoint, or to the S3 endpoint started below.
  let objectWriter: ObjectWriter | undefined;
  let s3: S3Endpoint | undefined;
  // On its own endpoint a missing bucket is made on first delivery; an external one must have it.
  let objectSink:
    | { put: ObjectWriter['put']; ensureBucket?: (bucket: string) => Promise<void>; get: ObjectWriter['getIfExists']; putIfAbsent: ObjectWriter['putIfAbsent'] }
    | undefined;
  const objects = () => {
    if (!objectSink && (config.s3Endpoint || s3)) {
      const writer = new ObjectWriter(objectWriterOptions(config, s3?.endpoint));
      objectWriter = writer;
      objectSink = {
        put: (b, k, body, o) => writer.put(b, k, body, o),
        get: (b, k) => writer.getIfExists(b, k),
        putIfAbsent: (b, k, body) => writer.putIfAbsent(b, k, body),
        ...(config.s3Endpoint ? {} : { ensureBucket: (b: string) => writer.ensureBucket(b) }),
      };
    }
    return objectSink;
  };
  // Channels deliver through the same object store, on the node holding the background-work lease.
  kinesis.channels.startDelivery({ logger, objects });
  const firehoseConfig = firehoseSettings(config);
  // Started on first use: the jq binary when it is installed, jq-wasm in a worker otherwise.
  const jq = createJqRunner();
  const deliveryDeps: DeliveryDeps = {
    clock,
    region: firehoseConfig.region,
    accountId: firehoseConfig.accountId,
    logger,
    catalog,
    objects,
    schemas,
    jq,
    lambdaFunctions,
    ...(httpEndpointCertificates ? { httpEndpointCertificates } : {}),
    redshiftHosts: parseRedshiftHosts(config.redshiftHosts),
    kinesis: { call: (name, input) => callKinesis(kinesis, name, input) },
    metrics: firehoseMetrics,
  };
  // The delivery engine (destinations, formats, processors) loads when the first delivery stream starts.
  let starter: Promise<DeliveryStarter> | undefined;
  const firehose = new Firehose({
    settings: firehoseConfig,
    catalog,
    logs,
    clock,
    logger,
    metrics: firehoseMetrics,
    deliver: async (stream, log, progress) => {
      starter ??= import('../firehose/delivery.js').then((m) => m.deliveryStarter(deliveryDeps));
      return (await starter)(stream, log, progress);
    },
    ...(lease ? { lease } : {}),
  });
  const firehoseEndpoint: ServiceEndpoint<Firehose> = {
    targetPrefix: FIREHOSE_TARGET_PREFIX,
    signingName: 'firehose',
    context: firehose,
    operations: firehoseOperations,
    authorize: auth.firehoseAuthorizer,
  };
  await firehose.start();
  const version = packageVersion();
  const router = createRouter([kinesisEndpoint, dynamoDbEndpoint, firehoseEndpoint], {
    maxBodyBytes: config.maxBodyBytes,
    verifier: auth.verifier,
    now: () => clock.now(),
    metrics: scrape,
    // The REST catalog answers without a signature, so like /metrics it is served only in
    // development mode: with --credentials, table metadata is read through the signed S3 API.
    ...(config.credentials ? {} : { iceberg: (method: string, path: string) =>
      answerRestCatalog(method, path, {
        store: catalog,
        get: (bucket, key) => {
          const o = objects();
          if (!o) throw new Error('no object store');
          return o.get(bucket, key);
        },
        s3Endpoint: () => config.s3Endpoint || s3?.endpoint,
        region: config.region,
      }) }),
    about: () => ({ version, s3Endpoint: config.s3Endpoint || s3?.endpoint }),
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
      ...listenerSettings(config),
      onError: (err) => logger.warn({ err }, 'accepting a connection failed'),
      clientErrorBody: (status) => httpErrorAnswer(status, config),
      onClientError: (err, status) => {
        if (debug) logger.debug({ code: (err as NodeJS.ErrnoException).code, status }, status ? 'refused a malformed HTTP request' : 'client connection closed');
      },
      tls: tlsMaterial && { cert: tlsMaterial.cert, key: tlsMaterial.key },
    },
  );
  const address = await listener.listen();
  try {
    if (config.s3Port !== 'off') {
      // On JetStream every node serves every bucket: the objects are in the cluster's object stores.
      const store = jetStream
        ? await (await import('../s3/jetstream-store.js')).JetStreamObjectStore.open(jetStream.connection, {
            sweep: true,
            onError: (err) => logger.warn({ err }, 'sweeping unfinished S3 uploads failed'),
          })
        : undefined;
      s3 = await startS3Endpoint(config, { clock, logger, auth: auth.s3, tls: tlsMaterial, store });
    }
  } catch (err) {
    await listener.close(0);
    await firehose.close();
    await jq.close();
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
        await firehose.close();
        await kinesis.channels.close();
        await jq.close();
        objectWriter?.close();
        await s3?.close();
        await kinesis.close();
        await dynamodb.close();
        auth.close();
        await jetStream?.close();
      })();
      return closing;
    },
  };
}

/**
 * The Kinesis operations in the shape the router takes: each one's input from kinesisShapes and
 * the action `kinesis:<Name>`. An operation whose shape is declared but that is not served yet
 * is validated and then answered UnknownOperationException.
 */

/** The certificates of --http-endpoint-ca, read once at start so that a wrong path fails it. */
function readHttpEndpointCa(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (err) {
    throw new Error(`--http-endpoint-ca ${file}: ${(err as Error).message}`);
  }
}

function offsetClock(ms: number): Clock {
  const clock = new OffsetClock();
  clock.advance(ms);
  return clock;
}

/**
 * One Kinesis operation called in-process (a Kinesis-source delivery stream reads this way). A
 * GetRecords answer that holds a share of the read budget until it is sent gives the share back
 * here: the answer is in memory already.
 */
async function callKinesis(kinesis: Kinesis, name: string, input: Record<string, unknown>): Promise<any> {
  const output: unknown = await kinesisOperations.get(name)!.handle(kinesis, input);
  if (output instanceof HeldOutput) {
    output.share.release();
    return output.output;
  }
  return output;
}
