/**
 * From a delivery stream's configuration to its running delivery: the pipeline over its log, the
 * destination (Extended S3, an HTTP endpoint with its S3 backup, or Redshift loaded into
 * PostgreSQL through its intermediate bucket), its processors, and for a
 * Kinesis source the reader that feeds the log. Destinations Tributary does not deliver to are
 * described but not run; the log keeps their records.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { compress, fileExtension, type CompressionFormat } from '../delivery/compression.js';
import { HTTP_ENDPOINT_FAILED, HttpEndpointDestination, httpEndpointErrorLine } from '../delivery/destinations/http.js';
import { PostgresLoader, RedshiftDestination, type TableLoader } from '../delivery/destinations/redshift.js';
import { parseJdbcUrl, quoteColumnList, quoteTableName, resolveTarget, translateCopyOptions, type RedshiftHosts } from '../delivery/destinations/redshift-copy.js';
import { S3Destination, type ObjectSink } from '../delivery/destinations/s3.js';
import { DeliveryPipeline, type DeliveryEvent } from '../delivery/pipeline.js';
import { evaluatePrefix, objectName, parsePrefix, type CompiledPrefix } from '../delivery/prefix.js';
import { BuiltInProcessor, errorRecordLine, processingSettings } from '../delivery/processors.js';
import { createRecordFormatConverter, formatConversionErrorRecord, type DataFormatConversionSettings } from '../delivery/formats/record-format.js';
import { SchemaCatalog } from '../delivery/formats/schema-catalog.js';
import type { JqRunner } from '../delivery/jq.js';
import { LambdaProcessor, type LambdaFunctions } from '../delivery/lambda.js';
import type { FailedRecord } from '../delivery/records.js';
import type { DeliveryTarget, FirehoseMetrics } from '../metrics/firehose.js';
import type { Catalog } from '../storage/catalog.js';
import type { Clock } from '../util/clock.js';
import { DeliveryStreamCatalog } from './catalog.js';
import { KinesisSourceReader, type KinesisOperations } from './kinesis-source.js';
import type { Config, DeliveryStreamMeta } from './model.js';
import { recordId, type DeliveryProgressStore, type DeliveryStarter } from './service.js';

const MiB = 1024 * 1024;
const DEFAULT_PREFIX: CompiledPrefix = { parts: [], hasTimestamp: false, hasExpressions: false };

export interface DeliveryDeps {
  clock: Clock;
  /** Where the delivery streams live: error records name the Glue catalog by them. */
  region: string;
  accountId: string;
  logger: Logger;
  catalog: Catalog;
  /** Where objects go (resolved when delivery starts: the S3 endpoint starts after the service). */
  objects(): (ObjectSink & { ensureBucket?(bucket: string): Promise<void> }) | undefined;
  kinesis?: KinesisOperations;
  /** The tables record format conversion takes its schemas from (the schema file). */
  schemas?: SchemaCatalog;
  /** Runs MetadataExtraction queries (shared by the delivery streams; the server closes it). */
  jq?: JqRunner;
  /** The functions Lambda processors invoke (--lambda-functions). */
  lambdaFunctions?: LambdaFunctions;
  /** PEM certificates HTTP endpoint destinations trust besides Node's root certificates. */
  httpEndpointCertificates?: string[];
  /** `--redshift-hosts`: the PostgreSQL servers Redshift clusters are loaded into. */
  redshiftHosts?: RedshiftHosts;
  /** Firehose's metrics (DeliveryToS3.*, DataReadFromKinesisStream.*, …). */
  metrics?: FirehoseMetrics;
}

/** The metric family a destination's deliveries are counted under. */
function deliveryTarget(kind: string): DeliveryTarget | undefined {
  return kind === 'ExtendedS3' ? 'S3' : kind === 'HttpEndpoint' ? 'HttpEndpoint' : kind === 'Redshift' ? 'Redshift' : undefined;
}

