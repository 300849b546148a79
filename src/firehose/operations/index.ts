import { operationTable, type OperationTable } from '../../protocol/operation.js';
import { createDeliveryStream } from './create-delivery-stream.js';
import { deleteDeliveryStream } from './delete-delivery-stream.js';
import { describeDeliveryStream } from './describe-delivery-stream.js';
import { startDeliveryStreamEncryption, stopDeliveryStreamEncryption } from './encryption.js';
import { listDeliveryStreams } from './list-delivery-streams.js';
import type { FirehoseContext } from './operation.js';
import { putRecordBatch } from './put-record-batch.js';
import { putRecord } from './put-record.js';
import { listTagsForDeliveryStream, tagDeliveryStream, untagDeliveryStream } from './tags.js';
import { updateDestination } from './update-destination.js';

/** Every Firehose operation (API 2015-08-04), by name. */
export const firehoseOperations: OperationTable<FirehoseContext> = operationTable<FirehoseContext>([
  createDeliveryStream,
  deleteDeliveryStream,
  describeDeliveryStream,
  listDeliveryStreams,
  updateDestination,
  putRecord,
  putRecordBatch,
  tagDeliveryStream,
  untagDeliveryStream,
  listTagsForDeliveryStream,
  startDeliveryStreamEncryption,
  stopDeliveryStreamEncryption,
]);

export const FIREHOSE_TARGET_PREFIX = 'Firehose_20150804';
