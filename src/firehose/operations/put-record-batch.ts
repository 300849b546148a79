import { InvalidArgumentException } from '../../protocol/errors.js';
import { BATCH_MAX_BYTES } from '../service.js';
import { defineOperation } from './operation.js';

interface Input {
  DeliveryStreamName: string;
  Records: { Data: Buffer }[];
}

export const putRecordBatch = defineOperation<Input, unknown>('PutRecordBatch', async (f, input) => {
  let bytes = 0;
  for (const r of input.Records) bytes += r.Data.length;
  if (bytes > BATCH_MAX_BYTES) {
    throw new InvalidArgumentException(`Records size exceeds ${BATCH_MAX_BYTES / 1024 / 1024} MB limit`);
  }
  // The records are appended as one unit: all are accepted, or the call fails as a whole.
  const { ids, encrypted } = await f.put(
    input.DeliveryStreamName,
    input.Records.map((r) => r.Data),
  );
  return { FailedPutCount: 0, Encrypted: encrypted, RequestResponses: ids.map((RecordId) => ({ RecordId })) };
});
