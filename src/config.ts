import { readFileSync } from 'node:fs';
import { parseOperationRates } from './kinesis/limits/control-plane.js';
import type { FsyncMode } from './storage/types.js';

/** Every setting of `tributary serve`, with its default. */
export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  fsync: FsyncMode;
  fsyncIntervalMs: number;
  segmentBytes: number;
  region: string;
  accountId: string;
  createStreamDelayMs: number;
  deleteStreamDelayMs: number;
  shardLimit: number;
  maxBodyBytes: number;
  logLevel: string;
  consumerDelayMs: number;
  subscriptionHeartbeatMs: number;
  subscriptionLifetimeMs: number;
  fanOutReadBytesPerSecond: number;
  updateStreamDelayMs: number;
  onDemandStreamLimit: number;
  limits: 'on' | 'off';
  shardWriteBytesPerSecond: number;
  shardWriteRecordsPerSecond: number;
  shardWriteBurstBytes: number;
  shardReadBytesPerSecond: number;
  shardReadCallsPerSecond: number;
  shardIteratorCallsPerSecond: number;
  controlPlaneRates: string;
  storage: 'embedded' | 'jetstream';
  nats: string;
  natsReplicas: number;
  natsPrefix: string;
  credentials: string;
  tls: string;
  tlsCert: string;
  tlsKey: string;
  masterKeyFile: string;
  keyDir: string;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  maxConnections: number;
  maxConcurrentStreams: number;
  maxUnsentBytes: number;
  maxReadBytes: number;
  metricsRetentionHours: number;
  metricsEndpoint: 'auto' | 'on' | 'off';
  retentionSweepMs: number;
  clockOffsetMs: number;
  s3Port: number | 'off';
  s3Endpoint: string;
}

export const defaultConfig: ServeConfig = {
  host: '127.0.0.1',
  port: 4567,
  dataDir: './data',
  fsync: 'always',
  fsyncIntervalMs: 1000,
  segmentBytes: 64 * 1024 * 1024,
  region: 'us-east-1',
  accountId: '000000000000',
  createStreamDelayMs: 100,
  deleteStreamDelayMs: 100,
  shardLimit: 200,
  maxBodyBytes: 16 * 1024 * 1024,
  logLevel: 'info',
  consumerDelayMs: 100,
  subscriptionHeartbeatMs: 2_000,
  subscriptionLifetimeMs: 300_000,
  fanOutReadBytesPerSecond: 2 * 1024 * 1024,
  updateStreamDelayMs: 100,
  onDemandStreamLimit: 50,
  limits: 'on',
  shardWriteBytesPerSecond: 1024 * 1024,
  shardWriteRecordsPerSecond: 1000,
  shardWriteBurstBytes: 10 * 1024 * 1024,
  shardReadBytesPerSecond: 2 * 1024 * 1024,
  shardReadCallsPerSecond: 5,
  shardIteratorCallsPerSecond: 5,
  controlPlaneRates: '',
  storage: 'embedded',
  nats: 'nats://127.0.0.1:4222',
  natsReplicas: 0,
  natsPrefix: 'TRIB',
  credentials: '',
  tls: 'off',
  tlsCert: '',
  tlsKey: '',
  masterKeyFile: '',
  keyDir: '',
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
  maxHeaderBytes: 64 * 1024,
  maxConnections: 10_000,
  maxConcurrentStreams: 1_000,
  maxUnsentBytes: 256 * 1024 * 1024,
  maxReadBytes: 128 * 1024 * 1024,
  metricsRetentionHours: 3,
  metricsEndpoint: 'auto',
  retentionSweepMs: 60_000,
  clockOffsetMs: 0,
  s3Port: 4568,
  s3Endpoint: '',
};

