import type { StreamRef } from './context.js';
import { changeStream, requireStatus } from '../stream-state.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  MaxRecordSizeInKiB: number;
}

/** Takes effect at once for writes (records.ts checks each record against it). */
export const updateMaxRecordSize = defineOperation<Input, void>('UpdateMaxRecordSize', async (k, input) => {
  const stream = await k.resolve(input);
  requireStatus(k, stream);
  await changeStream(k, stream, (meta) => {
    requireStatus(k, stream);
    return meta.maxRecordSizeKiB === input.MaxRecordSizeInKiB ? undefined : { ...meta, maxRecordSizeKiB: input.MaxRecordSizeInKiB };
  });
  return undefined;
});
