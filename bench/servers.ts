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
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** True when something at `endpoint` gives any HTTP answer to a Kinesis request. */
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
        res.resume();
        res.on('end', () => resolve(true));
        res.on('error', () => resolve(true));
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
  return launch(
    {
      kind: 'tributary',
      label: `tributary ${version}`,
      script: cli,
      // Benchmarks measure the server, not AWS's per-shard quotas: limits are off.
      args: ['serve', '--port', '0', '--data-dir', dataDir, '--limits', 'off'],
      env: {},
      dataDir,
      config: { args: 'serve --port 0 --data-dir <tmp> --limits off' },
      port: null,
    },
    opts,
  );
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
