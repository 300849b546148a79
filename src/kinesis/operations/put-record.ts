import { InvalidArgumentException } from '../../protocol/errors.js';
import { NOT_NULL } from '../../protocol/shape.js';
import { validationError, violation } from '../../protocol/validate.js';
import { writeEncryption } from '../encryption.js';
import { checkRecordSize, putEntries } from '../records.js';
import { parseSequenceNumber } from '../sequence-number.js';
import type { StreamRef } from './context.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  Data: Buffer;
  PartitionKey?: string;
  ExplicitHashKey?: string;
  SequenceNumberForOrdering?: string;
}

export const putRecord = defineOperation<Input, unknown>('PutRecord', async (k, input) => {
  const started = performance.now();
  const stream = await k.resolveReadable(input);
  if (input.PartitionKey === undefined && stream.meta.recordDistribution === 'USER_PARTITION_KEY') {
    // Only streams that spread records themselves (AUTO) take a record without a partition key.
    throw validationError([violation(null, 'partitionKey', NOT_NULL)]);
  }
  const size = checkRecordSize(stream, input, 'data');
  if (input.SequenceNumberForOrdering !== undefined) {
    // Judged by its structure alone, as AWS judges it (sequence-number.ts): a number of AWS's
    // version 1 or 2 layout whose arrival time has come; whose shard it names does not matter.
    const seq = parseSequenceNumber(input.SequenceNumberForOrdering);
    if (!seq || seq.version === 0 || seq.arrivalSeconds! * 1000 > k.now) {
      throw new InvalidArgumentException(
        `ExclusiveMinimumSequenceNumber ${input.SequenceNumberForOrdering} used in PutRecord on stream ` +
          `${stream.name} under account ${k.settings.accountId} is invalid.`,
      );
    }
    // Numbers grow with each shard's offset, and a later shard's with its creation time, so a
    // newly written record's number already exceeds any valid earlier one from its shard.
  }
  const [result] = await putEntries(k, stream, [input]);
  const ok = !result!.throttled && result!.fault === undefined;
  k.metrics.recordPutRecord(stream, ok, size, performance.now() - started, k.now);
  if (result!.throttled) throw k.limits.writeThrottled(stream, result!.shard);
  // The storage fault itself: the edge logs it and answers InternalFailureException (HTTP 500),
  // the one server fault AWS models for PutRecord.
  if (result!.fault !== undefined) throw result!.fault;
  return {
    ShardId: result!.shard.id,
    SequenceNumber: result!.sequenceNumber,
    EncryptionType: writeEncryption(stream.meta, k.now),
  };
});
