import type { DeliveryStreamType } from '../model.js';
import { defineOperation } from './operation.js';

interface Input {
  Limit?: number;
  DeliveryStreamType?: DeliveryStreamType;
  ExclusiveStartDeliveryStreamName?: string;
}

export const listDeliveryStreams = defineOperation<Input, unknown>('ListDeliveryStreams', async (f, input) => {
  const { names, more } = await f.list(input.DeliveryStreamType, input.ExclusiveStartDeliveryStreamName, input.Limit ?? 10);
  return { DeliveryStreamNames: names, HasMoreDeliveryStreams: more };
});
