import { defineOperation } from './operation.js';

interface Input {
  ChannelARN: string;
}

export const deleteChannel = defineOperation<Input, void>('DeleteChannel', async (k, input) => {
  await k.channels.delete(input.ChannelARN);
  return undefined;
});