/** One line per setting: flag, environment variable, meaning. Shown by `serve --help` and the README. */
export const configDocs: Record<keyof ServeConfig, { flag: string; env: string; help: string }> = {
  host: { flag: '--host <address>', env: 'TRIBUTARY_HOST', help: 'address to listen on' },
  port: { flag: '--port <number>', env: 'TRIBUTARY_PORT', help: 'port for HTTP/1.1 and HTTP/2 (h2c); 0 picks a free one' },
  dataDir: { flag: '--data-dir <path>', env: 'TRIBUTARY_DATA_DIR', help: 'where streams are stored' },
  fsync: {
    flag: '--fsync <mode>',
    env: 'TRIBUTARY_FSYNC',
    help: 'always: a put is acknowledged only once on disk; interval: fsync every --fsync-interval-ms; never: leave it to the OS',
  },
  fsyncIntervalMs: { flag: '--fsync-interval-ms <ms>', env: 'TRIBUTARY_FSYNC_INTERVAL_MS', help: 'fsync period in interval mode' },
  segmentBytes: { flag: '--segment-bytes <bytes>', env: 'TRIBUTARY_SEGMENT_BYTES', help: 'size at which a shard log rolls to a new segment file' },
  region: { flag: '--region <region>', env: 'TRIBUTARY_REGION', help: 'region used in ARNs' },
  accountId: { flag: '--account-id <id>', env: 'TRIBUTARY_ACCOUNT_ID', help: '12-digit account id used in ARNs and messages' },
  createStreamDelayMs: { flag: '--create-stream-ms <ms>', env: 'TRIBUTARY_CREATE_STREAM_MS', help: 'how long a new stream stays CREATING' },
  deleteStreamDelayMs: { flag: '--delete-stream-ms <ms>', env: 'TRIBUTARY_DELETE_STREAM_MS', help: 'how long a deleted stream stays DELETING' },
  shardLimit: { flag: '--shard-limit <count>', env: 'TRIBUTARY_SHARD_LIMIT', help: "the account's shard quota" },
  maxBodyBytes: { flag: '--max-body-bytes <bytes>', env: 'TRIBUTARY_MAX_BODY_BYTES', help: 'largest request body accepted (413 beyond)' },
  logLevel: { flag: '--log-level <level>', env: 'TRIBUTARY_LOG_LEVEL', help: 'fatal, error, warn, info, debug or trace' },
  consumerDelayMs: {
    flag: '--consumer-status-ms <ms>',
    env: 'TRIBUTARY_CONSUMER_STATUS_MS',
    help: 'how long a registered consumer stays CREATING, and a deregistered one DELETING',
  },
  subscriptionHeartbeatMs: {
    flag: '--subscribe-heartbeat-ms <ms>',
    env: 'TRIBUTARY_SUBSCRIBE_HEARTBEAT_MS',
    help: 'longest silence on an idle SubscribeToShard stream before an empty event (keep well under 10 s)',
  },
  subscriptionLifetimeMs: {
    flag: '--subscribe-lifetime-ms <ms>',
    env: 'TRIBUTARY_SUBSCRIBE_LIFETIME_MS',
    help: 'how long a SubscribeToShard subscription lasts before the server ends it',
  },
  fanOutReadBytesPerSecond: {
    flag: '--fan-out-read-bytes <bytes>',
    env: 'TRIBUTARY_FAN_OUT_READ_BYTES',
    help: 'bytes per second one consumer may read from one shard over SubscribeToShard; 0 (or --limits off) for no limit',
  },
  updateStreamDelayMs: {
    flag: '--update-stream-ms <ms>',
    env: 'TRIBUTARY_UPDATE_STREAM_MS',
    help:
      'how long a stream stays UPDATING after SplitShard, MergeShards, UpdateShardCount, UpdateStreamMode, ' +
      'StartStreamEncryption, StopStreamEncryption or UpdateStreamWarmThroughput',
  },
  onDemandStreamLimit: {
    flag: '--on-demand-stream-limit <count>',
    env: 'TRIBUTARY_ON_DEMAND_STREAM_LIMIT',
    help: "the account's quota of ON_DEMAND streams",
  },
  limits: {
    flag: '--limits <on|off>',
    env: 'TRIBUTARY_LIMITS',
    help: 'on: enforce the throughput and call-rate limits below, as AWS does; off: none of them (development, benchmarks)',
  },
  shardWriteBytesPerSecond: {
    flag: '--shard-write-bytes <bytes>',
    env: 'TRIBUTARY_SHARD_WRITE_BYTES',
    help: 'bytes (data and partition keys) per second one shard accepts; 0 for no limit',
  },
  shardWriteRecordsPerSecond: {
    flag: '--shard-write-records <count>',
    env: 'TRIBUTARY_SHARD_WRITE_RECORDS',
    help: 'records per second one shard accepts; 0 for no limit',
  },
  shardWriteBurstBytes: {
    flag: '--shard-write-burst-bytes <bytes>',
    env: 'TRIBUTARY_SHARD_WRITE_BURST_BYTES',
    help: 'bytes one shard accepts at once before the per-second write rate applies',
  },
  shardReadBytesPerSecond: {
    flag: '--shard-read-bytes <bytes>',
    env: 'TRIBUTARY_SHARD_READ_BYTES',
    help: 'bytes per second GetRecords returns from one shard; 0 for no limit',
  },
  shardReadCallsPerSecond: {
    flag: '--shard-read-calls <count>',
    env: 'TRIBUTARY_SHARD_READ_CALLS',
    help: 'GetRecords calls per second on one shard; 0 for no limit',
  },
  shardIteratorCallsPerSecond: {
    flag: '--shard-iterator-calls <count>',
    env: 'TRIBUTARY_SHARD_ITERATOR_CALLS',
    help: 'GetShardIterator calls per second on one shard; 0 for no limit',
  },
  controlPlaneRates: {
    flag: '--control-plane-rates <list>',
    env: 'TRIBUTARY_CONTROL_PLANE_RATES',
    help: 'Operation=calls-per-second pairs, comma-separated, replacing the AWS rate of those operations; 0 for no limit',
  },
  storage: {
    flag: '--storage <engine>',
    env: 'TRIBUTARY_STORAGE',
    help: 'embedded: segment files and a SQLite catalog in --data-dir; jetstream: a NATS JetStream cluster (see --nats)',
  },
  nats: {
    flag: '--nats <urls>',
    env: 'TRIBUTARY_NATS',
    help: 'comma-separated nats:// URLs of the JetStream cluster (--storage jetstream); its max_payload bounds one append to a shard',
  },
  natsReplicas: {
    flag: '--nats-replicas <count>',
    env: 'TRIBUTARY_NATS_REPLICAS',
    help: 'replicas of the JetStream streams and buckets; 0 picks 3, or 1 when the cluster has a single server',
  },
  natsPrefix: {
    flag: '--nats-prefix <name>',
    env: 'TRIBUTARY_NATS_PREFIX',
    help: 'starts the names of the JetStream streams and buckets, so several Tributary deployments can share a cluster',
  },
  credentials: {
    flag: '--credentials <file>',
    env: 'TRIBUTARY_CREDENTIALS',
    help:
      'JSON list of { accessKeyId, secretAccessKey, principal, sessionTokens?, policies? }: SigV4 signatures are then verified ' +
      'and requests authorized by IAM policies; without it (development mode) any well-formed signature is accepted',
  },
  tls: {
    flag: '--tls <mode>',
    env: 'TRIBUTARY_TLS',
    help: 'off: plain HTTP unless --tls-cert/--tls-key are given; self-signed: HTTPS with a certificate made once (with openssl) and kept in <data-dir>/tls',
  },
  tlsCert: {
    flag: '--tls-cert <file>',
    env: 'TRIBUTARY_TLS_CERT',
    help: 'PEM certificate (chain) to serve HTTPS with, HTTP/2 and HTTP/1.1 by ALPN on the same port; plaintext is then refused',
  },
  tlsKey: { flag: '--tls-key <file>', env: 'TRIBUTARY_TLS_KEY', help: 'PEM private key of --tls-cert' },
  masterKeyFile: {
    flag: '--master-key-file <file>',
    env: 'TRIBUTARY_MASTER_KEY_FILE',
    help: 'master key for encryption at rest: 32 random bytes in base64; without it one is generated in --key-dir',
  },
  keyDir: {
    flag: '--key-dir <path>',
    env: 'TRIBUTARY_KEY_DIR',
    help: 'where a generated master key is kept (master.key, mode 0600); default <data-dir>/keys, apart from the segment files',
  },
  requestTimeoutMs: {
    flag: '--request-timeout-ms <ms>',
    env: 'TRIBUTARY_REQUEST_TIMEOUT_MS',
    help: 'time a client has to send a whole request (headers and body), over HTTP/1.1 or HTTP/2; 0 for none',
  },
  headersTimeoutMs: {
    flag: '--headers-timeout-ms <ms>',
    env: 'TRIBUTARY_HEADERS_TIMEOUT_MS',
    help: "time an HTTP/1.1 client has to send a request's headers, and any client its first bytes or TLS handshake",
  },
  idleTimeoutMs: {
    flag: '--idle-timeout-ms <ms>',
    env: 'TRIBUTARY_IDLE_TIMEOUT_MS',
    help:
      'a connection with no traffic for this long is closed: an HTTP/2 one with no request or response traffic (pings do not count), ' +
      'an HTTP/1.1 one whose response makes no progress (the client stopped reading); 0 for never',
  },
  keepAliveTimeoutMs: {
    flag: '--keep-alive-timeout-ms <ms>',
    env: 'TRIBUTARY_KEEP_ALIVE_TIMEOUT_MS',
    help: 'an HTTP/1.1 connection waiting for its next request is closed after this long',
  },
  maxHeaderBytes: {
    flag: '--max-header-bytes <bytes>',
    env: 'TRIBUTARY_MAX_HEADER_BYTES',
    help: 'largest request head: HTTP/1.1 gets 431 beyond it, an HTTP/2 stream is refused',
  },
  maxConnections: {
    flag: '--max-connections <count>',
    env: 'TRIBUTARY_MAX_CONNECTIONS',
    help:
      'connections held at once; beyond it new ones are closed as they arrive; never more than the open-file limit ' +
      'less 128 descriptors kept for files; 0 for that bound only',
  },
  maxConcurrentStreams: {
    flag: '--max-concurrent-streams <count>',
    env: 'TRIBUTARY_MAX_CONCURRENT_STREAMS',
    help: 'requests (SubscribeToShard streams included) one HTTP/2 connection may have open at once',
  },
  maxUnsentBytes: {
    flag: '--max-unsent-bytes <bytes>',
    env: 'TRIBUTARY_MAX_UNSENT_BYTES',
    help:
      'response bytes held, over all connections, for clients that do not read them; beyond it the connections (HTTP/2: streams) ' +
      'whose responses made no progress are dropped, most behind first; 0 for no limit',
  },
  maxReadBytes: {
    flag: '--max-read-bytes <bytes>',
    env: 'TRIBUTARY_MAX_READ_BYTES',
    help:
      'memory that GetRecords responses being read, encoded and sent may hold at once, over all clients (about 2.4 times ' +
      "their records' bytes); beyond it a read gets a smaller batch or waits its turn, and one that waits 5 s is answered " +
      'ProvisionedThroughputExceededException; 0 for no limit',
  },
  metricsRetentionHours: {
    flag: '--metrics-retention-hours <hours>',
    env: 'TRIBUTARY_METRICS_RETENTION_HOURS',
    help: 'how long the one-minute stream and shard metrics are kept',
  },
  metricsEndpoint: {
    flag: '--metrics-endpoint <auto|on|off>',
    env: 'TRIBUTARY_METRICS_ENDPOINT',
    help: 'GET /metrics (Prometheus, no authentication): auto serves it only without --credentials; on always; off never',
  },
  retentionSweepMs: {
    flag: '--retention-sweep-ms <ms>',
    env: 'TRIBUTARY_RETENTION_SWEEP_MS',
    help: 'how often every shard of every stream is trimmed to its retention period (reads also trim the shard they read)',
  },
  clockOffsetMs: {
    flag: '--clock-offset-ms <ms>',
    env: 'TRIBUTARY_CLOCK_OFFSET_MS',
    help:
      'testing only: run the server this many milliseconds ahead of the system clock (arrival times, retention, ' +
      'status delays); restarting with a larger offset makes retention expire records without waiting',
  },
  s3Port: { flag: '--s3-port <number|off>', env: 'TRIBUTARY_S3_PORT', help: 'port of the S3-compatible endpoint (same host and TLS); 0 picks a free one; off: none' },
  s3Endpoint: {
    flag: '--s3-endpoint <url>',
    env: 'TRIBUTARY_S3_ENDPOINT',
    help: "S3-compatible endpoint Tributary writes objects to (AWS credentials from the usual environment or profile); default: its own S3 port",
  },
};

