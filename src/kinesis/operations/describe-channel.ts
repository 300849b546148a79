import { defineOperation } from './operation.js';

interface Input {
  ChannelARN: string;
}

export const describeChannel = defineOperation<Input, unknown>('DescribeChannel', (k, input) => k.channels.describe(input.ChannelARN));
