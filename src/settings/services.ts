import path from 'node:path';
import type { AuthSettings } from '../auth/index.js';
import type { DynamoDbSettings } from '../dynamodb/service.js';
import { parseLambdaFunctions, type LambdaFunctionEntry } from '../firehose/lambda-functions.js';
import { defaultFirehoseSettings, type FirehoseSettings } from '../firehose/settings.js';
import { parseOperationRates } from '../kinesis/limits/control-plane.js';
import type { LimitSettings } from '../kinesis/limits/settings.js';
import { defaultKinesisSettings, type KinesisSettings } from '../kinesis/settings.js';
import type { LogOptions } from '../storage/types.js';
import type { ServeConfig } from './table.js';

/*
 * From the serve settings to the plain settings each part takes. The services declare their own
 * settings types and know nothing of this module. The server's own parts (listener, TLS, master
 * key) are given plain objects that their option types accept, so that this module, which the
 * server imports, imports nothing from the server.
 */

export function limitSettings(config: ServeConfig): LimitSettings {
  return {
    enabled: config.limits !== 'off',
    shardWriteBytesPerSecond: config.shardWriteBytesPerSecond,
    shardWriteRecordsPerSecond: config.shardWriteRecordsPerSecond,
    shardWriteBurstBytes: config.shardWriteBurstBytes,
    shardReadBytesPerSecond: config.shardReadBytesPerSecond,
    shardReadCallsPerSecond: config.shardReadCallsPerSecond,
    shardIteratorCallsPerSecond: config.shardIteratorCallsPerSecond,
    operationRates: parseOperationRates(config.controlPlaneRates),
  };
}

/** The Kinesis service's settings; those without a serve setting keep their defaults (AWS's figures). */
export function kinesisSettings(config: ServeConfig): KinesisSettings {
  return {
    ...defaultKinesisSettings,
    region: config.region,
    accountId: config.accountId,
    createStreamDelayMs: config.createStreamDelayMs,
    deleteStreamDelayMs: config.deleteStreamDelayMs,
    shardLimit: config.shardLimit,
    onDemandStreamLimit: config.onDemandStreamLimit,
    updateStreamDelayMs: config.updateStreamDelayMs,
    limits: limitSettings(config),
    consumerDelayMs: config.consumerDelayMs,
    subscriptionHeartbeatMs: config.subscriptionHeartbeatMs,
    subscriptionLifetimeMs: config.subscriptionLifetimeMs,
    fanOutReadBytesPerSecond: config.fanOutReadBytesPerSecond,
    metricsRetentionMinutes: Math.max(1, Math.round(config.metricsRetentionHours * 60)),
  };
}

/** The embedded engine's shard logs: where they live and how they are made durable. */
export function embeddedLogSettings(config: ServeConfig): { dir: string; options: LogOptions } {
  return {
    dir: path.join(config.dataDir, 'streams'),
    options: { fsync: config.fsync, fsyncIntervalMs: config.fsyncIntervalMs, segmentBytes: config.segmentBytes, segmentMaxAgeMs: 3_600_000 },
  };
}

/** The JetStream engine's cluster, or undefined with the embedded engine. */
export function jetStreamSettings(config: ServeConfig): { servers: string; replicas: number; prefix: string } | undefined {
  return config.storage === 'jetstream' ? { servers: config.nats, replicas: config.natsReplicas, prefix: config.natsPrefix } : undefined;
}

export function firehoseSettings(config: ServeConfig): FirehoseSettings {
  return {
    ...defaultFirehoseSettings,
    region: config.region,
    accountId: config.accountId,
    createDelayMs: config.createDeliveryStreamDelayMs,
    deliveryStreamLimit: config.deliveryStreamLimit,
  };
}

/** The functions Lambda processors invoke (--lambda-functions), and where ARNs without one point. */
export function lambdaFunctionSettings(config: ServeConfig): { entries: LambdaFunctionEntry[]; region: string; accountId: string } {
  return { entries: parseLambdaFunctions(config.lambdaFunctions), region: config.region, accountId: config.accountId };
}

export function dynamoDbSettings(config: ServeConfig): DynamoDbSettings {
  return { region: config.region, accountId: config.accountId };
}

export function authSettings(config: ServeConfig): AuthSettings {
  return { credentials: config.credentials, region: config.region, accountId: config.accountId };
}

export function masterKeySettings(config: ServeConfig): { dataDir: string; masterKeyFile: string; keyDir: string } {
  return { dataDir: config.dataDir, masterKeyFile: config.masterKeyFile, keyDir: config.keyDir };
}

export function tlsSettings(config: ServeConfig): { dataDir: string; tls: string; tlsCert: string; tlsKey: string } {
  return { dataDir: config.dataDir, tls: config.tls, tlsCert: config.tlsCert, tlsKey: config.tlsKey };
}

/** The listener's settings, less its handlers and TLS material. */
export interface ListenerSettings {
  host: string;
  port: number;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  maxHeaderBytes: number;
  maxConnections: number;
  maxConcurrentStreams: number;
  maxUnsentBytes: number;
}

export function listenerSettings(config: ServeConfig): ListenerSettings {
  return {
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
  };
}

/** Whether GET /metrics is served: it is unauthenticated, so with a credentials file only when asked for. */
export function servesMetricsEndpoint(config: ServeConfig): boolean {
  return config.metricsEndpoint === 'on' || (config.metricsEndpoint === 'auto' && !config.credentials);
}
