import { checkConsumersForDeletion, withoutConsumers } from '../consumers.js';
import type { StreamRef } from './context.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  EnforceConsumerDeletion?: boolean;
}

export const deleteStream = defineOperation<Input, void>('DeleteStream', async (k, input) => {
  const stream = await k.resolve(input);
  await k.channels.checkStreamDeletion(stream);
  await checkConsumersForDeletion(k, stream, input.EnforceConsumerDeletion === true);
  await k.deleteStream(stream, withoutConsumers);
  k.fanOut.streamChanged(stream.key);
  return undefined;
});