export function deliveryStarter(deps: DeliveryDeps): DeliveryStarter {
  return (stream, log, progress) => {
    const logger = deps.logger.child({ deliveryStream: stream.name });
    const kind = stream.destination.kind;
    const metrics = deps.metrics;
    const target = deliveryTarget(kind);
    const destination =
      kind === 'ExtendedS3'
        ? s3Destination(stream, stream.destination.config, deps, logger)
        : kind === 'HttpEndpoint'
          ? httpDestination(stream, deps, logger)
          : kind === 'Redshift'
            ? redshiftDestination(stream, deps, logger, progress)
            : undefined;
    if (!destination) {
      logger.warn({ destination: stream.destination.kind }, 'records of this destination type are kept but not delivered');
    }
    const reader =
      stream.kinesisSource && deps.kinesis
        ? new KinesisSourceReader({
            source: stream.kinesisSource,
            deliveryStreamId: stream.id,
            kinesis: deps.kinesis,
            log,
            catalog: deps.catalog,
            logger,
            now: () => deps.clock.now(),
            ...(metrics ? { onRead: (records: number, bytes: number) => metrics.recordSourceRead(stream.name, records, bytes, deps.clock.now()) } : {}),
          })
        : undefined;
    if (!destination) return reader && { step: async () => void (await reader.step()), close: async () => reader.close() };
    const config = stream.destination.config;
    const hints = kind === 'Redshift' ? config.S3Configuration.BufferingHints : config.BufferingHints;
    const settings = processingSettings(config.ProcessingConfiguration);
    if (settings?.unsupported.length) logger.warn({ processors: settings.unsupported }, 'these processors are not run');
    const lambda =
      settings?.lambda &&
      new LambdaProcessor({
        ...settings.lambda,
        functions: deps.lambdaFunctions,
        deliveryStreamArn: stream.arn,
        region: deps.region,
        ...(stream.kinesisSource ? { sourceKinesisStreamArn: stream.kinesisSource.streamARN } : {}),
      });
    if (settings?.lambda && !deps.lambdaFunctions?.resolve(settings.lambda.functionArn)) {
      logger.warn({ lambdaArn: settings.lambda.functionArn }, 'no --lambda-functions entry maps this function: its records go to the error output');
    }
    const pipeline = new DeliveryPipeline({
      log,
      clock: deps.clock,
      logger,
      progress,
      destination,
      ...(settings ? { processor: new BuiltInProcessor(settings, deps.jq, lambda) } : {}),
      recordId: (offset) => recordId(stream.id, offset),
      // Redshift buffers by the hints of its intermediate S3 configuration.
      sizeBytes: hints.SizeInMBs * MiB,
      intervalMs: hints.IntervalInSeconds * 1000,
      maxPartitions: 500,
      ...(metrics && target
        ? {
            observe: (event: DeliveryEvent) => {
              if (event.kind === 'delivered') metrics.recordDelivered(stream.name, target, event.records, event.bytes, event.oldestArrival, event.now);
              else if (event.kind === 'retry') metrics.recordDeliveryFailed(stream.name, target, event.now);
            },
          }
        : {}),
    });
    // An endpoint may take minutes to answer, a COPY as long: their delivery runs beside the service's step, not in it.
    const inBackground = destination instanceof HttpEndpointDestination || destination instanceof RedshiftDestination;
    return {
      async step() {
        if (reader) await reader.step();
        if (!inBackground) return pipeline.step();
        pipeline.step().catch((err) => logger.error({ err }, 'delivery step failed'));
      },
      async close() {
        reader?.close();
        const closing = pipeline.close();
        if (destination instanceof HttpEndpointDestination) destination.close();
        if (destination instanceof RedshiftDestination) await destination.close();
        await closing;
      },
    };
  };
}

/** Objects through the store deliveries write to; on its own endpoint, a missing bucket is made first. */
function objectSink(deps: DeliveryDeps): ObjectSink {
  let bucketChecked = false;
  return {
    async put(b, key, body) {
      const objects = deps.objects();
      if (!objects) throw new Error('no object store to deliver to');
      if (!bucketChecked && objects.ensureBucket) {
        await objects.ensureBucket(b);
        bucketChecked = true;
      }
      return objects.put(b, key, body);
    },
  };
}

/** The error-output type of records that record format conversion could not convert. */
const FORMAT_CONVERSION_FAILED = 'format-conversion-failed';

/**
 * An S3 destination from an S3 configuration: the Extended S3 destination's own, or an HTTP
 * endpoint's backup (whose `errorLine` writes its failures as AWS does).
 */
