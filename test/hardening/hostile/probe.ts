import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { CLI } from '../../helpers/server.js';

/** Resident memory (MiB) and open file descriptors of a process, read from /proc. */
export interface ProcSample {
  rssMiB: number;
  fds: number;
}

export function sampleProc(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return { rssMiB: m ? Number(m[1]) / 1024 : 0, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** How many of the process's descriptors are files under `dir` (say, a data directory's segment files). */
export function filesOpenUnder(pid: number, dir: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (bounded) until `predicate` holds, polling every `everyMs`; returns whether it did. */
export async function waitFor(predicate: () => boolean, ms: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  port: number;
  endpoint: string;
  /** Everything the server wrote to stderr (warnings and errors: it runs at --log-level warn). */
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Runs `tributary serve` as a child process, optionally under a lower open-file limit (prlimit),
 * and waits until it listens.
 */
export function spawnTributary(dataDir: string, args: string[], opts: { nofile?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Spawned> {
  const serve = [CLI, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--create-stream-ms', '0', '--delete-stream-ms', '0', '--log-level', 'warn', ...args];
  const [cmd, argv] = opts.nofile
    ? ['prlimit', [`--nofile=${opts.nofile}:${opts.nofile}`, process.execPath, ...serve]]
    : [process.execPath, serve];
  const child = spawn(cmd as string, argv as string[], {
    env: { ...process.env, ...opts.env, TRIBUTARY_ANNOUNCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      const port = Number(m[1]);
      resolve({
        child,
        pid: child.pid!,
        port,
        endpoint: `http://127.0.0.1:${port}`,
        stderr: () => err,
        exited,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}${err}`)));
  });
}

/** Latency figures of a run of requests, in milliseconds. */
export interface LatencySummary {
  requests: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(ms: readonly number[]): LatencySummary {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { requests: s.length, p50: r(at(0.5)), p99: r(at(0.99)), max: r(s.length ? s[s.length - 1]! : 0) };
}

export function formatLatency(l: LatencySummary): string {
  return `${l.requests} requests, p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`;
}

/** A request that takes longer than this is taken for a hang (not a timing goal: a hang detector). */
export const HANG_MS = 30_000;

/**
 * A well-behaved application: PutRecord, GetShardIterator + GetRecords and ListShards in a loop on
 * its own stream, each request with a generous timeout that only a hang trips. Every failure is
 * kept, so that a test can assert there were none.
 */
export class GoodClient {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private seq = 0;

  constructor(
    private readonly clients: readonly KinesisClient[],
    private readonly stream: string,
  ) {}

  private async timed<T>(client: KinesisClient, what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    const started = performance.now();
    try {
      const out = await run(AbortSignal.timeout(HANG_MS));
      this.latencies.push(performance.now() - started);
      return out;
    } catch (err) {
      this.failures.push(`${what} via ${this.clients.indexOf(client)}: ${(err as Error).name}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** One round: a put, a read of the shard from the latest position, and a ListShards. */
  async round(): Promise<void> {
    const client = this.clients[this.seq++ % this.clients.length]!;
    const n = this.seq;
    await this.timed(client, 'PutRecord', (abortSignal) =>
      client.send(new PutRecordCommand({ StreamName: this.stream, PartitionKey: `k${n}`, Data: Buffer.from(`good-${n}`) }), { abortSignal }),
    );
    const it = await this.timed(client, 'GetShardIterator', (abortSignal) =>
      client.send(
        new GetShardIteratorCommand({ StreamName: this.stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' }),
        { abortSignal },
      ),
    );
    if (it?.ShardIterator) {
      await this.timed(client, 'GetRecords', (abortSignal) =>
        client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10 }), { abortSignal }),
      );
    }
    await this.timed(client, 'ListShards', (abortSignal) => client.send(new ListShardsCommand({ StreamName: this.stream }), { abortSignal }));
  }

  start(pauseMs = 20): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.round();
        await sleep(pauseMs);
      }
    })();
  }

  async stop(): Promise<LatencySummary> {
    this.running = false;
    await this.loop;
    return summarize(this.latencies);
  }

  reset(): void {
    this.latencies.length = 0;
    this.failures.length = 0;
  }
}

/** Opens a plain TCP connection to the server; resolves once connected (or rejects on error). */
export function connect(port: number, timeoutMs = 20_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timed out'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Resolves when the socket is closed (by either side). */
export function closed(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** What the well-behaved client saw since the last look. */
export interface Served {
  latencies: number[];
  failures: string[];
}

/** A GoodClient running on a worker thread (good-worker.ts). */
export class GoodClientThread {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(endpoint: string, stream: string) {
    this.worker = new Worker(new URL('./good-worker.js', import.meta.url), { workerData: { endpoint, stream } });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Latencies and failures since the last call. */
  take(): Promise<Served> {
    return new Promise((resolve) => {
      this.worker.once('message', (m: Served) => resolve(m));
      this.worker.postMessage('take');
    });
  }

  /** Waits (up to `ms`) until at least `requests` requests have been answered, and returns them all. */
  async takeAtLeast(requests: number, ms = HANG_MS): Promise<Served> {
    const out: Served = { latencies: [], failures: [] };
    const deadline = Date.now() + ms;
    for (;;) {
      const got = await this.take();
      out.latencies.push(...got.latencies);
      out.failures.push(...got.failures);
      if (out.latencies.length + out.failures.length >= requests || Date.now() > deadline) return out;
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await Promise.race([this.exited, sleep(HANG_MS)]);
    await this.worker.terminate();
  }
}
