import { InvalidArgumentException } from '../../protocol/errors.js';
import type { StreamMode } from '../../storage/catalog.js';
import { defineOperation } from './operation.js';

interface Input {
  StreamName: string;
  ShardCount?: number;
  StreamModeDetails?: { StreamMode: StreamMode };
  Tags?: Record<string, string>;
  WarmThroughputMiBps?: number;
  MaxRecordSizeInKiB?: number;
  RecordDistributionStrategy?: 'USER_PARTITION_KEY' | 'AUTO';
}

export const createStream = defineOperation<Input, void>('CreateStream', async (k, input) => {
  const mode = input.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
  if (mode === 'PROVISIONED' && input.ShardCount === undefined) {
    throw new InvalidArgumentException('ShardCount is required for a stream in PROVISIONED mode.');
  }
  if (mode === 'PROVISIONED' && (input.RecordDistributionStrategy === 'AUTO' || input.WarmThroughputMiBps !== undefined)) {
    throw new InvalidArgumentException(
      'RecordDistributionStrategy AUTO and WarmThroughputMiBps are only supported for streams in ON_DEMAND mode.',
    );
  }
  if (input.Tags && Object.keys(input.Tags).length > 50) {
    throw new InvalidArgumentException('Failed to create stream: a stream cannot have more than 50 tags.');
  }
  await k.createStream({
    name: input.StreamName,
    shardCount: input.ShardCount,
    mode,
    tags: input.Tags,
    maxRecordSizeKiB: input.MaxRecordSizeInKiB,
    recordDistribution: input.RecordDistributionStrategy,
    warmThroughputMiBps: input.WarmThroughputMiBps,
  });
  return undefined;
});
