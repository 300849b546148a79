/**
 * IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod. The period is 24 to 8,760
 * hours; each operation moves it one way only. Retention reads the period from the stream
 * document, so records (and closed shards) older than a shortened period stop being served at
 * once, and a longer period does not bring back what was already trimmed.
 */
import { InvalidArgumentException } from '../protocol/errors.js';
import type { KinesisContext, StreamRef } from './context.js';
import type { Shard } from './shard.js';
import { changeStream, requireStatus } from './stream-state.js';
import type { Stream } from './stream.js';

export const MIN_RETENTION_HOURS = 24;
export const MAX_RETENTION_HOURS = 8760;

export interface RetentionInput extends StreamRef {
  RetentionPeriodHours: number;
}

export async function changeRetention(k: KinesisContext, input: RetentionInput, direction: 'increase' | 'decrease'): Promise<void> {
  const stream = await k.resolve(input);
  const hours = input.RetentionPeriodHours;
  if (hours < MIN_RETENTION_HOURS) {
    throw new InvalidArgumentException(
      `Minimum allowed retention period is ${MIN_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is too short.`,
    );
  }
  if (hours > MAX_RETENTION_HOURS) {
    throw new InvalidArgumentException(
      `Maximum allowed retention period is ${MAX_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is too long.`,
    );
  }
  const check = (current: number) => {
    if (direction === 'increase' && hours < current) {
      throw new InvalidArgumentException(
        `Requested retention period (${hours} hours) for stream ${stream.name} can not be shorter than existing ` +
          `retention period (${current} hours). Use DecreaseRetentionPeriod API.`,
      );
    }
    if (direction === 'decrease' && hours > current) {
      throw new InvalidArgumentException(
        `Requested retention period (${hours} hours) for stream ${stream.name} can not be longer than existing ` +
          `retention period (${current} hours). Use IncreaseRetentionPeriod API.`,
      );
    }
  };
  check(stream.meta.retentionHours);
  requireStatus(k, stream);
  await changeStream(k, stream, (meta) => {
    requireStatus(k, stream);
    check(meta.retentionHours);
    return meta.retentionHours === hours ? undefined : { ...meta, retentionHours: hours };
  });
  // The next read of each shard trims by the new period rather than waiting out the trim interval.
  if (direction === 'decrease') for (const shard of stream.shards) shard.lastTrimAt = -Infinity;
}

/**
 * Whether a shard is gone for good: closed, and every record of it past the retention period (its
 * close is), or already dropped for that. AWS no longer lists such a shard and answers a read of it
 * as for a shard that does not exist.
 */
export function isExpiredShard(stream: Stream, shard: Shard, now: number): boolean {
  const m = shard.meta;
  // Strictly after: at closedAt + retention exactly the shard is still listed (describe.ts listedShards).
  return m.expiredAt !== undefined || (m.closedAt !== undefined && m.closedAt + stream.retentionMs < now);
}

/**
 * Drops the logs of a stream's expired closed shards. The catalog marks each (expiredAt) first, so
 * that no node opens its log again; then its log is closed and deleted. A crash between the two
 * leaves a marked shard whose log may still exist: every process drops the log of each marked shard
 * once, on its first sweep (dropping is idempotent), and never visits the shard after that.
 */
export async function dropExpiredShards(k: KinesisContext, stream: Stream): Promise<void> {
  const now = k.now;
  const due = stream.shards.some((s) => s.meta.expiredAt === undefined && isExpiredShard(stream, s, now));
  if (due) {
    await k.write(stream, (meta) => {
      if (meta.status !== 'ACTIVE' && meta.status !== 'UPDATING') return undefined;
      const retentionMs = meta.retentionHours * 3_600_000;
      let marked = false;
      const shards = meta.shards.map((s) => {
        if (s.expiredAt !== undefined || s.closedAt === undefined || s.closedAt + retentionMs > now) return s;
        marked = true;
        return { ...s, expiredAt: now };
      });
      return marked ? { ...meta, shards } : undefined;
    });
  }
  const done = stream.runtime.droppedShards;
  for (const shard of stream.shards) {
    if (shard.meta.expiredAt === undefined) continue;
    if (done.has(shard.index)) continue;
    const log = shard.log;
    shard.log = undefined;
    await log?.close().catch(() => undefined);
    await k.logs.dropShard(stream.key, shard.index);
    done.add(shard.index);
  }
}
