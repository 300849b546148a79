import { describeConsumer, registerConsumer } from '../consumers.js';
import { defineOperation } from './operation.js';

interface Input {
  StreamARN: string;
  ConsumerName: string;
  Tags?: Record<string, string>;
}

export const registerStreamConsumer = defineOperation<Input, unknown>('RegisterStreamConsumer', async (k, input) => {
  const stream = await k.resolve({ StreamARN: input.StreamARN });
  const consumer = await registerConsumer(k, stream, { consumerName: input.ConsumerName, tags: input.Tags });
  return { Consumer: describeConsumer(stream, consumer) };
});
