import { InvalidArgumentException, ResourceNotFoundException } from '../protocol/errors.js';
import type { ShardLog } from '../storage/types.js';
import { decodeSequenceNumber, offsetFor, parseSequenceNumber } from './sequence-number.js';
import type { KinesisContext } from './context.js';
import { shardIdOf, type Shard } from './shard.js';
import type { Stream } from './stream.js';

export type PositionType = 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/** Where a reader starts: GetShardIterator's iterator type or SubscribeToShard's StartingPosition. */
export interface StartingPosition {
  type: PositionType;
  sequenceNumber?: string;
  timestamp?: Date;
}

/** A shard id that names a shard (shard.ts shardIndexOf) the stream does not have. `shardId` is normalised. */
export function shardNotFound(k: KinesisContext, shardId: string, streamName: string) {
  return new ResourceNotFoundException(
    `Shard ${shardId} in stream ${streamName} under account ${k.settings.accountId} does not exist`,
  );
}

/**
 * A shard id that names no shard at all, as given (GetShardIterator, SubscribeToShard), or a shard
 * that SplitShard or MergeShards cannot find.
 */
export function shardUnknown(k: KinesisContext, shardId: string, streamName: string) {
  return new ResourceNotFoundException(
    `Could not find shard ${shardId} in stream ${streamName} under account ${k.settings.accountId}.`,
  );
}

function mustEitherSpecify(type: PositionType, also: boolean) {
  return new InvalidArgumentException(
    'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
      '(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ' +
      `Request specified ${type} and ${also ? 'also a' : 'no'} StartingSequenceNumber.`,
  );
}

/** A sequence number goes with AT/AFTER_SEQUENCE_NUMBER and with nothing else. */
export function checkPositionArguments(pos: StartingPosition): void {
  const { type, sequenceNumber } = pos;
  if (sequenceNumber !== undefined && (type === 'TRIM_HORIZON' || type === 'LATEST' || type === 'AT_TIMESTAMP')) {
    throw mustEitherSpecify(type, true);
  }
  if (sequenceNumber === undefined && (type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER')) {
    throw mustEitherSpecify(type, false);
  }
}

/**
 * The log offset a starting position names: TRIM_HORIZON the oldest retained record, LATEST just
 * after the newest (a closed shard's end), AT/AFTER_SEQUENCE_NUMBER at or after a record of this
 * shard, AT_TIMESTAMP the first record that arrived at or after the time. `operation` names the
 * caller in AWS's messages.
 */
export async function startingOffset(
  k: KinesisContext,
  stream: Stream,
  shard: Shard,
  log: ShardLog,
  pos: StartingPosition,
  operation: string,
): Promise<number> {
  checkPositionArguments(pos);
  const account = k.settings.accountId;
  const end = Math.min(shard.meta.endOffset ?? log.nextOffset, log.nextOffset);
  switch (pos.type) {
    case 'TRIM_HORIZON':
      return log.startOffset;
    case 'LATEST':
      return end;
    case 'AT_TIMESTAMP': {
      if (pos.timestamp === undefined) {
        throw new InvalidArgumentException(
          'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
        );
      }
      const ts = pos.timestamp.getTime();
      const now = k.now;
      if (ts > now) {
        throw new InvalidArgumentException(
          `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. ` +
            `timestampInMillis: ${ts}, currentTimestampInMillis: ${now}`,
        );
      }
      return Math.min(await log.offsetAtTimestamp(ts), end);
    }
    default: {
      const text = pos.sequenceNumber!;
      const invalid = (why: string) =>
        new InvalidArgumentException(
          `StartingSequenceNumber ${text} used in ${operation} on shard ${shard.id} in stream ${stream.name} ` +
            `under account ${account} is invalid${why}.`,
        );
      // Read by AWS's layouts (sequence-number.ts) first, so that a number of another shard, or of
      // an older layout, is refused in AWS's words.
      const parsed = parseSequenceNumber(text);
      if (!parsed) throw invalid('');
      if (parsed.shardIndex !== shard.index) {
        throw new InvalidArgumentException(
          `Invalid StartingSequenceNumber. It encodes ${shardIdOf(parsed.shardIndex)}, while it was used in a call to a ` +
            `shard with ${shard.id}`,
        );
      }
      // AWS answers a version-0 number that names the right shard (`0` for shard 0) with a bare
      // InternalFailure; it did not come from this stream either, and is told so here.
      const seq = parsed.version === 2 && parsed.shardCreatedSeconds === shard.seq.createdSeconds ? decodeSequenceNumber(text) : undefined;
      if (!seq) throw invalid(' because it did not come from this stream');
      const at = offsetFor(seq, pos.type === 'AFTER_SEQUENCE_NUMBER');
      return at > BigInt(end) ? end : Math.max(Number(at), log.startOffset);
    }
  }
}
