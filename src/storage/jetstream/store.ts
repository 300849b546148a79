/**
 * The JetStream LogStore: one JetStreamShardLog per shard, each in its own JetStream stream.
 *
 * One stream per shard (rather than one per Kinesis stream with a subject per shard) makes the
 * stream sequence the position of a message in its shard, lets each shard append with a plain
 * expected-last-sequence check, and lets trim purge a shard's prefix. The cost is one JetStream
 * stream (and, replicated, one Raft group) per shard: a cluster serves thousands of them, so the
 * account's shard limit should stay within that.
 */
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AppendWatch, LogStore } from '../types.js';
import type { JetStreamContext } from './context.js';
import { appendedSubject, escapeKey, shardStreamName, streamSubjects, trimKey } from './names.js';
import { JetStreamShardLog } from './shard-log.js';

export interface JetStreamOptions {
  /** nats:// URLs of the cluster's servers. */
  servers: string[];
  /** Replicas of every stream and bucket; 0 picks 3, or 1 when the cluster has a single server. */
  replicas: number;
  /** Starts the names of the JetStream streams and buckets. */
  prefix?: string;
  publishTimeoutMs?: number;
  /** Name of this connection, as the server's monitoring shows it. */
  connectionName?: string;
}

export const DEFAULT_PREFIX = 'TRIB';
const LEADER_REQUEST_TIMEOUT_MS = 1_000;
/** JetStream's API error code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

/** A connection to the cluster with what the engine's parts share. */
export interface JetStreamConnection {
  nc: NatsConnection;
  replicas: number;
  prefix: string;
  close(): Promise<void>;
}

/** How long a connection to a named cluster waits for the gossip of its other servers (replicas 0: auto). */
const CLUSTER_GOSSIP_WAIT_MS = 3_000;

export async function connectJetStream(options: JetStreamOptions): Promise<JetStreamConnection> {
  const nc = await connect({
    servers: options.servers,
    name: options.connectionName ?? 'tributary',
    maxReconnectAttempts: -1,
  });
  let replicas = options.replicas;
  if (!(replicas > 0)) {
    // A server in a cluster names it and gossips the client URLs of the others. Right after the
    // cluster starts the gossip may not have come: a server that names a cluster is given a
    // moment to tell of two others before the streams made next are given one replica.
    const peers = () => (nc.info?.cluster ? 1 + (nc.info.connect_urls?.length ?? 0) : 1);
    const until = Date.now() + CLUSTER_GOSSIP_WAIT_MS;
    while (nc.info?.cluster && peers() < 3 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    replicas = peers() >= 3 ? 3 : 1;
  }
  let closing: Promise<void> | undefined;
  return {
    nc,
    replicas,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    close() {
      closing ??= nc.drain().catch(() => nc.close());
      return closing;
    },
  };
}

export async function createJetStreamLogStore(
  conn: JetStreamConnection,
  options: { publishTimeoutMs?: number } = {},
): Promise<JetStreamLogStore> {
  const jsm = await jetstreamManager(conn.nc);
  const leaderJsm = await jetstreamManager(conn.nc, { timeout: LEADER_REQUEST_TIMEOUT_MS });
  const shardState = await new Kvm(conn.nc).create(`${conn.prefix}-shards`, { replicas: conn.replicas, history: 1, allow_direct: false });
  const ctx: JetStreamContext = {
    nc: conn.nc,
    js: jetstream(conn.nc),
    jsm,
    leaderJsm,
    shardState,
    prefix: conn.prefix,
    replicas: conn.replicas,
    maxPayload: conn.nc.info?.max_payload ?? 1024 * 1024,
    publishTimeoutMs: options.publishTimeoutMs ?? 2_000,
  };
  return new JetStreamLogStore(ctx);
}

export class JetStreamLogStore implements LogStore, AppendWatch {
  /** Other nodes append too: subscribers here follow them (watchAppends). */
  readonly appendWatch: AppendWatch = this;
  private readonly logs = new Map<string, Promise<JetStreamShardLog>>();

  constructor(readonly ctx: JetStreamContext) {}

  open(streamKey: string, shardIndex: number): Promise<JetStreamShardLog> {
    if (!Number.isSafeInteger(shardIndex) || shardIndex < 0) {
      return Promise.reject(new RangeError(`shard index ${shardIndex} is not a non-negative integer`));
    }
    if (streamKey.length === 0) return Promise.reject(new TypeError('stream key must not be empty'));
    const key = `${streamKey}\n${shardIndex}`;
    const existing = this.logs.get(key);
    if (existing) return existing;
    const opening = JetStreamShardLog.open(this.ctx, streamKey, shardIndex, () => {
      if (this.logs.get(key) === opening) this.logs.delete(key);
    });
    this.logs.set(key, opening);
    opening.catch(() => {
      if (this.logs.get(key) === opening) this.logs.delete(key);
    });
    return opening;
  }

  /**
   * Calls `onAppend` whenever any node stores a message in the shard (see JetStreamShardLog), until
   * the returned function is called. For subscribers of a shard whose writers may be elsewhere.
   */
  watchAppends(streamKey: string, shardIndex: number, onAppend: () => void): () => void {
    const sub = this.ctx.nc.subscribe(appendedSubject(this.ctx.prefix, streamKey, shardIndex), {
      callback: (err) => {
        if (!err) onAppend();
      },
    });
    return () => sub.unsubscribe();
  }

  async dropStream(streamKey: string): Promise<void> {
    const prefix = `${streamKey}\n`;
    const open = [...this.logs].filter(([key]) => key.startsWith(prefix)).map(([, log]) => log.then((l) => l.close()));
    await Promise.allSettled(open);
    const names: string[] = [];
    for await (const name of this.ctx.jsm.streams.names(streamSubjects(this.ctx.prefix, streamKey))) names.push(name);
    for (const name of names) await this.ctx.jsm.streams.delete(name);
    const shardState = await this.ctx.shardState.keys(`${escapeKey(streamKey)}.*`);
    for await (const k of shardState) await this.ctx.shardState.purge(k);
  }

  /**
   * Closes the shard's log here, deletes its JetStream stream and forgets its trim point. Safe when
   * another node drops the same shard at the same time: a stream or trim point already gone is fine.
   */
  async dropShard(streamKey: string, shardIndex: number): Promise<void> {
    if (!Number.isSafeInteger(shardIndex) || shardIndex < 0) {
      throw new RangeError(`shard index ${shardIndex} is not a non-negative integer`);
    }
    if (streamKey.length === 0) throw new TypeError('stream key must not be empty');
    const key = `${streamKey}\n${shardIndex}`;
    const opening = this.logs.get(key);
    if (opening) {
      this.logs.delete(key);
      await opening.then((log) => log.close()).catch(() => {});
    }
    try {
      await this.ctx.jsm.streams.delete(shardStreamName(this.ctx.prefix, streamKey, shardIndex));
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)) throw err;
    }
    const trimPoint = await this.ctx.shardState.get(trimKey(streamKey, shardIndex));
    if (trimPoint && trimPoint.operation === 'PUT') await this.ctx.shardState.purge(trimKey(streamKey, shardIndex));
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.logs.values()].map((opening) => opening.then((log) => log.close())));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
