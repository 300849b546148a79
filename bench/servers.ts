import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_TABLE } from './scenarios/firehose.js';
import { nowMs, sleep } from './util.js';

export type ServerKind = 'tributary' | 'kinesalite' | 'kinesis-mock';
export const SERVER_KINDS: readonly ServerKind[] = ['tributary', 'kinesalite', 'kinesis-mock'];

export interface RunningServer {
  kind: ServerKind;
  /** Name and version for reports. */
  label: string;
  endpoint: string;
  pid: number;
  dataDir: string;
  /** How the server was configured, for the JSON results. */
  config: Record<string, unknown>;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Keep the data directory after stopping. */
  keepData?: boolean;
  /**
   * Tributary's storage engine: embedded (default), or jetstream on three nats-servers started on
   * loopback with routes (JetStream, R3), with Tributary as one node on them.
   */
  engine?: 'embedded' | 'jetstream';
  /** Milliseconds to wait for the server to answer. */
  startTimeoutMs?: number;
}

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = new URL('./loopback-listen.js', import.meta.url).href;

/** Where the built Tributary CLI is expected. */
export function tributaryCliPath(): string {
  return join(here, '..', 'src', 'cli', 'main.js');
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * True when something at `endpoint` answers a Kinesis request as a Kinesis endpoint does (a JSON
 * or CBOR body, whatever the status): a server's other ports (Tributary's S3 endpoint answers in
 * XML) do not count.
 */
export function answers(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 80),
        method: 'POST',
        path: '/',
        agent: false,
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': 'Kinesis_20131202.ListStreams',
          Connection: 'close',
        },
        timeout: timeoutMs,
      },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        const kinesis = /json|cbor/.test(type);
        res.resume();
        res.on('end', () => resolve(kinesis));
        res.on('error', () => resolve(kinesis));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end('{}');
  });
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string };
    return pkg.version ?? '?';
  } catch {
    return '?';
  }
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** TCP ports a process is listening on, found through its socket inodes. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // descriptor closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue;
      ports.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  return [...ports];
}

interface Launch {
  kind: ServerKind;
  label: string;
  script: string;
  args: string[];
  env: Record<string, string>;
  dataDir: string;
  config: Record<string, unknown>;
  /** Known port, or null to discover it after start. */
  port: number | null;
}

async function launch(l: Launch, opts: StartOptions): Promise<RunningServer> {
  const logFile = join(l.dataDir, '..', `${l.kind}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--import', PRELOAD, l.script, ...l.args], {
      cwd: l.dataDir,
      env: { ...process.env, ...l.env },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited ??= `error ${err.message}`;
      resolve();
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    await exitedPromise;
    throw new Error(`could not start ${l.label}: ${exited ?? 'no process id'}`);
  }
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const root = dirname(l.dataDir);
  const waitExit = (ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      exitedPromise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const stop = async (): Promise<void> => {
    if (exited === null) {
      child.kill('SIGTERM');
      await waitExit(10_000);
      if (exited === null) {
        child.kill('SIGKILL');
        await waitExit(5_000);
      }
    }
    process.removeListener('exit', killOnExit);
    if (!opts.keepData) rmSync(root, { recursive: true, force: true });
  };

  const timeout = opts.startTimeoutMs ?? 60_000;
  const deadline = nowMs() + timeout;
  let endpoint: string | null = null;
  while (endpoint === null) {
    if (exited !== null) {
      const tail = logTail(logFile);
      await stop();
      throw new Error(`${l.label} exited (${exited}) before answering${tail ? `:\n${tail}` : ''}`);
    }
    if (nowMs() > deadline) {
      const tail = logTail(logFile);
      await stop();
      throw new Error(`${l.label} did not answer within ${timeout} ms${tail ? `:\n${tail}` : ''}`);
    }
    const candidates = l.port !== null ? [l.port] : listeningPorts(pid);
    for (const port of candidates) {
      const e = `http://127.0.0.1:${port}`;
      if (await answers(e, 500)) {
        endpoint = e;
        break;
      }
    }
    if (endpoint === null) await sleep(100);
  }

  return { kind: l.kind, label: l.label, endpoint, pid, dataDir: l.dataDir, config: l.config, logFile, stop };
}

