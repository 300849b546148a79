import {
  InvalidArgumentException,
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '../../protocol/errors.js';
import { EventStreamOutput } from '../../protocol/eventstream.js';
import type { ShardLog } from '../../storage/types.js';
import { consumerArn, consumerNotFoundByArn, consumersOf, parseConsumerArn } from '../consumers.js';
import { decodeSequenceNumber, offsetFor } from '../sequence-number.js';
import type { Kinesis } from '../service.js';
import { shardIdOf, shardIndexOf, type Shard } from '../shard.js';
import type { Stream } from '../stream.js';
import { defineOperation } from './operation.js';

type PositionType = 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

interface Input {
  ConsumerARN: string;
  ShardId: string;
  StartingPosition: { Type: PositionType; SequenceNumber?: string; Timestamp?: Date };
}

function shardNotFound(k: Kinesis, shardId: string, streamName: string) {
  return new ResourceNotFoundException(
    `Shard ${shardId} in stream ${streamName} under account ${k.settings.accountId} does not exist`,
  );
}

/**
 * The log offset a StartingPosition names, by the same rules as GetShardIterator's iterator types:
 * TRIM_HORIZON the oldest retained record, LATEST just after the newest, AT/AFTER_SEQUENCE_NUMBER at
 * or after a record of this shard, AT_TIMESTAMP the first record that arrived at or after the time.
 */
async function startingOffset(k: Kinesis, stream: Stream, shard: Shard, log: ShardLog, input: Input): Promise<number> {
  const account = k.settings.accountId;
  const { Type: type, SequenceNumber: seqText, Timestamp: timestamp } = input.StartingPosition;
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
  const end = shard.meta.endOffset ?? log.nextOffset;
  switch (type) {
    case 'TRIM_HORIZON':
      return log.startOffset;
    case 'LATEST':
      return end;
    case 'AT_TIMESTAMP': {
      if (timestamp === undefined) {
        throw new InvalidArgumentException(
          'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
        );
      }
      const ts = timestamp.getTime();
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
      const seq = decodeSequenceNumber(seqText!);
      if (!seq) {
        throw new InvalidArgumentException(
          `StartingSequenceNumber ${seqText} used in SubscribeToShard on shard ${shard.id} in stream ${stream.name} ` +
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
          `StartingSequenceNumber ${seqText} used in SubscribeToShard on shard ${shard.id} in stream ${stream.name} ` +
            `under account ${account} is invalid because it did not come from this stream.`,
        );
      }
      const at = offsetFor(seq, type === 'AFTER_SEQUENCE_NUMBER');
      return at > BigInt(end) ? end : Math.max(Number(at), log.startOffset);
    }
  }
}

/**
 * The sequence number a subscription reports while it has delivered nothing yet: that of the
 * record just before its position (so AFTER_SEQUENCE_NUMBER of it resumes at the position), or the
 * shard's starting number when the position is the shard's start.
 */
async function continuationBefore(shard: Shard, log: ShardLog, position: number): Promise<string> {
  if (position <= 0) return shard.seq.starting();
  const arrival = (await log.timestampAt(position - 1)) ?? shard.meta.createdAt;
  return shard.seq.encode(position - 1, arrival);
}

/**
 * SubscribeToShard. Everything that can be refused is checked here, before the response starts,
 * and refused as an ordinary error response; the event stream itself is opened by the server once
 * the HTTP response is under way.
 */
export const subscribeToShard = defineOperation<Input, EventStreamOutput>('SubscribeToShard', async (k, input) => {
  const account = k.settings.accountId;
  const arn = input.ConsumerARN;
  const parsed = parseConsumerArn(k, arn);
  if (!parsed) throw consumerNotFoundByArn(arn);
  const stream = await k.resolve({ StreamName: parsed.streamName }).catch((err: unknown) => {
    throw err instanceof ResourceNotFoundException ? consumerNotFoundByArn(arn) : err;
  });
  const consumer = (await consumersOf(k, stream)).find(
    (c) => c.name === parsed.consumerName && Math.floor(c.createdAt / 1000) === parsed.creationSeconds,
  );
  if (!consumer) throw consumerNotFoundByArn(arn);
  if (consumer.status !== 'ACTIVE') {
    throw new ResourceInUseException(
      `Consumer ${consumer.name} with creation timestamp ${Math.floor(consumer.createdAt / 1000)} under stream: ` +
        `${stream.name} , account ${account} is not in ACTIVE status.`,
    );
  }
  const index = shardIndexOf(input.ShardId);
  const shardId = index === undefined ? input.ShardId : shardIdOf(index);
  const shard = index === undefined || stream.meta.status === 'CREATING' ? undefined : stream.shard(index);
  if (!shard) throw shardNotFound(k, shardId, stream.name);
  const log = await k.retainedLog(stream, shard);
  const position = await startingOffset(k, stream, shard, log, input);
  const continuation = await continuationBefore(shard, log, position);

  const gateKey = `${stream.key}\u0000${consumer.name}\u0000${consumer.createdAt}\u0000${shard.index}`;
  k.fanOut.admit(
    gateKey,
    () =>
      new LimitExceededException(
        `Rate exceeded for consumer ${consumer.name} and shard ${shard.id} in stream ${stream.name} under account ${account}.`,
      ),
    () =>
      new ResourceInUseException(
        `Another active subscription exists for this consumer: ${account}:${stream.name}:${shard.id}:${consumer.name}`,
      ),
  );
  const fullArn = consumerArn(stream, consumer);
  return new EventStreamOutput((sink, format) => {
    k.fanOut.open(gateKey, { stream, shard, consumer, consumerArn: fullArn, position, continuation }, sink, format);
  });
});
