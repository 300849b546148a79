import { SHARD_LEVEL_METRICS } from '../metrics/names.js';
import type { Kinesis } from './service.js';
import { changeStream, requireStatus } from './stream-state.js';
import type { Stream } from './stream.js';

function expand(names: readonly string[]): Set<string> {
  return new Set(names.includes('ALL') ? SHARD_LEVEL_METRICS : names);
}

function inOrder(set: ReadonlySet<string>): string[] {
  return SHARD_LEVEL_METRICS.filter((m) => set.has(m));
}

/**
 * Turns shard-level metrics on (`enable`) or off, and answers with the metrics before the change
 * (Current) and after it (Desired).
 */
export async function changeMonitoring(k: Kinesis, stream: Stream, names: readonly string[], enable: boolean) {
  requireStatus(k, stream);
  const requested = expand(names);
  let before: string[] = [];
  let after: string[] = [];
  await changeStream(k, stream, (meta) => {
    const set = new Set(meta.shardLevelMetrics);
    before = inOrder(set);
    for (const m of requested) {
      if (enable) set.add(m);
      else set.delete(m);
    }
    after = inOrder(set);
    const same = after.length === before.length;
    return same ? undefined : { ...meta, shardLevelMetrics: after };
  });
  return {
    StreamName: stream.name,
    StreamARN: stream.arn,
    CurrentShardLevelMetrics: before,
    DesiredShardLevelMetrics: after,
  };
}