function s3Destination(
  stream: DeliveryStreamMeta,
  config: Config,
  deps: DeliveryDeps,
  logger: Logger,
  options: { errorLine?: (failed: FailedRecord, now: number) => string | undefined } = {},
): S3Destination | undefined {
  const bucket = String(config.BucketARN).replace(/^arn:[^:]*:s3:::/, '');
  const timeZone = config.CustomTimeZone || 'UTC';
  const format = config.CompressionFormat as CompressionFormat;
  const prefix = parsePrefix(config.Prefix ?? '', 'Prefix');
  const errorPrefix = parsePrefix(config.ErrorOutputPrefix ?? config.Prefix ?? '', 'ErrorOutputPrefix');
  if ('error' in prefix || 'error' in errorPrefix) {
    logger.error({ prefix: config.Prefix, errorOutputPrefix: config.ErrorOutputPrefix }, 'the prefixes do not parse; nothing is delivered');
    return undefined;
  }
  const conversion = config.DataFormatConversionConfiguration as DataFormatConversionSettings | undefined;
  const converting = conversion !== undefined && conversion.Enabled !== false;
  const setup = converting ? createRecordFormatConverter(conversion, deps.schemas ?? new SchemaCatalog([])) : undefined;
  if (setup && !setup.ok) logger.error({ error: setup.message }, 'record format conversion cannot run: every record goes to the error output');
  const extension = fileExtension(format, converting ? 'parquet' : undefined, config.FileExtension);
  const sink = objectSink(deps);
  const key = (compiled: CompiledPrefix, ctx: Parameters<typeof evaluatePrefix>[1], now: number) => {
    const evaluated = evaluatePrefix(compiled, ctx);
    if ('error' in evaluated) return evaluated;
    const name = objectName({ streamName: stream.name, versionId: stream.versionId, createdAt: now, timeZone, uuid: randomUUID(), extension });
    return { key: evaluated.prefix + name };
  };
  return new S3Destination({
    sink,
    bucket,
    async encode(batch) {
      if (setup) {
        if (!setup.ok) {
          const failed = batch.records.map((record) => conversionFailure(record, setup.errorType, setup.message));
          return { body: Buffer.alloc(0), failed };
        }
        const result = await setup.converter.convert(batch.records.map((r) => r.data));
        const failed = result.failures.map((f) => conversionFailure(batch.records[f.index]!, f.errorCode, f.errorMessage));
        return { body: result.body ? Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength) : Buffer.alloc(0), failed };
      }
      const body = Buffer.concat(batch.records.map((r) => r.data));
      return { body: await compress(format, body, 'data'), failed: [] };
    },
    objectKey(batch, now) {
      const named = key(
        prefix,
        {
          arrival: batch.oldestArrival,
          timeZone,
          ...(batch.keysFromQuery ? { keysFromQuery: batch.keysFromQuery } : {}),
          ...(batch.keysFromLambda ? { keysFromLambda: batch.keysFromLambda } : {}),
        },
        now,
      );
      return 'error' in named ? { error: named.error, errorCode: 'DynamicPartitioning.PrefixEvaluationFailed' } : named;
    },
    errorKey(errorOutputType, oldestArrival, now) {
      let named = key(errorPrefix, { arrival: oldestArrival, timeZone, errorOutputType }, now);
      // A prefix too long to evaluate falls back to the default error prefix, so failures still land.
      if ('error' in named) named = key(DEFAULT_PREFIX, { arrival: oldestArrival, timeZone, errorOutputType }, now);
      return 'error' in named ? `${errorOutputType}/${randomUUID()}` : named.key;
    },
    errorLine(failed, now) {
      const own = options.errorLine?.(failed, now);
      if (own !== undefined) return own;
      if (failed.errorOutputType !== FORMAT_CONVERSION_FAILED || !conversion?.SchemaConfiguration) return errorRecordLine(failed, now);
      const kinesis = failed.record.kinesis;
      return formatConversionErrorRecord({
        failure: failed,
        rawData: failed.record.data,
        arrivalTimestamp: failed.record.arrival,
        attemptEndingTimestamp: now,
        attemptsMade: failed.attemptsMade,
        ...(kinesis ? { sequenceNumber: kinesis.sequenceNumber } : {}),
        ...(kinesis?.subsequenceNumber !== undefined ? { subSequenceNumber: kinesis.subsequenceNumber } : {}),
        schema: conversion.SchemaConfiguration,
        region: deps.region,
        accountId: deps.accountId,
      }).trimEnd();
    },
    encodeErrors: (lines) => compress(format, lines, 'errors'),
  });
}

/** An HTTP endpoint destination, with its S3 configuration as the backup (spec §9). */
function httpDestination(stream: DeliveryStreamMeta, deps: DeliveryDeps, logger: Logger): HttpEndpointDestination | undefined {
  const config = stream.destination.config;
  const backup = s3Destination(stream, config.S3Configuration, deps, logger, {
    errorLine: (failed, now) => (failed.errorOutputType === HTTP_ENDPOINT_FAILED ? httpEndpointErrorLine(failed, now) : undefined),
  });
  if (!backup) return undefined;
  const endpoint = config.EndpointConfiguration;
  if (!URL.canParse(endpoint.Url)) {
    logger.error('the endpoint URL does not parse; nothing is delivered');
    return undefined;
  }
  if (config.SecretsManagerConfiguration?.Enabled === true) {
    logger.warn('Secrets Manager is not available here: requests carry the configured AccessKey, if any');
  }
  return new HttpEndpointDestination({
    url: endpoint.Url,
    accessKey: endpoint.AccessKey,
    sourceArn: stream.arn,
    commonAttributes: config.RequestConfiguration?.CommonAttributes,
    gzip: config.RequestConfiguration?.ContentEncoding === 'GZIP',
    retryForMs: (config.RetryOptions?.DurationInSeconds ?? 300) * 1000,
    backup,
    backupAll: config.S3BackupMode === 'AllData',
    trustedCertificates: deps.httpEndpointCertificates,
    logger,
  });
}

