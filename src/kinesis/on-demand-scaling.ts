/**
 * ON_DEMAND streams manage their own shards. The rule:
 *
 *   An open shard whose average write rate over the last 60 seconds of clock time is at least
 *   80% of a shard's write limit (1 MiB/s of data and partition keys, or 1,000 records/s) is split
 *   at the middle of its hash-key range. Capacity only grows: shards are never merged back.
 *
 * The rate is measured per shard as records are appended (./shard-writes.ts, one meter per
 * shard of an ON_DEMAND stream; a child starts a new 60-second window). The check runs from
 * Kinesis.tick(). A split waits while the stream is not ACTIVE, and is skipped while it would take
 * the account past its shard quota. The stream stays ACTIVE throughout.
 */
import { planMidpointSplits, splittable } from './reshard-plan.js';
import { applyPlan, exclusive, nextShardIndex, rangeOf, reshardingOf } from './resharding.js';
import type { KinesisContext } from './context.js';
import type { Shard } from './shard.js';

/** A shard's write limits, as AWS documents them. */
export const SHARD_WRITE_BYTES_PER_SECOND = 1024 * 1024;
export const SHARD_WRITE_RECORDS_PER_SECOND = 1000;
/** The share of a shard's write limit that, sustained over the window, splits it. */
export const SPLIT_THRESHOLD = 0.8;

/** Splits the hot shards of every ON_DEMAND stream (see the module comment). */
export async function autoScale(k: KinesisContext): Promise<void> {
  let failure: unknown;
  for (const stream of [...k.known()]) {
    const meters = stream.runtime.writeRates;
    if (meters.size === 0) continue;
    if (stream.meta.mode !== 'ON_DEMAND') {
      meters.clear();
      continue;
    }
    const under = reshardingOf(stream);
    if (under) await under;
    if (stream.meta.status !== 'ACTIVE') continue;
    const now = k.now;
    const hot: Shard[] = [];
    for (const [index, meter] of meters) {
      const shard = stream.shard(index);
      if (!shard || !shard.isOpen) {
        meters.delete(index);
        continue;
      }
      const rate = meter.average(now);
      if (
        rate &&
        (rate.bytesPerSecond >= SPLIT_THRESHOLD * SHARD_WRITE_BYTES_PER_SECOND ||
          rate.recordsPerSecond >= SPLIT_THRESHOLD * SHARD_WRITE_RECORDS_PER_SECOND) &&
        splittable(rangeOf(shard))
      ) {
        hot.push(shard);
      }
    }
    const room = k.settings.shardLimit - k.openShardCount();
    const splitting = hot.slice(0, Math.max(0, room));
    if (splitting.length === 0) continue;
    try {
      await exclusive(stream, async () => {
        if (stream.meta.status !== 'ACTIVE' || splitting.some((s) => stream.shard(s.index)?.isOpen !== true)) return;
        const plan = planMidpointSplits(splitting.map(rangeOf), nextShardIndex(stream.meta));
        await applyPlan(k, stream, plan, (meta) => (meta.status === 'ACTIVE' && meta.mode === 'ON_DEMAND' ? meta : undefined));
      });
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) throw failure;
}
