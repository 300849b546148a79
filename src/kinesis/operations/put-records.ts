import { InvalidArgumentException } from '../../protocol/errors.js';
import { checkRecordSize, PUT_RECORDS_MAX_BYTES, putEntries, type PutEntry } from '../records.js';
import type { StreamRef } from '../service.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  Records: PutEntry[];
}

export const putRecords = defineOperation<Input, unknown>('PutRecords', async (k, input) => {
  const stream = await k.resolveReadable(input);
  let total = 0;
  for (let i = 0; i < input.Records.length; i++) {
    total += checkRecordSize(stream, input.Records[i]!, `records.${i + 1}.member.data`);
  }
  if (total > PUT_RECORDS_MAX_BYTES) {
    throw new InvalidArgumentException(`Records size exceeds 10 MB limit`);
  }
  const results = await putEntries(k, stream, input.Records);
  return {
    FailedRecordCount: 0,
    Records: results.map((r) => ({ SequenceNumber: r.sequenceNumber, ShardId: r.shard.id })),
    EncryptionType: stream.meta.encryptionType === 'KMS' ? 'KMS' : undefined,
  };
});
