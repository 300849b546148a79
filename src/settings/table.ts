import { parseLambdaFunctions } from '../firehose/lambda-functions.js';
import { parseRedshiftHosts } from '../delivery/destinations/redshift-copy.js';
import { parseOperationRates } from '../kinesis/limits/control-plane.js';
import { checked, integer, matching, nonNegative, oneOf, text, type Parser } from './parsers.js';

/** The part of the server a setting configures; `serve --help` and the README group by it. */
export type SettingPart = 'listener' | 'tls' | 'requests' | 'storage' | 'jetstream' | 's3' | 'account' | 'kinesis' | 'limits' | 'firehose' | 'auth' | 'encryption' | 'metrics';

/** Headings of the parts, in the order they are shown. */
export const partHeadings: Readonly<Record<SettingPart, string>> = {
  listener: 'Listener',
  tls: 'HTTPS',
  requests: 'Requests and logs',
  storage: 'Storage',
  jetstream: 'JetStream storage',
  s3: 'Object storage (S3)',
  account: 'Account',
  kinesis: 'Kinesis',
  limits: 'Kinesis limits',
  firehose: 'Firehose',
  auth: 'Authentication',
  encryption: 'Encryption at rest',
  metrics: 'Metrics',
};

/** One setting of `tributary serve`. */
export interface Setting<T> {
  part: SettingPart;
  /** The flag with its value name, as commander takes it: `--data-dir <path>`. */
  flag: string;
  /** The environment variable. */
  env: string;
  default: T;
  /** Shown instead of the default value where the value alone would mislead ('' meaning none). */
  defaultText?: string;
  /** One line; `code` in backticks (the README keeps them, `--help` drops them). */
  help: string;
  parse: Parser<T>;
}

/** A setting, its type taken from its parser (so that `oneOf('on', 'off')` types it 'on' | 'off'). */
function setting<T>(s: Omit<Setting<T>, 'default'> & { default: NoInfer<T> }): Setting<T> {
  return s;
}

const MiB = 1024 * 1024;
const ms = nonNegative;
const count = nonNegative;
const bytes = nonNegative;

/**
 * Every setting of `tributary serve`, declared once. The keys are those of the config file and of
 * `startServer()`; flags, variables and defaults are part of the interface scripts rely on.
 */
