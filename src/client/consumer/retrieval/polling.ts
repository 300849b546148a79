import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { ConsumerLogger } from '../types.js';
import { errorMessage, errorName, isThrottling, sleep } from '../util.js';
import type { RecordBatch, ShardReader, StartPosition } from './types.js';

export interface PollingOptions {
  kinesis: KinesisClient;
  stream: { StreamName?: string; StreamARN?: string };
  maxRecords: number;
  idleTimeBetweenReadsMs: number;
  logger: ConsumerLogger;
}

const MAX_BACKOFF_MS = 5_000;

/** Polling retrieval: GetShardIterator, then GetRecords until the shard ends (no NextShardIterator). */
export function pollingReader(opts: PollingOptions): ShardReader {
  return async function* read(shardId: string, start: StartPosition, signal: AbortSignal): AsyncGenerator<RecordBatch, void, undefined> {
    let lastSequenceNumber: string | undefined;
    let backoff = 100;
    const position = (): StartPosition =>
      lastSequenceNumber ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: lastSequenceNumber } : start;

    const getIterator = async (): Promise<string | undefined> => {
      while (!signal.aborted) {
        const p = position();
        try {
          const r = await opts.kinesis.send(
            new GetShardIteratorCommand({
              ...opts.stream,
              ShardId: shardId,
              ShardIteratorType: p.type,
              StartingSequenceNumber: p.sequenceNumber,
              Timestamp: p.timestamp,
            }),
            { abortSignal: signal },
          );
          backoff = 100;
          return r.ShardIterator;
        } catch (err) {
          if (signal.aborted) return undefined;
          opts.logger.warn({ shardId, err: errorMessage(err) }, 'GetShardIterator failed; retrying');
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
      }
      return undefined;
    };

    let iterator = await getIterator();
    while (!signal.aborted && iterator) {
      let out;
      try {
        out = await opts.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: opts.maxRecords }), { abortSignal: signal });
        backoff = 100;
      } catch (err) {
        if (signal.aborted) return;
        if (errorName(err) === 'ExpiredIteratorException') {
          iterator = await getIterator();
          continue;
        }
        if (isThrottling(err)) opts.logger.debug({ shardId, err: errorName(err) }, 'GetRecords throttled');
        else opts.logger.warn({ shardId, err: errorMessage(err) }, 'GetRecords failed; retrying');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (!isThrottling(err)) iterator = await getIterator();
        continue;
      }
      const records = out.Records ?? [];
      if (records.length) lastSequenceNumber = records[records.length - 1].SequenceNumber;
      if (!out.NextShardIterator) {
        yield { records, millisBehindLatest: out.MillisBehindLatest, childShards: out.ChildShards ?? [] };
        return;
      }
      iterator = out.NextShardIterator;
      yield { records, millisBehindLatest: out.MillisBehindLatest };
      if (records.length === 0 || out.MillisBehindLatest === 0) await sleep(opts.idleTimeBetweenReadsMs, signal);
    }
  };
}
