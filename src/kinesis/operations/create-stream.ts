import { InvalidArgumentException, LimitExceededException } from '../../protocol/errors.js';
import type { StreamMode } from '../../storage/catalog.js';
import type { OperationContext } from './context.js';
import { defineOperation } from './operation.js';

/** How many streams of an account may be CREATING or DELETING at the same time (a fixed AWS quota). */
const MAX_STREAMS_IN_TRANSITION = 5;

async function checkStreamsInTransition(k: OperationContext): Promise<void> {
  const busy = (await k.list()).filter((s) => s.meta.status === 'CREATING' || s.meta.status === 'DELETING').length;
  if (busy >= MAX_STREAMS_IN_TRANSITION) {
    throw new LimitExceededException(
      'This request would have exceed the limit on the number  of streams that can simultaneously be in CREATING ' +
        `or DELETING for the account ${k.settings.accountId}. Limit: ${MAX_STREAMS_IN_TRANSITION}.`,
    );
  }
}

interface Input {
  StreamName: string;
  ShardCount?: number;
  StreamModeDetails?: { StreamMode: StreamMode };
  Tags?: Record<string, string>;
  WarmThroughputMiBps?: number;
  MaxRecordSizeInKiB?: number;
  RecordDistributionStrategy?: 'USER_PARTITION_KEY' | 'AUTO';
}

/** What is wrong with the arguments themselves, whatever streams there are. */
function checkArguments(input: Input): void {
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
}

async function create(k: OperationContext, input: Input): Promise<undefined> {
  const mode = input.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
  await checkStreamsInTransition(k);
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
}

export const createStream = defineOperation<Input, void>('CreateStream', create, { check: checkArguments });