/**
 * A Redshift destination loading into PostgreSQL: intermediate objects and manifests in the
 * bucket of S3Configuration (which also takes records that fail processing), the source records
 * in S3BackupConfiguration's when S3BackupMode is Enabled. A configuration that cannot be loaded
 * (a refused COPY option, a table name that is not one) fails every COPY, so its batches end under
 * errors/manifests, as a COPY Redshift refuses does.
 */
function redshiftDestination(stream: DeliveryStreamMeta, deps: DeliveryDeps, logger: Logger, progress: DeliveryProgressStore): RedshiftDestination | undefined {
  const config = stream.destination.config;
  const s3 = config.S3Configuration;
  const errors = s3Destination(stream, s3, deps, logger);
  if (!errors) return undefined;
  const backup = config.S3BackupMode === 'Enabled' && config.S3BackupConfiguration ? s3Destination(stream, config.S3BackupConfiguration, deps, logger) : undefined;
  const bucket = String(s3.BucketARN).replace(/^arn:[^:]*:s3:::/, '');
  const format = s3.CompressionFormat as CompressionFormat;
  const extension = fileExtension(format);
  const sink = objectSink(deps);
  const keyOf = (prefix: string, oldestArrival: number, now: number, ext: string) => {
    const compiled = parsePrefix(prefix, 'Prefix');
    const evaluated = 'error' in compiled ? { error: compiled.error } : evaluatePrefix(compiled, { arrival: oldestArrival, timeZone: 'UTC' });
    const name = objectName({ streamName: stream.name, versionId: stream.versionId, createdAt: now, timeZone: 'UTC', uuid: randomUUID(), extension: ext });
    return 'error' in evaluated ? name : evaluated.prefix + name;
  };
  const prefix: string = s3.Prefix ?? '';
  const journal = new DeliveryStreamCatalog(deps.catalog);
  const copy = config.CopyCommand;
  const translation = translateCopyOptions(copy.CopyOptions, format === 'GZIP');
  for (const warning of translation.warnings) logger.warn({ copyOptions: copy.CopyOptions }, warning);
  const table = quoteTableName(copy.DataTableName);
  const columns = quoteColumnList(copy.DataTableColumns);
  const jdbc = parseJdbcUrl(config.ClusterJDBCURL);
  const problem = !translation.ok
    ? translation.error
    : table === undefined
      ? `DataTableName ${copy.DataTableName} is not a table name`
      : columns === undefined
        ? `DataTableColumns ${copy.DataTableColumns} is not a list of column names`
        : 'error' in jdbc
          ? jdbc.error
          : undefined;
  let loader: TableLoader;
  if (problem !== undefined || !translation.ok || table === undefined || columns === undefined || 'error' in jdbc) {
    logger.error({ problem }, 'the COPY command cannot run: every batch goes to errors/manifests after the retry duration');
    loader = { identity: '', load: () => Promise.reject(new Error(problem)), status: () => Promise.reject(new Error(problem)), close: async () => {} };
  } else {
    const target = resolveTarget(jdbc, deps.redshiftHosts ?? new Map());
    if (config.SecretsManagerConfiguration?.Enabled === true) {
      logger.warn('Secrets Manager is not available here: the COPY connects with the configured Username and Password');
    }
    logger.info({ host: target.host, port: target.port, database: target.database, table: copy.DataTableName }, 'Redshift destination loads into PostgreSQL');
    loader = new PostgresLoader({ target, user: config.Username, password: config.Password, table, columns, plan: translation.plan });
  }
  return new RedshiftDestination({
    store: {
      async writeObject(records, oldestArrival, now) {
        const body = await compress(format, Buffer.concat(records.map((r) => r.data)), 'data');
        const key = keyOf(prefix, oldestArrival, now, extension);
        await sink.put(bucket, key, body);
        return { url: `s3://${bucket}/${key}`, body };
      },
      async writeManifest(kind, body, oldestArrival, now) {
        const key = keyOf(`${prefix}${kind}/`, oldestArrival, now, '');
        await sink.put(bucket, key, body);
        return `s3://${bucket}/${key}`;
      },
      writeFailures: (failed, now) => errors.deliverFailures(failed, now),
    },
    loader,
    journal: {
      read: () => journal.redshiftLoads(stream.id),
      write: (entries) => journal.saveRedshiftLoads(stream.id, entries),
      deliveredOffset: () => progress.load(),
    },
    retryForMs: (config.RetryOptions?.DurationInSeconds ?? 3600) * 1000,
    backup,
    logger,
  });
}

function conversionFailure(record: FailedRecord['record'], errorCode: string, errorMessage: string): FailedRecord {
  return { record, errorCode, errorMessage, errorOutputType: FORMAT_CONVERSION_FAILED, attemptsMade: 1 };
}
