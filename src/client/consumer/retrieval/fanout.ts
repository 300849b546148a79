import {
  DescribeStreamConsumerCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type KinesisClient,
  type StartingPosition,
} from '@aws-sdk/client-kinesis';
import type { ConsumerLogger } from '../types.js';
import { errorMessage, errorName, isThrottling, sleep } from '../util.js';
import type { RecordBatch, ShardReader, StartPosition } from './types.js';

/**
 * Registers the stream consumer (or finds the one already registered under that name) and waits
 * until it is ACTIVE; returns its ARN.
 */
export async function ensureStreamConsumer(
  kinesis: KinesisClient,
  streamARN: string,
  consumerName: string,
  logger: ConsumerLogger,
  timeoutMs = 120_000,
): Promise<string> {
  let arn: string | undefined;
  let status: string | undefined;
  try {
    const r = await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: consumerName }));
    arn = r.Consumer?.ConsumerARN;
    status = r.Consumer?.ConsumerStatus;
    logger.info({ consumerName, consumerARN: arn }, 'registered stream consumer');
  } catch (err) {
    if (errorName(err) !== 'ResourceInUseException') throw err;
  }
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (status !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`stream consumer ${consumerName} did not become ACTIVE`);
    if (status !== undefined) await sleep(delay);
    delay = Math.min(delay * 2, 1_000);
    try {
      const d = await kinesis.send(
        new DescribeStreamConsumerCommand(arn ? { ConsumerARN: arn } : { StreamARN: streamARN, ConsumerName: consumerName }),
      );
      arn = d.ConsumerDescription?.ConsumerARN;
      status = d.ConsumerDescription?.ConsumerStatus;
    } catch (err) {
      if (!isThrottling(err)) throw err;
      status = 'THROTTLED';
    }
  }
  return arn!;
}

export interface FanOutOptions {
  kinesis: KinesisClient;
  consumerARN: string;
  logger: ConsumerLogger;
}

function startingPosition(p: StartPosition): StartingPosition {
  return { Type: p.type, SequenceNumber: p.sequenceNumber, Timestamp: p.timestamp };
}

/**
 * Enhanced fan-out retrieval: SubscribeToShard, one batch per SubscribeToShardEvent. A
 * subscription ends after 5 minutes (or on an error); the next one continues AFTER_SEQUENCE_NUMBER
 * of the last ContinuationSequenceNumber. The event without ContinuationSequenceNumber is the end
 * of the shard and carries its ChildShards.
 */
export function fanOutReader(opts: FanOutOptions): ShardReader {
  return async function* read(shardId: string, start: StartPosition, signal: AbortSignal): AsyncGenerator<RecordBatch, void, undefined> {
    let position = start;
    let backoff = 200;
    while (!signal.aborted) {
      let stream;
      try {
        const out = await opts.kinesis.send(
          new SubscribeToShardCommand({ ConsumerARN: opts.consumerARN, ShardId: shardId, StartingPosition: startingPosition(position) }),
          { abortSignal: signal },
        );
        stream = out.EventStream;
      } catch (err) {
        if (signal.aborted) return;
        const name = errorName(err);
        // ResourceInUseException: another subscription for this shard started less than 5 s ago.
        if (name === 'ResourceInUseException' || isThrottling(err)) opts.logger.debug({ shardId, err: name }, 'SubscribeToShard refused; retrying');
        else opts.logger.warn({ shardId, err: errorMessage(err) }, 'SubscribeToShard failed; retrying');
        await sleep(name === 'ResourceInUseException' || isThrottling(err) ? Math.max(backoff, 1_000) : backoff, signal);
        backoff = Math.min(backoff * 2, 5_000);
        continue;
      }
      if (!stream) continue;
      try {
        for await (const event of stream) {
          const e = event.SubscribeToShardEvent;
          if (!e) {
            const [kind] = Object.keys(event);
            throw new Error(`SubscribeToShard event stream error: ${kind}`);
          }
          backoff = 200;
          if (e.ContinuationSequenceNumber) {
            position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: e.ContinuationSequenceNumber };
            yield { records: e.Records ?? [], millisBehindLatest: e.MillisBehindLatest };
          } else {
            yield { records: e.Records ?? [], millisBehindLatest: e.MillisBehindLatest, childShards: e.ChildShards ?? [] };
            return;
          }
          if (signal.aborted) return;
        }
        if (signal.aborted) return;
        opts.logger.debug({ shardId }, 'subscription ended; resubscribing');
      } catch (err) {
        if (signal.aborted) return;
        opts.logger.debug({ shardId, err: errorMessage(err) }, 'subscription failed; resubscribing');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  };
}
