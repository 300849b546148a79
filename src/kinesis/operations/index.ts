import { createStream } from './create-stream.js';
import { deleteStream } from './delete-stream.js';
import { describeLimits } from './describe-limits.js';
import { describeStream } from './describe-stream.js';
import { describeStreamSummary } from './describe-stream-summary.js';
import { getRecords } from './get-records.js';
import { getShardIterator } from './get-shard-iterator.js';
import { listShards } from './list-shards.js';
import { listStreams } from './list-streams.js';
import type { Operation } from './operation.js';
import { putRecord } from './put-record.js';
import { putRecords } from './put-records.js';

/** Every Kinesis operation served, by name. */
export const kinesisOperations: ReadonlyMap<string, Operation> = new Map(
  [
    createStream,
    deleteStream,
    describeLimits,
    describeStream,
    describeStreamSummary,
    getRecords,
    getShardIterator,
    listShards,
    listStreams,
    putRecord,
    putRecords,
  ].map((op) => [op.name, op as Operation]),
);
