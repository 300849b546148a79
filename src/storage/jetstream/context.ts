import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** What the shard logs of one store share. */
export interface JetStreamContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /**
   * For asking a stream's leader for its newest message: with a short timeout, since no one
   * answers while a stream elects its leader (just created, or its leader's server died).
   */
  leaderJsm: JetStreamManager;
  /** Per-shard state that outlives a node: the trim points. */
  shardState: KV;
  /** Starts the names of Tributary's JetStream streams and subjects. */
  prefix: string;
  replicas: number;
  /** Largest message the server accepts (its max_payload). */
  maxPayload: number;
  /** How long one publish waits for its acknowledgement. */
  publishTimeoutMs: number;
}
