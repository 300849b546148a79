import { InvalidArgumentException, ResourceNotFoundException } from '../../protocol/errors.js';
import { decodeSequenceNumber, offsetFor } from '../sequence-number.js';
import type { Kinesis, StreamRef } from '../service.js';
import { shardIdOf, shardIndexOf } from '../shard.js';
import type { Stream } from '../stream.js';
import { defineOperation } from './operation.js';

type IteratorType = 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

interface Input extends StreamRef {
  ShardId: string;
  ShardIteratorType: IteratorType;
  StartingSequenceNumber?: string;
  Timestamp?: Date;
}

function shardNotFound(k: Kinesis, shardId: string, streamName: string) {
  return new ResourceNotFoundException(
    `Shard ${shardId} in stream ${streamName} under account ${k.settings.accountId} does not exist`,
  );
}

/** A missing stream is reported as a missing shard of that stream, as AWS does for this operation. */
async function resolveStream(k: Kinesis, input: Input, shardId: string): Promise<Stream> {
  const name = k.nameOf(input);
  try {
    return await k.resolve(input);
  } catch (err) {
    throw err instanceof ResourceNotFoundException ? shardNotFound(k, shardId, name) : err;
  }
}

export const getShardIterator = defineOperation<Input, unknown>('GetShardIterator', async (k, input) => {
  const account = k.settings.accountId;
  const type = input.ShardIteratorType;
  const index = shardIndexOf(input.ShardId);
  const shardId = index === undefined ? input.ShardId : shardIdOf(index);
  const stream = await resolveStream(k, input, shardId);
  const shard = index === undefined || stream.meta.status === 'CREATING' ? undefined : stream.shard(index);
  if (!shard) throw shardNotFound(k, shardId, stream.name);
  k.limits.beforeGetShardIterator(stream, shard, k.now);
  const seqText = input.StartingSequenceNumber;
  if (seqText !== undefined && (type === 'TRIM_HORIZON' || type === 'LATEST' || type === 'AT_TIMESTAMP')) {
    throw new InvalidArgumentException(
      'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
        '(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ' +
        `Request specified ${type} and also a StartingSequenceNumber.`,
    );
  }
  if (seqText === undefined && (type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER')) {
    throw new InvalidArgumentException(
      'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
        '(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ' +
        `Request specified ${type} and no StartingSequenceNumber.`,
    );
  }
  const now = k.now;
  const log = await k.retainedLog(stream, shard);
  const end = shard.meta.endOffset ?? log.nextOffset;
  let offset: number;
  switch (type) {
    case 'TRIM_HORIZON':
      offset = log.startOffset;
      break;
    case 'LATEST':
      offset = end;
      break;
    case 'AT_TIMESTAMP': {
      if (input.Timestamp === undefined) {
        throw new InvalidArgumentException(
          'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
        );
      }
      const ts = input.Timestamp.getTime();
      if (ts > now) {
        throw new InvalidArgumentException(
          `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. ` +
            `timestampInMillis: ${ts}, currentTimestampInMillis: ${now}`,
        );
      }
      offset = await log.offsetAtTimestamp(ts);
      break;
    }
    default: {
      const seq = decodeSequenceNumber(seqText!);
      if (!seq) {
        throw new InvalidArgumentException(
          `StartingSequenceNumber ${seqText} used in GetShardIterator on shard ${shard.id} in stream ${stream.name} ` +
            `under account ${account} is invalid.`,
        );
      }
      if (seq.shardIndex !== shard.index) {
        throw new InvalidArgumentException(
          `Invalid StartingSequenceNumber. It encodes ${shardIdOf(seq.shardIndex)}, while it was used in a call to a ` +
            `shard with ${shard.id}`,
        );
      }
      if (seq.shardCreatedSeconds !== shard.seq.createdSeconds) {
        throw new InvalidArgumentException(
          `StartingSequenceNumber ${seqText} used in GetShardIterator on shard ${shard.id} in stream ${stream.name} ` +
            `under account ${account} is invalid because it did not come from this stream.`,
        );
      }
      const at = offsetFor(seq, type === 'AFTER_SEQUENCE_NUMBER');
      offset = at > BigInt(end) ? end : Math.max(Number(at), log.startOffset);
    }
  }
  return {
    ShardIterator: k.iterators.encode({ streamKey: stream.key, shardIndex: shard.index, offset, issuedAt: now }),
  };
});
