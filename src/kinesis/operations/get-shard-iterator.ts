import { ResourceNotFoundException } from '../../protocol/errors.js';
import { checkPositionArguments, shardNotFound, shardUnknown, startingOffset, type PositionType } from '../starting-position.js';
import type { OperationContext, StreamRef } from './context.js';
import { shardIdOf, shardIndexOf } from '../shard.js';
import type { Stream } from '../stream.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  ShardId: string;
  ShardIteratorType: PositionType;
  StartingSequenceNumber?: string;
  Timestamp?: Date;
}

/** A missing stream is reported as a missing shard of that stream, as AWS does for this operation. */
async function resolveStream(k: OperationContext, input: Input, shardId: string): Promise<Stream> {
  const name = k.nameOf(input);
  try {
    return await k.resolve(input);
  } catch (err) {
    throw err instanceof ResourceNotFoundException ? shardNotFound(k, shardId, name) : err;
  }
}

export const getShardIterator = defineOperation<Input, unknown>('GetShardIterator', async (k, input) => {
  const index = shardIndexOf(input.ShardId);
  const shardId = index === undefined ? input.ShardId : shardIdOf(index);
  const stream = await resolveStream(k, input, shardId);
  // An id that names no shard at all is "not found" in other words than one the stream lacks.
  if (index === undefined) throw shardUnknown(k, shardId, stream.name);
  const shard = stream.meta.status === 'CREATING' ? undefined : stream.shard(index);
  if (!shard) throw shardNotFound(k, shardId, stream.name);
  const pos = { type: input.ShardIteratorType, sequenceNumber: input.StartingSequenceNumber, timestamp: input.Timestamp };
  checkPositionArguments(pos);
  const now = k.now;
  const log = await k.retainedLog(stream, shard);
  const offset = await startingOffset(k, stream, shard, log, pos, 'GetShardIterator');
  // A request that cannot be served gets its own error first, whatever the shard's call budget.
  k.limits.beforeGetShardIterator(stream, shard, now);
  return {
    ShardIterator: k.iterators.encode({ streamKey: stream.key, shardIndex: shard.index, offset, issuedAt: now }),
  };
});
