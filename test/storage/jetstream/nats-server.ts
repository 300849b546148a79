/** Runs a real nats-server with JetStream for the engine's tests: loopback, a free port, a temp store. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';

/** The nats-server binary: on PATH, or where Debian installs it. */
export function natsServerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, 'nats-server');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const MISSING = 'nats-server is not installed (apt-get install nats-server)';

/**
 * Why the JetStream tests cannot run here, or false when they can. In CI a missing server is an
 * error, not a reason to skip.
 */
export function skipWithoutNats(): string | false {
  if (natsServerBinary()) return false;
  if (process.env.CI) throw new Error(`${MISSING}; CI must not skip the JetStream tests`);
  return MISSING;
}

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server, keeping its store. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (no shutdown at all), keeping its store. */
  kill(): Promise<void>;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes its store. */
  destroy(): Promise<void>;
  /** Kills it and removes its store, synchronously (for process exit). */
  destroySync(): void;
  /** Lets the test process exit while the server runs (it is then ended by destroySync on exit). */
  unref(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ClusterMember {
  name: string;
  clusterPort: number;
  /** Cluster ports of the other members. */
  routes: number[];
}

export async function startNatsServer(member?: ClusterMember, port?: number): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (!binary) throw new Error(MISSING);
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-nats-'));
  const storeDir = path.join(dir, 'jetstream');
  port ??= await freePort();
  const conf = path.join(dir, 'nats.conf');
  const lines = [`listen: "127.0.0.1:${port}"`, 'max_payload: 16MB', `jetstream { store_dir: "${storeDir}" }`];
  if (member) {
    const routes = member.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
    lines.push(`server_name: ${member.name}`, `cluster { name: tributary-test, listen: "127.0.0.1:${member.clusterPort}", routes: [${routes}] }`);
  }
  writeFileSync(conf, [...lines, ''].join('\n'));
  let child: ChildProcess | undefined;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let err = '';
      const onData = (chunk: Buffer) => {
        err += chunk.toString();
        if (err.includes('Server is ready')) {
          c.stderr!.off('data', onData);
          c.stderr!.resume();
          c.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => reject(new Error(`nats-server exited with ${code}: ${err}`));
      c.stderr!.on('data', onData);
      c.once('exit', onExit);
    });
  const end = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };
  const stop = () => end('SIGTERM');
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    kill: () => end('SIGKILL'),
    get running() {
      return child !== undefined && child.exitCode === null;
    },
    restart: launch,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    unref() {
      child?.unref();
      (child?.stderr as { unref?: () => void } | null | undefined)?.unref?.();
    },
    destroySync() {
      child?.kill('SIGKILL');
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface NatsCluster {
  servers: NatsServer[];
  names: string[];
  urls: string[];
  destroy(): Promise<void>;
}

/** Starts `size` clustered servers on loopback. JetStream elects its leaders a little later. */
export async function startNatsCluster(size: number): Promise<NatsCluster> {
  const clientPorts: number[] = [];
  const clusterPorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    clusterPorts.push(await freePort());
  }
  const names = clientPorts.map((_, i) => `n${i + 1}`);
  const servers = await Promise.all(
    names.map((name, i) =>
      startNatsServer({ name, clusterPort: clusterPorts[i], routes: clusterPorts.filter((_, j) => j !== i) }, clientPorts[i]),
    ),
  );
  const cluster = {
    servers,
    names,
    urls: servers.map((s) => s.url),
    async destroy() {
      await Promise.all(servers.map((s) => s.destroy()));
    },
  };
  try {
    await routesFormed(cluster.urls);
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}

/**
 * Waits until every server gossips the client URLs of all the others: the routes are up, so a
 * client that counts the cluster's servers (to choose its replicas) sees all of them.
 */
async function routesFormed(urls: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const url of urls) {
    const nc = await connect({ servers: url });
    try {
      while ((nc.info?.connect_urls?.length ?? 0) < urls.length - 1) {
        if (Date.now() > deadline) throw new Error(`the routes of ${url} did not form: it knows ${nc.info?.connect_urls?.length ?? 0} other servers`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await nc.close();
    }
  }
}
