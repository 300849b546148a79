import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { defaultConfig, type ServeConfig } from '../../src/settings/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import type { Clock } from '../../src/util/clock.js';
import { startNatsServer, type NatsServer } from '../storage/jetstream/nats-server.js';

export function tempDir(prefix = 'tributary-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface TestServer extends RunningServer {
  dataDir: string;
  client(extra?: Partial<KinesisClientConfig>): KinesisClient;
  /** Closes the server and removes its data directory. */
  destroy(): Promise<void>;
}

/**
 * The storage engine test servers use: TRIBUTARY_TEST_ENGINE=jetstream runs them on a nats-server
 * started once per test process (each data directory gets its own names in it, so a server that
 * restarts on the same directory finds its streams again).
 */
export const testEngine = process.env.TRIBUTARY_TEST_ENGINE === 'jetstream' ? 'jetstream' : 'embedded';

let natsServer: Promise<NatsServer> | undefined;

function sharedNatsServer(): Promise<NatsServer> {
  natsServer ??= startNatsServer().then((nats) => {
    nats.unref();
    process.once('exit', () => nats.destroySync());
    return nats;
  });
  return natsServer;
}

/** The settings that put a test server on the test engine. */
export async function engineConfig(dataDir: string): Promise<Partial<ServeConfig>> {
  if (testEngine !== 'jetstream') return {};
  const nats = await sharedNatsServer();
  const prefix = `T${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`;
  return { storage: 'jetstream', nats: nats.url, natsPrefix: prefix };
}

/** Starts a real server in this process on an ephemeral loopback port with a temp data directory. */
export async function startTestServer(
  overrides: Partial<ServeConfig> = {},
  opts: { clock?: Clock; dataDir?: string; logger?: pino.Logger } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const config: ServeConfig = {
    ...defaultConfig,
    port: 0,
    s3Port: 0,
    host: '127.0.0.1',
    dataDir,
    createStreamDelayMs: 0,
    deleteStreamDelayMs: 0,
    createDeliveryStreamDelayMs: 0,
    // Tests that are not about throughput limits must not trip them; those that are turn them on.
    limits: 'off',
    ...(overrides.storage ? {} : await engineConfig(dataDir)),
    ...overrides,
  };
  const server = await startServer(config, { clock: opts.clock, logger: opts.logger ?? pino({ level: process.env.TEST_LOG ?? 'silent' }) });
  const clients: KinesisClient[] = [];
  return {
    ...server,
    dataDir,
    client(extra = {}) {
      const c = kinesisClient(server.endpoint, extra);
      clients.push(c);
      return c;
    },
    async destroy() {
      for (const c of clients) c.destroy();
      await server.close();
      if (!opts.dataDir) removeDir(dataDir);
    },
  };
}

export function kinesisClient(endpoint: string, extra: Partial<KinesisClientConfig> = {}): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
    ...extra,
  });
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, next to the compiled tests. */
export const CLI = path.resolve(here, '../../src/cli/main.js');

export interface ChildServer {
  child: ChildProcess;
  port: number;
  endpoint: string;
  /** The S3 endpoint, unless the server was started without one. */
  s3Endpoint?: string;
  exited: Promise<number | null>;
}

/** Runs `tributary serve` as a child process (for crash tests) and waits until it listens. */
export async function spawnServer(dataDir: string, args: string[] = []): Promise<ChildServer> {
  const engine = await engineConfig(dataDir);
  const engineArgs = engine.storage ? ['--storage', engine.storage, '--nats', String(engine.nats), '--nats-prefix', String(engine.natsPrefix)] : [];
  return spawnChild(dataDir, [...engineArgs, ...args]);
}

function spawnChild(dataDir: string, args: string[]): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--create-stream-ms', '0', '--delete-stream-ms', '0', '--limits', 'off', '--log-level', 'warn', ...args],
    { env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        const port = Number(m[1]);
        const s3 = /TRIBUTARY_S3_LISTENING (\d+)/.exec(out);
        resolve({ child, port, endpoint: `http://127.0.0.1:${port}`, exited, ...(s3 ? { s3Endpoint: `http://127.0.0.1:${s3[1]}` } : {}) });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
  });
}

export interface CliServer {
  child: ChildProcess;
  port: number;
  endpoint: string;
  /** The S3 endpoint's port, unless it is off. */
  s3Port?: number;
  /** Everything the server has written to stdout so far. */
  stdout(): string;
  /** Sends SIGTERM and resolves with the exit code once the server has stopped. */
  stop(): Promise<number | null>;
}

/**
 * Runs `tributary serve <args>` as a child process, under `umask` when given (through sh), with
 * its stdout captured, and waits until it listens. Nothing is added to `args` but the port
 * announcement (TRIBUTARY_ANNOUNCE=1).
 */
export function spawnCli(args: string[], opts: { umask?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliServer> {
  const command = [CLI, 'serve', ...args];
  const child =
    opts.umask === undefined
      ? spawn(process.execPath, command, { env: { ...process.env, ...opts.env, TRIBUTARY_ANNOUNCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('sh', ['-c', `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, ...command], {
          env: { ...process.env, ...opts.env, TRIBUTARY_ANNOUNCE: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      const port = Number(m[1]);
      const s3 = /TRIBUTARY_S3_LISTENING (\d+)/.exec(out);
      resolve({
        child,
        port,
        endpoint: `http://127.0.0.1:${port}`,
        ...(s3 ? { s3Port: Number(s3[1]) } : {}),
        stdout: () => out,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}${err}`)));
  });
}
