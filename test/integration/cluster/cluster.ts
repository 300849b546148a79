/**
 * A Tributary cluster on loopback for tests: three nats-servers with JetStream and routes, and
 * Tributary nodes on them, in this process (startTestServer) or as child processes (for SIGKILL).
 * Every node shares one master key file, as the nodes of a real cluster must.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { JetStreamCatalog, connectJetStream, type JetStreamConnection } from '../../../src/storage/jetstream/index.js';
import type { Clock } from '../../../src/util/clock.js';
import { CLI, kinesisClient, removeDir, startTestServer, tempDir, type TestServer } from '../../helpers/server.js';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startS3TestServer, type S3TestServer } from '../s3/helpers.js';
import { startNatsCluster, type NatsCluster } from '../../storage/jetstream/nats-server.js';

export { skipWithoutNats } from '../../storage/jetstream/nats-server.js';

export interface ChildNode {
  child: ChildProcess;
  endpoint: string;
  exited: Promise<number | null>;
  client(): KinesisClient;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export interface TestCluster {
  nats: NatsCluster;
  /** Comma-separated nats:// URLs of every server. */
  servers: string;
  prefix: string;
  /** Starts a node in this process. */
  node(overrides?: Record<string, unknown>, opts?: { clock?: Clock }): Promise<TestServer>;
  /** Starts a node as a child process, with extra `tributary serve` flags. */
  spawnNode(args?: string[]): Promise<ChildNode>;
  /** A connection to the cluster and its catalog, for looking at what the nodes wrote. */
  catalog(): Promise<{ catalog: JetStreamCatalog; conn: JetStreamConnection }>;
  destroy(): Promise<void>;
}

/** Retries `fn` until it succeeds or `ms` pass (JetStream elects its leaders after start). */
export async function eventually<T>(fn: () => Promise<T>, ms = 30_000, every = 100): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(every);
    }
  }
}

export async function startCluster(): Promise<TestCluster> {
  const nats = await startNatsCluster(3);
  const dir = tempDir('tributary-cluster-');
  const masterKeyFile = path.join(dir, 'master.key');
  writeFileSync(masterKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const prefix = `C${randomBytes(6).toString('hex').toUpperCase()}`;
  const servers = nats.urls.join(',');
  const nodes: TestServer[] = [];
  const children: ChildNode[] = [];
  const conns: JetStreamConnection[] = [];
  // Wait until the meta leader is elected and a replicated bucket can be made.
  await eventually(async () => {
    const conn = await connectJetStream({ servers: nats.urls, replicas: 3, prefix });
    try {
      await JetStreamCatalog.open(conn);
    } finally {
      await conn.close();
    }
  });
  let n = 0;
  const cluster: TestCluster = {
    nats,
    servers,
    prefix,
    async node(overrides = {}, opts = {}) {
      const server = await startTestServer(
        {
          storage: 'jetstream',
          nats: servers,
          natsReplicas: 3,
          natsPrefix: prefix,
          masterKeyFile,
          ...overrides,
        },
        opts,
      );
      nodes.push(server);
      return server;
    },
    async spawnNode(args = []) {
      const dataDir = path.join(dir, `node-${++n}`);
      const child = spawn(
        process.execPath,
        [
          CLI, 'serve', '--port', '0', '--s3-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--create-stream-ms', '0', '--delete-stream-ms', '0',
          '--limits', 'off', '--log-level', 'warn', '--storage', 'jetstream', '--nats', servers, '--nats-replicas', '3',
          '--nats-prefix', prefix, '--master-key-file', masterKeyFile, ...args,
        ],
        { env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          const m = /TRIBUTARY_LISTENING (\d+)/.exec(out);
          if (m) {
            child.stdout!.off('data', onData);
            child.stdout!.resume();
            resolve(Number(m[1]));
          }
        };
        child.stdout!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`node exited with ${code} before listening: ${out}`)));
      });
      const endpoint = `http://127.0.0.1:${port}`;
      const clients: KinesisClient[] = [];
      const end = async (signal: NodeJS.Signals) => {
        for (const c of clients) c.destroy();
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      };
      const node: ChildNode = {
        child,
        endpoint,
        exited,
        client() {
          const c = kinesisClient(endpoint);
          clients.push(c);
          return c;
        },
        kill: () => end('SIGKILL'),
        stop: () => end('SIGTERM'),
      };
      children.push(node);
      return node;
    },
    async catalog() {
      const conn = await connectJetStream({ servers: nats.urls, replicas: 3, prefix });
      conns.push(conn);
      return { catalog: await JetStreamCatalog.open(conn), conn };
    },
    async destroy() {
      await Promise.allSettled(children.map((c) => c.kill()));
      await Promise.allSettled(nodes.map((s) => s.destroy()));
      await Promise.allSettled(conns.map((c) => c.close()));
      await nats.destroy();
      removeDir(dir);
    },
  };
  return cluster;
}

/** Two nodes of one cluster that write their objects to one S3 endpoint outside it. */
export interface ClusterWithS3 {
  /** The S3 endpoint: a separate embedded server, with `bucket` made. */
  target: S3TestServer;
  s3: S3Client;
  cluster: TestCluster;
  nodes: TestServer[];
  destroy(): Promise<void>;
}

/**
 * Starts an S3 endpoint, a cluster and two nodes that deliver to it through `--s3-endpoint`. An
 * external endpoint takes the AWS credentials of the environment: they are set here and put back
 * by destroy().
 */
export async function startClusterWithS3(bucket: string, overrides: Record<string, unknown> = {}, opts: { clock?: Clock } = {}): Promise<ClusterWithS3> {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCLUSTER';
  process.env.AWS_SECRET_ACCESS_KEY = 'cluster-secret';
  const target = await startS3TestServer();
  const s3 = target.s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const cluster = await startCluster();
  const nodes: TestServer[] = [];
  for (let i = 0; i < 2; i++) nodes.push(await cluster.node({ s3Endpoint: target.s3Endpoint!, ...overrides }, opts));
  return {
    target,
    s3,
    cluster,
    nodes,
    async destroy() {
      await cluster.destroy();
      await target.destroy();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    },
  };
}
