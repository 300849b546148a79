import {
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '../../protocol/errors.js';
import { EventStreamOutput } from '../../protocol/eventstream.js';
import type { ShardLog } from '../../storage/types.js';
import { consumerArn, consumerNotFoundByArn, consumersOf, parseConsumerArn } from '../consumers.js';
import { shardNotFound, shardUnknown, startingOffset, type PositionType } from '../starting-position.js';
import { shardIdOf, shardIndexOf, type Shard } from '../shard.js';
import { defineOperation } from './operation.js';

interface Input {
  ConsumerARN: string;
  ShardId: string;
  StartingPosition: { Type: PositionType; SequenceNumber?: string; Timestamp?: Date };
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
  if (index === undefined) throw shardUnknown(k, shardId, stream.name);
  const shard = stream.meta.status === 'CREATING' ? undefined : stream.shard(index);
  if (!shard) throw shardNotFound(k, shardId, stream.name);
  const log = await k.retainedLog(stream, shard);
  const { Type: type, SequenceNumber: sequenceNumber, Timestamp: timestamp } = input.StartingPosition;
  const position = await startingOffset(k, stream, shard, log, { type, sequenceNumber, timestamp }, 'SubscribeToShard');
  const continuation = await continuationBefore(shard, log, position);

  const gateKey = `${stream.key}\u0000${consumer.name}\u0000${consumer.createdAt}\u0000${shard.index}`;
  k.fanOut.admit(
    gateKey,
    () => {
      k.metrics.recordSubscribeRateExceeded(stream, k.now);
      return new LimitExceededException(
        `Rate exceeded for consumer ${consumer.name} and shard ${shard.id} in stream ${stream.name} under account ${account}.`,
      );
    },
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
