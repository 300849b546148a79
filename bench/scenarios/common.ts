import { type BenchClient, createStream, deleteStream, makeClient } from '../client.js';
import { RawClient } from '../raw-client.js';
import { uniqueName } from '../util.js';
import type { ScenarioContext } from './types.js';

/**
 * Runs `fn` against a freshly created stream that is deleted afterwards. The
 * SDK client sets up and tears down; with `--client raw`, `raw` (at most
 * `rawSockets` keep-alive sockets, the scenario's concurrency) is there for the
 * measured calls, else it is null.
 */
export async function withStream<T>(
  ctx: ScenarioContext,
  prefix: string,
  shards: number,
  sockets: number,
  fn: (client: BenchClient, stream: string, raw: RawClient | null) => Promise<T>,
  rawSockets = sockets,
): Promise<T> {
  const client = makeClient(ctx.endpoint, sockets);
  const raw = ctx.options.client === 'raw' ? new RawClient(ctx.endpoint, rawSockets) : null;
  const stream = uniqueName(`bench-${prefix}`);
  try {
    await createStream(client, stream, shards);
    ctx.log(`stream ${stream} (${shards} shard${shards === 1 ? '' : 's'}) is ACTIVE`);
    try {
      return await fn(client, stream, raw);
    } finally {
      await deleteStream(client, stream);
    }
  } finally {
    raw?.close();
    client.close();
  }
}

export const MB = 1e6;
export const MiB = 1024 * 1024;

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
