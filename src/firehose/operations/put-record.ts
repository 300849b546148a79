import { defineOperation } from './operation.js';

interface Input {
  DeliveryStreamName: string;
  Record: { Data: Buffer };
}

export const putRecord = defineOperation<Input, unknown>('PutRecord', async (f, input) => {
  const { ids, encrypted } = await f.put(input.DeliveryStreamName, [input.Record.Data], 'PutRecord');
  return { RecordId: ids[0], Encrypted: encrypted };
});