export const serveSettings = {
  host: setting({ part: 'listener', flag: '--host <address>', env: 'TRIBUTARY_HOST', default: '127.0.0.1', help: 'address to listen on', parse: text }),
  port: setting({
    part: 'listener',
    flag: '--port <number>',
    env: 'TRIBUTARY_PORT',
    default: 4567,
    help: 'port for HTTP/1.1 and HTTP/2 (h2c); 0 picks a free one',
    parse: integer(0, 65535),
  }),
  requestTimeoutMs: setting({
    part: 'listener',
    flag: '--request-timeout-ms <ms>',
    env: 'TRIBUTARY_REQUEST_TIMEOUT_MS',
    default: 120_000,
    help: 'time a client has to send a whole request (headers and body), over HTTP/1.1 (408) or HTTP/2 (408, or the stream is reset); 0 for none',
    parse: ms,
  }),
  headersTimeoutMs: setting({
    part: 'listener',
    flag: '--headers-timeout-ms <ms>',
    env: 'TRIBUTARY_HEADERS_TIMEOUT_MS',
    default: 60_000,
    help: "time an HTTP/1.1 client has to send a request's headers, and any client its first bytes or its TLS handshake",
    parse: ms,
  }),
  idleTimeoutMs: setting({
    part: 'listener',
    flag: '--idle-timeout-ms <ms>',
    env: 'TRIBUTARY_IDLE_TIMEOUT_MS',
    default: 120_000,
    help:
      'a connection with no traffic for this long is closed: an HTTP/2 one with no request or response traffic (pings do not count), ' +
      'an HTTP/1.1 one whose response makes no progress (the client stopped reading); 0 for never',
    parse: ms,
  }),
  keepAliveTimeoutMs: setting({
    part: 'listener',
    flag: '--keep-alive-timeout-ms <ms>',
    env: 'TRIBUTARY_KEEP_ALIVE_TIMEOUT_MS',
    default: 65_000,
    help: 'an HTTP/1.1 connection waiting for its next request is closed after this long',
    parse: ms,
  }),
  maxHeaderBytes: setting({
    part: 'listener',
    flag: '--max-header-bytes <bytes>',
    env: 'TRIBUTARY_MAX_HEADER_BYTES',
    default: 64 * 1024,
    help: 'largest request head: HTTP/1.1 gets 431 beyond it, an HTTP/2 stream is refused',
    parse: bytes,
  }),
  maxConnections: setting({
    part: 'listener',
    flag: '--max-connections <count>',
    env: 'TRIBUTARY_MAX_CONNECTIONS',
    default: 10_000,
    help:
      'connections held at once; beyond it new ones are closed as they arrive; never more than the open-file limit (`ulimit -n`) ' +
      'less 128 descriptors kept for files; 0 for that bound only',
    parse: count,
  }),
  maxConcurrentStreams: setting({
    part: 'listener',
    flag: '--max-concurrent-streams <count>',
    env: 'TRIBUTARY_MAX_CONCURRENT_STREAMS',
    default: 1_000,
    help: 'requests (SubscribeToShard streams included) one HTTP/2 connection may have open at once',
    parse: count,
  }),
  maxUnsentBytes: setting({
    part: 'listener',
    flag: '--max-unsent-bytes <bytes>',
    env: 'TRIBUTARY_MAX_UNSENT_BYTES',
    default: 256 * MiB,
    help:
      'response bytes held, over all connections, for clients that do not read them; beyond it the connections (HTTP/2: streams) ' +
      'whose responses made no progress are dropped, most behind first; 0 for no limit',
    parse: bytes,
  }),
  tls: setting({
    part: 'tls',
    flag: '--tls <mode>',
    env: 'TRIBUTARY_TLS',
    default: 'off',
    help:
      '`off`: plain HTTP unless `--tls-cert`/`--tls-key` are given; `self-signed`: HTTPS with a certificate made once (with openssl) ' +
      'and kept in `<data-dir>/tls` (see HTTPS)',
    parse: oneOf('off', 'self-signed'),
  }),
  tlsCert: setting({
    part: 'tls',
    flag: '--tls-cert <file>',
    env: 'TRIBUTARY_TLS_CERT',
    default: '',
    defaultText: '(none)',
    help: 'PEM certificate (chain) to serve HTTPS with, HTTP/2 and HTTP/1.1 by ALPN on the same port; plaintext is then refused',
    parse: text,
  }),
  tlsKey: setting({
    part: 'tls',
    flag: '--tls-key <file>',
    env: 'TRIBUTARY_TLS_KEY',
    default: '',
    defaultText: '(none)',
    help: 'PEM private key of `--tls-cert`',
    parse: text,
  }),
  maxBodyBytes: setting({
    part: 'requests',
    flag: '--max-body-bytes <bytes>',
    env: 'TRIBUTARY_MAX_BODY_BYTES',
    default: 16 * MiB,
    help: 'largest request body accepted (413 beyond)',
    parse: bytes,
  }),
  maxReadBytes: setting({
    part: 'requests',
    flag: '--max-read-bytes <bytes>',
    env: 'TRIBUTARY_MAX_READ_BYTES',
    default: 128 * MiB,
    help:
      'memory that GetRecords responses being read, encoded and sent may hold at once, over all clients (about 2.4 times ' +
      "their records' bytes); beyond it a read gets a smaller batch or waits its turn, and one that waits 5 s is answered " +
      'ProvisionedThroughputExceededException; 0 for no limit',
    parse: bytes,
  }),
  logLevel: setting({
    part: 'requests',
    flag: '--log-level <level>',
    env: 'TRIBUTARY_LOG_LEVEL',
    default: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  }),
  logFormat: setting({
    part: 'requests',
    flag: '--log-format <format>',
    env: 'TRIBUTARY_LOG_FORMAT',
    default: 'auto',
    help: '`pretty`: one readable line per event; `json`: one JSON object per line (pino); `auto`: pretty when stdout is a terminal, JSON otherwise',
    parse: oneOf('auto', 'pretty', 'json'),
  }),
  dataDir: setting({ part: 'storage', flag: '--data-dir <path>', env: 'TRIBUTARY_DATA_DIR', default: './data', help: 'where streams are stored', parse: text }),
  storage: setting({
    part: 'storage',
    flag: '--storage <engine>',
    env: 'TRIBUTARY_STORAGE',
    default: 'embedded',
    help: '`embedded`: segment files and a SQLite catalog in `--data-dir`; `jetstream`: a NATS JetStream cluster (see JetStream storage)',
    parse: oneOf('embedded', 'jetstream'),
  }),
  fsync: setting({
    part: 'storage',
    flag: '--fsync <mode>',
    env: 'TRIBUTARY_FSYNC',
    default: 'always',
    help:
      '`always`: a put is acknowledged only once on disk; `interval`: fsync every `--fsync-interval-ms`; `never`: leave it to the OS ' +
      '(see Durability)',
    parse: oneOf('always', 'interval', 'never'),
  }),
  fsyncIntervalMs: setting({
    part: 'storage',
    flag: '--fsync-interval-ms <ms>',
    env: 'TRIBUTARY_FSYNC_INTERVAL_MS',
    default: 1000,
    help: 'fsync period in `interval` mode',
    parse: ms,
  }),
  segmentBytes: setting({
    part: 'storage',
    flag: '--segment-bytes <bytes>',
    env: 'TRIBUTARY_SEGMENT_BYTES',
    default: 64 * MiB,
    help: "size at which a shard's log rolls to a new segment file",
    parse: bytes,
  }),
  nats: setting({
    part: 'jetstream',
    flag: '--nats <urls>',
    env: 'TRIBUTARY_NATS',
    default: 'nats://127.0.0.1:4222',
    help: "comma-separated `nats://` URLs of the JetStream cluster (`--storage jetstream`); its max_payload bounds one append to a shard",
    parse: text,
  }),
  natsReplicas: setting({
    part: 'jetstream',
    flag: '--nats-replicas <count>',
    env: 'TRIBUTARY_NATS_REPLICAS',
    default: 0,
    defaultText: '0 (auto)',
    help: 'replicas of the JetStream streams and buckets; 0 picks 3, or 1 when the cluster has a single server',
    parse: count,
  }),
  natsPrefix: setting({
    part: 'jetstream',
    flag: '--nats-prefix <name>',
    env: 'TRIBUTARY_NATS_PREFIX',
    default: 'TRIB',
    help: 'starts the names of the JetStream streams and buckets, so several deployments can share a cluster',
    parse: matching(/^[A-Za-z0-9-]+$/, 'must be letters, digits and - only'),
  }),
  region: setting({ part: 'account', flag: '--region <region>', env: 'TRIBUTARY_REGION', default: 'us-east-1', help: 'region used in ARNs', parse: text }),
  accountId: setting({
    part: 'account',
    flag: '--account-id <id>',
    env: 'TRIBUTARY_ACCOUNT_ID',
    default: '000000000000',
    help: '12-digit account id used in ARNs and messages',
    parse: matching(/^\d{12}$/, 'must be 12 digits'),
  }),
  createStreamDelayMs: setting({
    part: 'kinesis',
    flag: '--create-stream-ms <ms>',
    env: 'TRIBUTARY_CREATE_STREAM_MS',
    default: 100,
    help: 'how long a new stream stays CREATING',
    parse: ms,
  }),
  deleteStreamDelayMs: setting({
    part: 'kinesis',
    flag: '--delete-stream-ms <ms>',
    env: 'TRIBUTARY_DELETE_STREAM_MS',
    default: 100,
    help: 'how long a deleted stream stays DELETING',
    parse: ms,
  }),
  updateStreamDelayMs: setting({
    part: 'kinesis',
    flag: '--update-stream-ms <ms>',
    env: 'TRIBUTARY_UPDATE_STREAM_MS',
    default: 100,
    help:
      'how long a stream stays UPDATING after SplitShard, MergeShards, UpdateShardCount, UpdateStreamMode, ' +
      'StartStreamEncryption, StopStreamEncryption or UpdateStreamWarmThroughput',
    parse: ms,
  }),
  consumerDelayMs: setting({
    part: 'kinesis',
    flag: '--consumer-status-ms <ms>',
    env: 'TRIBUTARY_CONSUMER_STATUS_MS',
    default: 100,
    help: 'how long a registered consumer stays CREATING, and a deregistered one DELETING',
    parse: ms,
  }),
  subscriptionHeartbeatMs: setting({
    part: 'kinesis',
    flag: '--subscribe-heartbeat-ms <ms>',
    env: 'TRIBUTARY_SUBSCRIBE_HEARTBEAT_MS',
    default: 2_000,
    help: 'longest silence on an idle SubscribeToShard stream before an empty event (the Java SDK times out after 10 s)',
    parse: ms,
  }),
  subscriptionLifetimeMs: setting({
    part: 'kinesis',
    flag: '--subscribe-lifetime-ms <ms>',
    env: 'TRIBUTARY_SUBSCRIBE_LIFETIME_MS',
    default: 300_000,
    help: 'how long a SubscribeToShard subscription lasts before the server ends it (AWS: 5 minutes)',
    parse: ms,
  }),
  retentionSweepMs: setting({
    part: 'kinesis',
    flag: '--retention-sweep-ms <ms>',
    env: 'TRIBUTARY_RETENTION_SWEEP_MS',
    default: 60_000,
    help: 'how often every shard of every stream is trimmed to its retention period (reads also trim the shard they read)',
    parse: ms,
  }),
  clockOffsetMs: setting({
    part: 'kinesis',
    flag: '--clock-offset-ms <ms>',
    env: 'TRIBUTARY_CLOCK_OFFSET_MS',
    default: 0,
    help:
      'testing only: run the server this many ms ahead of the system clock (arrival times, retention, status delays), ' +
      'so that retention expires records without waiting',
    parse: ms,
  }),
  shardLimit: setting({
    part: 'limits',
    flag: '--shard-limit <count>',
    env: 'TRIBUTARY_SHARD_LIMIT',
    default: 200,
    help: "the account's shard quota",
    parse: count,
  }),
  onDemandStreamLimit: setting({
    part: 'limits',
    flag: '--on-demand-stream-limit <count>',
    env: 'TRIBUTARY_ON_DEMAND_STREAM_LIMIT',
    default: 50,
    help: "the account's quota of ON_DEMAND streams",
    parse: count,
  }),
  limits: setting({
    part: 'limits',
    flag: '--limits <on|off>',
    env: 'TRIBUTARY_LIMITS',
    default: 'on',
    help: '`on`: enforce the throughput and call-rate limits below, as AWS does; `off`: none of them (development, benchmarks)',
    parse: oneOf('on', 'off'),
  }),
  shardWriteBytesPerSecond: setting({
    part: 'limits',
    flag: '--shard-write-bytes <bytes>',
    env: 'TRIBUTARY_SHARD_WRITE_BYTES',
    default: MiB,
    help: 'bytes (data and partition keys) per second one shard accepts; 0 for no limit',
    parse: bytes,
  }),
  shardWriteRecordsPerSecond: setting({
    part: 'limits',
    flag: '--shard-write-records <count>',
    env: 'TRIBUTARY_SHARD_WRITE_RECORDS',
    default: 1000,
    help: 'records per second one shard accepts; 0 for no limit',
    parse: count,
  }),
  shardWriteBurstBytes: setting({
    part: 'limits',
    flag: '--shard-write-burst-bytes <bytes>',
    env: 'TRIBUTARY_SHARD_WRITE_BURST_BYTES',
    default: 10 * MiB,
    help: 'bytes one shard accepts at once before the per-second write rate applies',
    parse: bytes,
  }),
  shardReadBytesPerSecond: setting({
    part: 'limits',
    flag: '--shard-read-bytes <bytes>',
    env: 'TRIBUTARY_SHARD_READ_BYTES',
    default: 2 * MiB,
    help: 'bytes per second GetRecords returns from one shard; 0 for no limit',
    parse: bytes,
  }),
  shardReadCallsPerSecond: setting({
    part: 'limits',
    flag: '--shard-read-calls <count>',
    env: 'TRIBUTARY_SHARD_READ_CALLS',
    default: 5,
    help: 'GetRecords calls per second on one shard; 0 for no limit',
    parse: count,
  }),
  shardIteratorCallsPerSecond: setting({
    part: 'limits',
    flag: '--shard-iterator-calls <count>',
    env: 'TRIBUTARY_SHARD_ITERATOR_CALLS',
    default: 5,
    help: 'GetShardIterator calls per second on one shard; 0 for no limit',
    parse: count,
  }),
  fanOutReadBytesPerSecond: setting({
    part: 'limits',
    flag: '--fan-out-read-bytes <bytes>',
    env: 'TRIBUTARY_FAN_OUT_READ_BYTES',
    default: 2 * MiB,
    help: 'bytes per second one consumer may read from one shard over SubscribeToShard (AWS: 2 MiB); 0 (or `--limits off`) for no limit',
    parse: bytes,
  }),
  controlPlaneRates: setting({
    part: 'limits',
    flag: '--control-plane-rates <list>',
    env: 'TRIBUTARY_CONTROL_PLANE_RATES',
    default: '',
    defaultText: "(AWS's rates)",
    help: '`Operation=calls-per-second` pairs, comma-separated, replacing the rate of those operations; 0 for no limit',
    parse: checked(parseOperationRates),
  }),
  createDeliveryStreamDelayMs: setting({
    part: 'firehose',
    flag: '--create-delivery-stream-ms <ms>',
    env: 'TRIBUTARY_CREATE_DELIVERY_STREAM_MS',
    default: 100,
    help: 'how long a new delivery stream stays CREATING (and a deleted one DELETING)',
    parse: ms,
  }),
  deliveryStreamLimit: setting({
    part: 'firehose',
    flag: '--delivery-stream-limit <count>',
    env: 'TRIBUTARY_DELIVERY_STREAM_LIMIT',
    default: 5000,
    help: 'delivery streams per account (AWS: 5,000)',
    parse: count,
  }),
  schemaFile: setting({
    part: 'firehose',
    flag: '--schema-file <file>',
    env: 'TRIBUTARY_SCHEMA_FILE',
    default: '',
    defaultText: '(none)',
    help:
      'JSON file of Glue tables (what `aws glue get-table` or `get-tables` prints) that record format conversion takes its schemas from, in place of the Glue Data Catalog',
    parse: text,
  }),
  httpEndpointCa: setting({
    part: 'firehose',
    flag: '--http-endpoint-ca <file>',
    env: 'TRIBUTARY_HTTP_ENDPOINT_CA',
    default: '',
    defaultText: "(Node's root certificates)",
    help: 'PEM file of certificates that HTTP endpoint destinations trust besides the root certificates (an endpoint with a private or self-signed certificate)',
    parse: text,
  }),
  lambdaFunctions: setting({
    part: 'firehose',
    flag: '--lambda-functions <list>',
    env: 'TRIBUTARY_LAMBDA_FUNCTIONS',
    default: '',
    defaultText: '(none)',
    help:
      'the functions Lambda processors invoke, as `name-or-ARN=module-or-URL` pairs, comma-separated: an http(s) URL is POSTed the event JSON (like a function URL); ' +
      'anything else is an ES module whose default export (or `handler`) is `async (event, context) => result`',
    parse: checked(parseLambdaFunctions),
  }),
  redshiftHosts: setting({
    part: 'firehose',
    flag: '--redshift-hosts <list>',
    env: 'TRIBUTARY_REDSHIFT_HOSTS',
    default: '',
    defaultText: '(the JDBC URL as is)',
    help:
      '`redshift-host=postgres-host[:port]` pairs, comma-separated: the PostgreSQL server a Redshift destination whose ClusterJDBCURL names that host (or cluster, its first label) loads into; other URLs connect to their host, port and database',
    parse: checked(parseRedshiftHosts),
  }),
  credentials: setting({
    part: 'auth',
    flag: '--credentials <file>',
    env: 'TRIBUTARY_CREDENTIALS',
    default: '',
    defaultText: '(none: development mode)',
    help:
      'JSON file of access keys, their principals and IAM policies (`[{ accessKeyId, secretAccessKey, principal, sessionTokens?, policies? }]`); ' +
      'with it SigV4 signatures are verified and requests authorized; without it any well-formed signature is accepted (see Authentication)',
    parse: text,
  }),
  masterKeyFile: setting({
    part: 'encryption',
    flag: '--master-key-file <file>',
    env: 'TRIBUTARY_MASTER_KEY_FILE',
    default: '',
    defaultText: '(none: generated)',
    help: 'master key for encryption at rest: 32 random bytes in base64; without it one is generated in `--key-dir` (see Encryption at rest)',
    parse: text,
  }),
  keyDir: setting({
    part: 'encryption',
    flag: '--key-dir <path>',
    env: 'TRIBUTARY_KEY_DIR',
    default: '',
    defaultText: '<data-dir>/keys',
    help: 'where a generated master key is kept (`master.key`, mode 0600, directory 0700), apart from the segment files',
    parse: text,
  }),
  metricsRetentionHours: setting({
    part: 'metrics',
    flag: '--metrics-retention-hours <hours>',
    env: 'TRIBUTARY_METRICS_RETENTION_HOURS',
    default: 3,
    help: 'how long the one-minute stream and shard metrics are kept (see Metrics)',
    parse: nonNegative,
  }),
  s3Port: setting<number | 'off'>({
    part: 's3',
    flag: '--s3-port <number|off>',
    env: 'TRIBUTARY_S3_PORT',
    default: 4568,
    help: 'port of the S3-compatible endpoint (same host and TLS as the main port); 0 picks a free one; `off`: none',
    parse: (raw) => (String(raw).trim() === 'off' ? 'off' : integer(0, 65535)(raw)),
  }),
  s3Endpoint: setting({
    part: 's3',
    flag: '--s3-endpoint <url>',
    env: 'TRIBUTARY_S3_ENDPOINT',
    default: '',
    defaultText: '(its own S3 port)',
    help: 'S3-compatible endpoint Tributary writes objects to, with the usual AWS credential variables or profile',
    parse: text,
  }),
  metricsEndpoint: setting({
    part: 'metrics',
    flag: '--metrics-endpoint <auto|on|off>',
    env: 'TRIBUTARY_METRICS_ENDPOINT',
    default: 'auto',
    help: 'GET /metrics (Prometheus, no authentication): `auto` serves it only without `--credentials`; `on` always; `off` never',
    parse: oneOf('auto', 'on', 'off'),
  }),
};

export type SettingKey = keyof typeof serveSettings;

/** Every setting of `tributary serve`, typed by its parser. */
export type ServeConfig = { [K in SettingKey]: (typeof serveSettings)[K] extends Setting<infer T> ? T : never };

/** The keys in the order of the table (grouped by part). */
export const settingKeys = Object.keys(serveSettings) as SettingKey[];

/** The flag's name without its value: `--data-dir`. */
export function flagName(key: SettingKey): string {
  return serveSettings[key].flag.split(' ')[0]!;
}

export const defaultConfig: Readonly<ServeConfig> = Object.freeze(
  Object.fromEntries(settingKeys.map((key) => [key, serveSettings[key].default])) as ServeConfig,
);
