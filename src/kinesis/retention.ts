/**
 * IncreaseStreamRetentionPeriod and DecreaseStreamRetentionPeriod. The period is 24 to 8,760
 * hours; each operation moves it one way only. Retention reads the period from the stream
 * document, so records (and closed shards) older than a shortened period stop being served at
 * once, and a longer period does not bring back what was already trimmed.
 */
import { InvalidArgumentException } from '../protocol/errors.js';
import type { Kinesis, StreamRef } from './service.js';
import { changeStream, requireStatus } from './stream-state.js';

export const MIN_RETENTION_HOURS = 24;
export const MAX_RETENTION_HOURS = 8760;

export interface RetentionInput extends StreamRef {
  RetentionPeriodHours: number;
}

export async function changeRetention(k: Kinesis, input: RetentionInput, direction: 'increase' | 'decrease'): Promise<void> {
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
