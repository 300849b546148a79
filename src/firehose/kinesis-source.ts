/**
 * A KinesisStreamAsSource delivery stream's reader. It reads its Kinesis stream through the
 * Kinesis service's own operations (ListShards, GetShardIterator, GetRecords, so that the stream's
 * limits, encryption and resharding apply as to any consumer), de-aggregates KPL records, and
 * appends the user records to the delivery stream's log with their Kinesis metadata; delivery then
 * proceeds as for Direct PUT. Each shard's position (the last sequence number appended) is saved
 * after the append, so a crash between the two re-reads a page: at least once, never less.
 *
 * Reading starts where AWS starts it: at the stream's tip when the delivery stream was created
 * (AT_TIMESTAMP of DeliveryStartTimestamp). A round lists the shards and reads each of them, page
 * after page while a shard has more; a round starts once a second.
 */
import type { Logger } from 'pino';
import { deaggregate } from '../client/aggregation.js';
import type { Catalog } from '../storage/catalog.js';
import type { ShardLog } from '../storage/types.js';
import type { KinesisSource } from './model.js';

/** What the reader needs of the Kinesis service: its operations, called in-process. */
export interface KinesisOperations {
  call(operation: string, input: Record<string, unknown>): Promise<any>;
}

const POLL_MS = 1_000;
const PAGE = 10_000;

interface ShardState {
  /** Last sequence number appended to the delivery stream's log. */
  after?: string;
  /** The shard ended and was read to its end. */
  done?: boolean;
}

export class KinesisSourceReader {
  private positions: Record<string, ShardState> | undefined;
  /** When the last round over the shards started (wall clock: the poll rate is real time). */
  private lastRound = -Infinity;
  private closed = false;

  constructor(
    private readonly o: {
      source: KinesisSource;
      deliveryStreamId: string;
      kinesis: KinesisOperations;
      log: ShardLog;
      catalog: Catalog;
      logger: Logger;
      now: () => number;
      /** Told of each page appended: its user records and their data bytes. */
      onRead?: (records: number, bytes: number) => void;
    },
  ) {}

  close(): void {
    this.closed = true;
  }

  /** Reads what is due from every shard; resolves to the number of records appended. */
  async step(): Promise<number> {
    const key = `firehose/kinesis-positions/${this.o.deliveryStreamId}`;
    this.positions ??= JSON.parse((await this.o.catalog.getSetting(key)) ?? '{}') as Record<string, ShardState>;
    const positions = this.positions;
    if (Date.now() - this.lastRound < POLL_MS) return 0;
    this.lastRound = Date.now();
    const shards = await this.listShards();
    let appended = 0;
    for (const shard of shards) {
      if (this.closed) break;
      const state = (positions[shard.ShardId] ??= {});
      if (state.done) continue;
      for (;;) {
        const iterator = await this.iterator(shard.ShardId, state);
        if (iterator === undefined) break;
        const out = await this.o.kinesis.call('GetRecords', { StreamARN: this.o.source.streamARN, ShardIterator: iterator, Limit: PAGE });
        const records: { SequenceNumber: string; ApproximateArrivalTimestamp: Date; Data: Buffer; PartitionKey?: string }[] = out.Records ?? [];
        if (records.length > 0) {
          const inputs = [];
          for (const r of records) {
            for (const user of deaggregate(r)) {
              const metadata = {
                shardId: shard.ShardId,
                partitionKey: user.partitionKey ?? '',
                sequenceNumber: r.SequenceNumber,
                ...(user.aggregated ? { subsequenceNumber: user.subSequenceNumber } : {}),
                approximateArrivalTimestamp: r.ApproximateArrivalTimestamp.getTime(),
              };
              inputs.push({ partitionKey: JSON.stringify(metadata), data: Buffer.from(user.data) });
            }
          }
          await this.o.log.append(inputs, this.o.now());
          appended += inputs.length;
          if (this.o.onRead) {
            let bytes = 0;
            for (const i of inputs) bytes += i.data.length;
            this.o.onRead(inputs.length, bytes);
          }
          state.after = records[records.length - 1]!.SequenceNumber;
        }
        if (out.NextShardIterator === undefined || out.NextShardIterator === null) state.done = true;
        await this.o.catalog.putSetting(key, JSON.stringify(positions));
        if (records.length < PAGE || state.done || this.closed) break;
      }
    }
    return appended;
  }

  private async listShards(): Promise<{ ShardId: string }[]> {
    const shards: { ShardId: string }[] = [];
    let token: string | undefined;
    do {
      const out = await this.o.kinesis.call('ListShards', token ? { NextToken: token } : { StreamARN: this.o.source.streamARN });
      shards.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token);
    return shards;
  }

  private async iterator(shardId: string, state: ShardState): Promise<string | undefined> {
    const input: Record<string, unknown> = { StreamARN: this.o.source.streamARN, ShardId: shardId };
    if (state.after !== undefined) {
      input.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER';
      input.StartingSequenceNumber = state.after;
    } else {
      input.ShardIteratorType = 'AT_TIMESTAMP';
      input.Timestamp = new Date(this.o.source.startedAt);
    }
    try {
      const out = await this.o.kinesis.call('GetShardIterator', input);
      return out.ShardIterator;
    } catch (err) {
      this.o.logger.warn({ err, shardId }, 'reading the Kinesis source failed');
      return undefined;
    }
  }
}