function makeDirs(kind: ServerKind): string {
  const root = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const data = join(root, 'data');
  mkdirSync(data, { recursive: true });
  return data;
}

export async function startKinesalite(opts: StartOptions = {}): Promise<RunningServer> {
  const dataDir = makeDirs('kinesalite');
  const port = await freePort();
  const flags = {
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  };
  const args = ['--port', String(port), '--path', dataDir];
  for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, String(v));
  return launch(
    {
      kind: 'kinesalite',
      label: `kinesalite ${packageVersion('kinesalite')}`,
      script: require.resolve('kinesalite/cli.js'),
      args,
      env: {},
      dataDir,
      config: { storage: 'LevelDB on disk (--path)', ...flags },
      port,
    },
    opts,
  );
}

export async function startKinesisMock(opts: StartOptions = {}): Promise<RunningServer> {
  const dataDir = makeDirs('kinesis-mock');
  const main = require.resolve('kinesis-local/main.js');
  const plainPort = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === plainPort) tlsPort = await freePort();
  const env: Record<string, string> = {
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    KINESIS_MOCK_CERT_PATH: join(dirname(main), 'server.json'),
    CREATE_STREAM_DURATION: '0ms',
    DELETE_STREAM_DURATION: '0ms',
    UPDATE_SHARD_COUNT_DURATION: '0ms',
    SHARD_LIMIT: '1000',
    SHOULD_PERSIST_DATA: 'true',
    LOAD_DATA_IF_EXISTS: 'true',
    PERSIST_PATH: dataDir,
    PERSIST_INTERVAL: '5s',
    LOG_LEVEL: 'WARN',
  };
  return launch(
    {
      kind: 'kinesis-mock',
      label: `kinesis-mock ${packageVersion('kinesis-local')}`,
      script: main,
      args: [],
      env,
      dataDir,
      config: {
        storage: 'in memory, JSON snapshot to disk every PERSIST_INTERVAL',
        ...Object.fromEntries(Object.entries(env).filter(([k]) => !/PORT|CERT|PERSIST_PATH/.test(k))),
      },
      port: plainPort,
    },
    opts,
  );
}

export async function startTributary(opts: StartOptions = {}): Promise<RunningServer> {
  const cli = tributaryCliPath();
  if (!existsSync(cli)) {
    throw new Error(`the Tributary CLI is not built (expected ${cli}); run \`npm run build\` first`);
  }
  const dataDir = makeDirs('tributary');
  let version = '?';
  try {
    const pkg = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    version = pkg.version ?? '?';
  } catch {
    // keep '?'
  }
  if (opts.engine === 'jetstream') return startTributaryOnJetStream(cli, version, dataDir, opts);
  // The Firehose scenario's Parquet stream converts to this table.
  const schemaFile = join(dataDir, '..', 'bench-schema.json');
  writeFileSync(schemaFile, JSON.stringify(BENCH_TABLE));
  return launch(
    {
      kind: 'tributary',
      label: `tributary ${version}`,
      script: cli,
      // Benchmarks measure the server, not AWS's per-shard quotas: limits are off.
      args: ['serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--limits', 'off', '--schema-file', schemaFile],
      env: {},
      dataDir,
      config: { args: 'serve --port 0 --data-dir <tmp> --limits off --schema-file <bench.events>' },
      port: null,
    },
    opts,
  );
}

/** The nats-server binary: on PATH, or where Debian installs it. */
function natsServerBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  throw new Error('nats-server is not installed (apt-get install nats-server); --engine jetstream needs it');
}

/**
 * Three nats-servers on loopback, clustered with routes, JetStream on each (file store in the
 * run's temporary directory); resolves once JetStream answers on every one.
 */