function coerce<K extends keyof ServeConfig>(key: K, raw: unknown): ServeConfig[K] {
  const def = defaultConfig[key];
  if (key === 's3Port' && raw === 'off') return 'off' as ServeConfig[K];
  if (typeof def === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${configDocs[key].flag.split(' ')[0]}: not a valid number: ${raw}`);
    return n as ServeConfig[K];
  }
  const s = String(raw);
  if (key === 'fsync' && !['always', 'interval', 'never'].includes(s)) {
    throw new Error(`--fsync: must be always, interval or never, not ${s}`);
  }
  if (key === 'accountId' && !/^\d{12}$/.test(s)) throw new Error(`--account-id: must be 12 digits, not ${s}`);
  if (key === 'limits' && s !== 'on' && s !== 'off') throw new Error(`--limits: must be on or off, not ${s}`);
  if (key === 'metricsEndpoint' && !['auto', 'on', 'off'].includes(s)) {
    throw new Error(`--metrics-endpoint: must be auto, on or off, not ${s}`);
  }
  if (key === 'natsPrefix' && !/^[A-Za-z0-9-]+$/.test(s)) throw new Error(`--nats-prefix: letters, digits and - only, not ${s}`);
  if (key === 'storage' && s !== 'embedded' && s !== 'jetstream') throw new Error(`--storage: must be embedded or jetstream, not ${s}`);
  if (key === 'tls' && s !== 'off' && s !== 'self-signed') throw new Error(`--tls: must be off or self-signed, not ${s}`);
  if (key === 'controlPlaneRates') parseOperationRates(s);
  return s as ServeConfig[K];
}

/**
 * Settings come from flags, then the environment (TRIBUTARY_*), then a JSON config file, then the
 * defaults, in that order of precedence.
 */
export function resolveConfig(
  flags: Partial<Record<keyof ServeConfig, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): ServeConfig {
  const file: Record<string, unknown> = configFile ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
  const out = { ...defaultConfig };
  for (const key of Object.keys(defaultConfig) as (keyof ServeConfig)[]) {
    const raw = flags[key] ?? env[configDocs[key].env] ?? file[key];
    if (raw !== undefined && raw !== '') (out as Record<string, unknown>)[key] = coerce(key, raw);
  }
  return out;
}
