/**
 * From a delivery stream's configuration to its running delivery: the pipeline over its log, the
 * destination (Extended S3, or an HTTP endpoint with its S3 backup), its processors, and for a
 * Kinesis source the reader that feeds the log. Destinations Tributary does not deliver to are
 * described but not run; the log keeps their records.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { compress, fileExtension, type CompressionFormat } from '../delivery/compression.js';
import { HTTP_ENDPOINT_FAILED, HttpEndpointDestination, httpEndpointErrorLine } from '../delivery/destinations/http.js';
import { S3Destination, type ObjectSink } from '../delivery/destinations/s3.js';
import { DeliveryPipeline } from '../delivery/pipeline.js';
import { evaluatePrefix, objectName, parsePrefix, type CompiledPrefix } from '../delivery/prefix.js';
import { BuiltInProcessor, errorRecordLine, processingSettings } from '../delivery/processors.js';
import { createRecordFormatConverter, formatConversionErrorRecord, type DataFormatConversionSettings } from '../delivery/formats/record-format.js';
import { SchemaCatalog } from '../delivery/formats/schema-catalog.js';
import type { JqRunner } from '../delivery/jq.js';
import { LambdaProcessor, type LambdaFunctions } from '../delivery/lambda.js';
import type { FailedRecord } from '../delivery/records.js';
import type { Catalog } from '../storage/catalog.js';
import type { Clock } from '../util/clock.js';
import { KinesisSourceReader, type KinesisOperations } from './kinesis-source.js';
import type { Config, DeliveryStreamMeta } from './model.js';
import { recordId, type DeliveryStarter } from './service.js';

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
}

export function deliveryStarter(deps: DeliveryDeps): DeliveryStarter {
  return (stream, log, progress) => {
    const logger = deps.logger.child({ deliveryStream: stream.name });
    const kind = stream.destination.kind;
    const destination =
      kind === 'ExtendedS3' ? s3Destination(stream, stream.destination.config, deps, logger) : kind === 'HttpEndpoint' ? httpDestination(stream, deps, logger) : undefined;
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
          })
        : undefined;
    if (!destination) return reader && { step: async () => void (await reader.step()), close: async () => reader.close() };
    const config = stream.destination.config;
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
      sizeBytes: config.BufferingHints.SizeInMBs * MiB,
      intervalMs: config.BufferingHints.IntervalInSeconds * 1000,
      maxPartitions: 500,
    });
    // An endpoint may take minutes to answer: its delivery runs beside the service's step, not in it.
    const inBackground = destination instanceof HttpEndpointDestination;
    return {
      async step() {
        if (reader) await reader.step();
        if (!inBackground) return pipeline.step();
        pipeline.step().catch((err) => logger.error({ err }, 'delivery step failed'));
      },
      async close() {
        reader?.close();
        const closing = pipeline.close();
        if (inBackground) destination.close();
        await closing;
      },
    };
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
  let bucketChecked = false;
  const sink: ObjectSink = {
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
        const result = setup.converter.convert(batch.records.map((r) => r.data));
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

function conversionFailure(record: FailedRecord['record'], errorCode: string, errorMessage: string): FailedRecord {
  return { record, errorCode, errorMessage, errorOutputType: FORMAT_CONVERSION_FAILED, attemptsMade: 1 };
}