async function startNatsCluster(root: string): Promise<{ urls: string[]; config: Record<string, unknown>; stop(): Promise<void> }> {
  const binary = natsServerBinary();
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  const killOnExit = (): void => {
    for (const c of children) c.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  for (let i = 0; i < 3; i++) {
    const dir = join(root, `nats-${i + 1}`);
    mkdirSync(dir, { recursive: true });
    const routes = routePorts.filter((_, j) => j !== i).map((p) => `"nats-route://127.0.0.1:${p}"`);
    const conf = join(dir, 'nats.conf');
    writeFileSync(
      conf,
      [
        `server_name: n${i + 1}`,
        `listen: "127.0.0.1:${clientPorts[i]}"`,
        'max_payload: 8MB',
        `jetstream { store_dir: "${join(dir, 'store')}" }`,
        `cluster { name: bench, listen: "127.0.0.1:${routePorts[i]}", routes: [${routes.join(', ')}] }`,
        '',
      ].join('\n'),
    );
    const fd = openSync(join(dir, 'nats.log'), 'a');
    try {
      children.push(spawn(binary, ['-c', conf], { stdio: ['ignore', fd, fd] }));
    } finally {
      closeSync(fd);
    }
  }
  const urls = clientPorts.map((p) => `nats://127.0.0.1:${p}`);
  // JetStream is ready once its meta group has a leader: account info then answers.
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const deadline = nowMs() + 60_000;
  for (;;) {
    try {
      const nc = await connect({ servers: urls, timeout: 1000 });
      try {
        await jetstreamManager(nc, { timeout: 1000 });
      } finally {
        await nc.close();
      }
      break;
    } catch (err) {
      if (nowMs() > deadline) {
        await stop();
        throw new Error(`the nats-servers did not become ready: ${(err as Error).message}`);
      }
      await sleep(250);
    }
  }
  return {
    urls,
    config: { natsServers: 3, jetstream: 'file store, R3, routes on loopback', natsServerBinary: binary },
    async stop() {
      await stop();
      process.removeListener('exit', killOnExit);
    },
  };
}

async function startTributaryOnJetStream(cli: string, version: string, dataDir: string, opts: StartOptions): Promise<RunningServer> {
  const nats = await startNatsCluster(join(dataDir, '..'));
  const args = ['serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--limits', 'off', '--storage', 'jetstream', '--nats', nats.urls.join(','), '--nats-replicas', '3'];
  let server: RunningServer;
  try {
    // The temporary directory (and the nats-servers' stores in it) goes when Tributary stops: keep
    // it until the nats-servers have stopped too.
    server = await launch(
      {
        kind: 'tributary',
        label: `tributary ${version} (jetstream, 3 nats-servers, R3)`,
        script: cli,
        args,
        env: {},
        dataDir,
        config: { args: 'serve --port 0 --data-dir <tmp> --limits off --storage jetstream --nats <3 urls> --nats-replicas 3', ...nats.config },
        port: null,
      },
      { ...opts, keepData: true },
    );
  } catch (err) {
    await nats.stop();
    if (!opts.keepData) rmSync(dirname(dataDir), { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    async stop() {
      await server.stop();
      await nats.stop();
      if (!opts.keepData) rmSync(dirname(dataDir), { recursive: true, force: true });
    },
  };
}

function startOnce(kind: ServerKind, opts: StartOptions): Promise<RunningServer> {
  switch (kind) {
    case 'tributary':
      return startTributary(opts);
    case 'kinesalite':
      return startKinesalite(opts);
    case 'kinesis-mock':
      return startKinesisMock(opts);
  }
}

/**
 * Starts a server as a child process on a free loopback port and waits until
 * it answers. A port taken between choosing and binding it gets one more try.
 */
export async function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<RunningServer> {
  try {
    return await startOnce(kind, opts);
  } catch (err) {
    if (!/EADDRINUSE/.test(String((err as Error)?.message ?? err))) throw err;
    return startOnce(kind, opts);
  }
}
