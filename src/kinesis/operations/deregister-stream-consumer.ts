import { deregisterConsumer, resolveConsumer, type ConsumerRef } from '../consumers.js';
import { defineOperation } from './operation.js';

export const deregisterStreamConsumer = defineOperation<ConsumerRef, void>('DeregisterStreamConsumer', async (k, input) => {
  const { stream, consumer } = await resolveConsumer(k, input);
  await deregisterConsumer(k, stream, consumer);
  return undefined;
});
