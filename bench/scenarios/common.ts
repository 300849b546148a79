import { type BenchClient, createStream, deleteStream, makeClient } from '../client.js';
import { uniqueName } from '../util.js';
import type { ScenarioContext } from './types.js';

/** Runs `fn` against a freshly created stream that is deleted afterwards. */
export async function withStream<T>(
  ctx: ScenarioContext,
  prefix: string,
  shards: number,
  sockets: number,
  fn: (client: BenchClient, stream: string) => Promise<T>,
): Promise<T> {
  const client = makeClient(ctx.endpoint, sockets);
  const stream = uniqueName(`bench-${prefix}`);
  try {
    await createStream(client, stream, shards);
    ctx.log(`stream ${stream} (${shards} shard${shards === 1 ? '' : 's'}) is ACTIVE`);
    try {
      return await fn(client, stream);
    } finally {
      await deleteStream(client, stream);
    }
  } finally {
    client.close();
  }
}

export const MB = 1e6;
export const MiB = 1024 * 1024;

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
