import type { StreamRef } from '../service.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  EnforceConsumerDeletion?: boolean;
}

export const deleteStream = defineOperation<Input, void>('DeleteStream', async (k, input) => {
  const stream = await k.resolve(input);
  await k.deleteStream(stream);
  return undefined;
});
