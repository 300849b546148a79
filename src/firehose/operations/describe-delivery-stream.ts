import { defineOperation } from './operation.js';

interface Input {
  DeliveryStreamName: string;
  Limit?: number;
  ExclusiveStartDestinationId?: string;
}

export const describeDeliveryStream = defineOperation<Input, unknown>('DescribeDeliveryStream', async (f, input) => {
  const description = await f.describe(input.DeliveryStreamName);
  // One destination per stream: starting after it leaves none.
  const after = input.ExclusiveStartDestinationId;
  if (after !== undefined) {
    description.Destinations = description.Destinations.filter((d: { DestinationId: string }) => d.DestinationId > after);
  }
  return { DeliveryStreamDescription: description };
});
