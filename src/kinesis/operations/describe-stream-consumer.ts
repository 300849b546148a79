import { describeConsumer, resolveConsumer, type ConsumerRef } from '../consumers.js';
import { defineOperation } from './operation.js';

export const describeStreamConsumer = defineOperation<ConsumerRef, unknown>('DescribeStreamConsumer', async (k, input) => {
  const { stream, consumer } = await resolveConsumer(k, input);
  return { ConsumerDescription: { ...describeConsumer(stream, consumer), StreamARN: stream.arn } };
});
