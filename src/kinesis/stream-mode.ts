/**
 * UpdateStreamMode: switches a stream between PROVISIONED and ON_DEMAND. The shards stay as they
 * are; from then on an ON_DEMAND stream splits its busy shards itself (./on-demand-scaling.ts)
 * and refuses SplitShard, MergeShards and UpdateShardCount. The stream is UPDATING for the update
 * delay, then ACTIVE. A stream may switch twice in a rolling 24 hours.
 */
import { InvalidArgumentException, LimitExceededException } from '../protocol/errors.js';
import type { StreamMeta, StreamMode } from '../storage/catalog.js';
import { exclusive, requireActive, updateDelayMs } from './resharding.js';
import type { KinesisContext } from './context.js';
import { changeStream, requireStatus } from './stream-state.js';

declare module '../storage/catalog.js' {
  interface StreamMeta {
    /** Epoch ms of the capacity-mode switches of the last 24 hours. */
    modeSwitches?: number[];
  }
}

const DAY_MS = 24 * 3_600_000;
/** Capacity-mode switches allowed per stream in a rolling 24 hours. */
export const MODE_SWITCHES_PER_DAY = 2;

export interface UpdateStreamModeInput {
  StreamARN: string;
  StreamModeDetails: { StreamMode: StreamMode };
  WarmThroughputMiBps?: number;
}

function recentSwitches(meta: StreamMeta, now: number): number[] {
  return (meta.modeSwitches ?? []).filter((t) => t > now - DAY_MS);
}

export async function updateStreamMode(k: KinesisContext, input: UpdateStreamModeInput): Promise<void> {
  const stream = await k.resolve({ StreamARN: input.StreamARN });
  const account = k.settings.accountId;
  const mode = input.StreamModeDetails.StreamMode;
  if (input.WarmThroughputMiBps !== undefined && mode !== 'ON_DEMAND') {
    throw new InvalidArgumentException('WarmThroughputMiBps is only supported for streams in ON_DEMAND mode.');
  }
  requireActive(k, stream);
  if (stream.meta.mode === mode) {
    throw new InvalidArgumentException(`Stream ${stream.name} under account ${account} is already in ${mode} mode.`);
  }
  if (mode === 'PROVISIONED' && stream.meta.recordDistribution === 'AUTO') {
    throw new InvalidArgumentException(
      'RecordDistributionStrategy AUTO is only supported for streams in ON_DEMAND mode. ' +
        'Change it to USER_PARTITION_KEY before switching the stream to PROVISIONED.',
    );
  }
  const now = k.now;
  if (recentSwitches(stream.meta, now).length >= MODE_SWITCHES_PER_DAY) {
    throw new LimitExceededException(
      `Stream ${stream.name} under account ${account} has already switched capacity mode ${MODE_SWITCHES_PER_DAY} ` +
        `times in the last 24 hours. A stream can switch capacity mode at most ${MODE_SWITCHES_PER_DAY} times per ` +
        'rolling 24-hour period.',
    );
  }
  if (mode === 'ON_DEMAND' && k.onDemandStreamCount() >= k.settings.onDemandStreamLimit) {
    throw new LimitExceededException(
      `This request would exceed the on-demand stream limit for the account ${account}. ` +
        `Current on-demand stream count for the account: ${k.onDemandStreamCount()}. ` +
        `Limit: ${k.settings.onDemandStreamLimit}.`,
    );
  }
  const delay = updateDelayMs(k);
  await exclusive(stream, () =>
    changeStream(k, stream, (meta) => {
      requireStatus(k, stream);
      const next: StreamMeta = { ...meta, mode, modeSwitches: [...recentSwitches(meta, now), now] };
      if (mode === 'ON_DEMAND' && input.WarmThroughputMiBps !== undefined) next.warmThroughputMiBps = input.WarmThroughputMiBps;
      if (mode === 'PROVISIONED') delete next.warmThroughputMiBps;
      if (delay > 0) {
        next.status = 'UPDATING';
        next.statusUntil = now + delay;
      }
      return next;
    }),
  );
}
