import { readFileSync } from 'node:fs';
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
};

function coerce<K extends keyof ServeConfig>(key: K, raw: unknown): ServeConfig[K] {
  const def = defaultConfig[key];
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
