import { InvalidArgumentException } from '../../protocol/errors.js';
import type { StreamRef } from './context.js';
import { changeStream, requireStatus } from '../stream-state.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  RecordDistributionStrategy: 'AUTO' | 'USER_PARTITION_KEY';
}

/**
 * On-demand streams only. Takes effect at once: records.ts routes every later record of an AUTO
 * stream evenly, whatever its partition key.
 */
export const updateStreamRecordDistributionStrategy = defineOperation<Input, void>(
  'UpdateStreamRecordDistributionStrategy',
  async (k, input) => {
    const stream = await k.resolve(input);
    if (stream.meta.mode !== 'ON_DEMAND') {
      throw new InvalidArgumentException(
        `RecordDistributionStrategy is only supported for streams in ON_DEMAND mode. Stream ${stream.name} under account ` +
          `${k.settings.accountId} is in PROVISIONED mode.`,
      );
    }
    requireStatus(k, stream);
    await changeStream(k, stream, (meta) => {
      requireStatus(k, stream);
      const strategy = input.RecordDistributionStrategy;
      return meta.recordDistribution === strategy ? undefined : { ...meta, recordDistribution: strategy };
    });
    return undefined;
  },
);
