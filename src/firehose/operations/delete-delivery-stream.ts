import { defineOperation } from './operation.js';

interface Input {
  DeliveryStreamName: string;
  AllowForceDelete?: boolean;
}

export const deleteDeliveryStream = defineOperation<Input, unknown>('DeleteDeliveryStream', async (f, input) => {
  await f.delete(input.DeliveryStreamName);
  return {};
});
