import { InvalidArgumentException } from '../../protocol/errors.js';
import { NOT_NULL } from '../../protocol/shape.js';
import { MAX_VIOLATIONS, validationError, violation } from '../../protocol/validate.js';
import { writeEncryption } from '../encryption.js';
import { checkRecordSize, PUT_RECORDS_MAX_BYTES, putEntries, type PutEntry } from '../records.js';
import type { StreamRef } from './context.js';
import type { Stream } from '../stream.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  Records: PutEntry[];
}

/**
 * A stream that routes by partition key needs one on every entry; the missing ones are reported
 * together, by their place in the list, as the model's own violations are.
 */
function checkPartitionKeys(stream: Stream, records: readonly PutEntry[]): void {
  if (stream.meta.recordDistribution !== 'USER_PARTITION_KEY') return;
  const errors: string[] = [];
  for (let i = 0; i < records.length && errors.length < MAX_VIOLATIONS; i++) {
    if (records[i]!.PartitionKey === undefined) {
      errors.push(violation(null, `records.${i + 1}.member.partitionKey`, NOT_NULL));
    }
  }
  if (errors.length > 0) throw validationError(errors);
}

/**
 * An entry whose shard's storage failed: the error code and message the PutRecordsResultEntry
 * reference gives for InternalFailure. The producer retries it, as it does a throttled one.
 */
const INTERNAL_FAILURE = Object.freeze({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' });

export const putRecords = defineOperation<Input, unknown>('PutRecords', async (k, input) => {
  const started = performance.now();
  const stream = await k.resolveReadable(input);
  checkPartitionKeys(stream, input.Records);
  let total = 0;
  for (let i = 0; i < input.Records.length; i++) {
    total += checkRecordSize(stream, input.Records[i]!, `records.${i + 1}.member.data`);
  }
  if (total > PUT_RECORDS_MAX_BYTES) {
    throw new InvalidArgumentException(`Records size exceeds 10 MB limit`);
  }
  const results = await putEntries(k, stream, input.Records);
  let throttled = 0;
  let faulted = 0;
  const records = results.map((r) => {
    if (r.throttled) {
      throttled++;
      return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: k.limits.writeThrottledMessage(stream, r.shard) };
    }
    if (r.fault !== undefined) {
      faulted++;
      return INTERNAL_FAILURE;
    }
    return { SequenceNumber: r.sequenceNumber, ShardId: r.shard.id };
  });
  // Entries whose storage failed count as FailedRecords, neither put nor throttled.
  k.metrics.recordPutRecords(stream, results.length, throttled, total, performance.now() - started, k.now, faulted);
  return {
    FailedRecordCount: throttled + faulted,
    Records: records,
    EncryptionType: writeEncryption(stream.meta, k.now),
  };
});
