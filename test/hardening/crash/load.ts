/**
 * The mixed load a crash round runs until the server is killed: puts (PutRecord and PutRecords),
 * reads (iterators of every type, GetRecords), resharding (SplitShard, MergeShards,
 * UpdateShardCount), streams created, written and deleted, and consumers registered and
 * deregistered. Each worker writes what it asked for and what was acknowledged into the model.
 *
 * An error with no HTTP reply is expected once the kill has started; before that, any error
 * outside a worker's expected AWS errors is a fault, and the round fails on it.
 */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ListStreamConsumersCommand,
  ListStreamsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { describeError, errorKind, parsePayload, payload, type Model } from './model.js';

/** The streams that live through every round; d0 is resharded, d1 carries consumers. */
export const DURABLE = [
  { name: 'd0', shards: 2 },
  { name: 'd1', shards: 3 },
];
const MAX_OPEN_SHARDS = 6;

export interface LoadContext {
  client: KinesisClient;
  model: Model;
  round: number;
  rng: () => number;
  /** Workers stop starting requests. */
  stop: boolean;
  /** The server is being killed: errors without a reply are expected from here on. */
  killing: boolean;
  /** Unexpected errors and wrong answers seen while the server was up. */
  faults: string[];
  /** Requests answered, by kind, for the report. */
  counts: Record<string, number>;
}

function count(ctx: LoadContext, what: string, n = 1): void {
  ctx.counts[what] = (ctx.counts[what] ?? 0) + n;
}

/** Files an error: fine when the server is being killed or when it is one of `expected`. */
function note(ctx: LoadContext, what: string, err: unknown, expected: readonly string[] = []): void {
  const kind = errorKind(err);
  if (kind === 'transport' && ctx.killing) return;
  if (kind === 'client' && expected.includes((err as Error).name)) return;
  ctx.faults.push(`${what}: ${describeError(err)}`);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

async function writer(ctx: LoadContext, stream: string, name: string): Promise<void> {
  const { client, model, rng, round } = ctx;
  let n = 0;
  while (!ctx.stop) {
    const single = rng() < 0.3;
    const size = single ? 1 : 1 + Math.floor(rng() * 40);
    const entries = Array.from({ length: size }, () => {
      const data = payload(stream, round, name, n++, Math.floor(rng() * 300));
      model.sent.add(data);
      return { PartitionKey: `pk-${Math.floor(rng() * 1000)}`, Data: Buffer.from(data) };
    });
    try {
      if (single) {
        const r = await client.send(new PutRecordCommand({ StreamName: stream, ...entries[0]! }));
        model.acked.set(entries[0]!.Data.toString(), { stream, shard: r.ShardId!, seq: r.SequenceNumber!, round });
        count(ctx, 'PutRecord');
      } else {
        const r = await client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
        r.Records!.forEach((e, i) => {
          if (e.SequenceNumber) model.acked.set(entries[i]!.Data.toString(), { stream, shard: e.ShardId!, seq: e.SequenceNumber, round });
          else ctx.faults.push(`PutRecords ${stream}: entry failed with ${e.ErrorCode}: ${e.ErrorMessage}`);
        });
        count(ctx, 'PutRecords');
      }
    } catch (err) {
      note(ctx, `put to ${stream}`, err);
    }
  }
}

async function openShards(client: KinesisClient, stream: string): Promise<Shard[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  return Shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).sort((a, b) =>
    BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
  );
}

async function reader(ctx: LoadContext): Promise<void> {
  const { client, model, rng } = ctx;
  while (!ctx.stop) {
    const stream = pick(rng, DURABLE.map((d) => d.name));
    try {
      const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
      if (Shards.length === 0) continue;
      const shard = pick(rng, Shards);
      const type = pick(rng, ['TRIM_HORIZON', 'LATEST', 'AT_SEQUENCE_NUMBER', 'AT_TIMESTAMP'] as const);
      const it = await client.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId!,
          ShardIteratorType: type,
          StartingSequenceNumber: type === 'AT_SEQUENCE_NUMBER' ? shard.SequenceNumberRange!.StartingSequenceNumber : undefined,
          Timestamp: type === 'AT_TIMESTAMP' ? new Date(Date.now() - 3_600_000) : undefined,
        }),
      );
      let iterator = it.ShardIterator;
      for (let page = 0; page < 3 && iterator && !ctx.stop; page++) {
        const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 500 }));
        count(ctx, 'GetRecords');
        for (const rec of r.Records ?? []) {
          const data = Buffer.from(rec.Data!).toString();
          const origin = parsePayload(data);
          if (!model.sent.has(data) || origin?.stream !== stream) {
            ctx.faults.push(`GetRecords on ${stream}/${shard.ShardId} served a record never sent there: ${data.slice(0, 60)}`);
          }
        }
        iterator = r.NextShardIterator;
      }
    } catch (err) {
      // A shard can close or a churn stream go between the calls.
      note(ctx, `read ${stream}`, err, ['ResourceNotFoundException', 'ResourceInUseException']);
    }
  }
}

async function waitActive(ctx: LoadContext, stream: string): Promise<boolean> {
  while (!ctx.stop) {
    const { StreamDescriptionSummary: d } = await ctx.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (d!.StreamStatus === 'ACTIVE') return true;
    await pause(25);
  }
  return false;
}

async function resharder(ctx: LoadContext): Promise<void> {
  const { client, rng } = ctx;
  const stream = 'd0';
  while (!ctx.stop) {
    try {
      if (!(await waitActive(ctx, stream))) return;
      const open = await openShards(client, stream);
      const action = rng();
      if (action < 0.4 && open.length < MAX_OPEN_SHARDS) {
        const shard = pick(rng, open);
        const start = BigInt(shard.HashKeyRange!.StartingHashKey!);
        const end = BigInt(shard.HashKeyRange!.EndingHashKey!);
        if (end - start < 2n) continue;
        const middle = start + (end - start) / 2n;
        await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shard.ShardId!, NewStartingHashKey: middle.toString() }));
        count(ctx, 'SplitShard');
      } else if (action < 0.8 && open.length > 1) {
        const i = Math.floor(rng() * (open.length - 1));
        await client.send(
          new MergeShardsCommand({ StreamName: stream, ShardToMerge: open[i]!.ShardId!, AdjacentShardToMerge: open[i + 1]!.ShardId! }),
        );
        count(ctx, 'MergeShards');
      } else {
        const target = Math.max(1, Math.min(MAX_OPEN_SHARDS, Math.ceil(open.length / 2) + Math.floor(rng() * open.length)));
        if (target === open.length) continue;
        await client.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
        count(ctx, 'UpdateShardCount');
      }
    } catch (err) {
      note(ctx, `reshard ${stream}`, err, ['ResourceInUseException', 'LimitExceededException']);
    }
  }
}

/** Creates, writes and deletes short-lived streams; deletes any left over from an earlier round first. */
async function churner(ctx: LoadContext): Promise<void> {
  const { client, model, rng, round } = ctx;
  try {
    const { StreamNames = [] } = await client.send(new ListStreamsCommand({}));
    for (const name of StreamNames) {
      if (!model.churn.has(name) || ctx.stop) continue;
      model.churn.get(name)!.deleteSent = true;
      await client.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
      model.churn.get(name)!.deleteAcked = true;
    }
  } catch (err) {
    note(ctx, 'delete leftover streams', err, ['ResourceNotFoundException', 'ResourceInUseException']);
  }
  for (let i = 0; !ctx.stop; i++) {
    const name = `c${round}-${i}`;
    const state = { createAcked: false, deleteSent: false, deleteAcked: false };
    model.churn.set(name, state);
    try {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 + Math.floor(rng() * 2) }));
      state.createAcked = true;
      count(ctx, 'CreateStream');
      if (!(await waitActive(ctx, name))) return;
      for (let j = 0; j < 3 && !ctx.stop; j++) {
        const entries = Array.from({ length: 5 }, (_, k) => {
          const data = payload(name, round, 'c', j * 5 + k, Math.floor(rng() * 100));
          model.sent.add(data);
          return { PartitionKey: `k${k}`, Data: Buffer.from(data) };
        });
        const r = await client.send(new PutRecordsCommand({ StreamName: name, Records: entries }));
        r.Records!.forEach((e, k) => {
          if (e.SequenceNumber) model.acked.set(entries[k]!.Data.toString(), { stream: name, shard: e.ShardId!, seq: e.SequenceNumber, round });
        });
      }
      if (rng() < 0.5) {
        const { StreamDescriptionSummary: d } = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        await client.send(new RegisterStreamConsumerCommand({ StreamARN: d!.StreamARN!, ConsumerName: 'doomed' }));
      }
      if (ctx.stop) return;
      state.deleteSent = true;
      await client.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
      state.deleteAcked = true;
      count(ctx, 'DeleteStream');
      // Puts and reads racing with the deletion (DELETING for 100 ms, then gone) must not bring back its files.
      await Promise.all([lateTraffic(ctx, name, 'put'), lateTraffic(ctx, name, 'read')]);
    } catch (err) {
      note(ctx, `churn ${name}`, err);
    }
  }
}

/** Requests to a stream being deleted, until it is gone: they fail with its AWS errors or succeed. */
async function lateTraffic(ctx: LoadContext, stream: string, kind: 'put' | 'read'): Promise<void> {
  const { client, model, round } = ctx;
  for (let n = 0; !ctx.stop && n < 200; n++) {
    try {
      if (kind === 'put') {
        const data = payload(stream, round, 'late', n, 10);
        model.sent.add(data);
        await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'late', Data: Buffer.from(data) }));
      } else {
        const it = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' }));
        await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }));
      }
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return;
      note(ctx, `${kind} to deleted ${stream}`, err, ['ResourceInUseException']);
    }
    await pause(5);
  }
}

/** Registers and deregisters consumers of d1; deregisters any left over from an earlier round first. */
async function consumerWorker(ctx: LoadContext): Promise<void> {
  const { client, model, round } = ctx;
  const stream = 'd1';
  let arn: string;
  try {
    arn = (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
    const { Consumers = [] } = await client.send(new ListStreamConsumersCommand({ StreamARN: arn }));
    for (const c of Consumers) {
      if (ctx.stop) return;
      const state = model.consumers.get(c.ConsumerName!);
      if (!state || c.ConsumerStatus !== 'ACTIVE') continue;
      state.deregisterSent = true;
      await client.send(new DeregisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: c.ConsumerName! }));
      state.deregisterAcked = true;
    }
  } catch (err) {
    note(ctx, 'deregister leftover consumers', err, ['ResourceNotFoundException', 'ResourceInUseException']);
    return;
  }
  for (let i = 0; !ctx.stop; i++) {
    const name = `k${round}-${i}`;
    const state = { stream, registerAcked: false, deregisterSent: false, deregisterAcked: false };
    model.consumers.set(name, state);
    try {
      await client.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: name }));
      state.registerAcked = true;
      count(ctx, 'RegisterStreamConsumer');
      for (;;) {
        if (ctx.stop) return;
        const r = await client.send(new DescribeStreamConsumerCommand({ StreamARN: arn, ConsumerName: name }));
        if (r.ConsumerDescription!.ConsumerStatus === 'ACTIVE') break;
        await pause(25);
      }
      state.deregisterSent = true;
      await client.send(new DeregisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: name }));
      state.deregisterAcked = true;
      count(ctx, 'DeregisterStreamConsumer');
    } catch (err) {
      // LimitExceeded: too many consumers CREATING at once, or the 20 per stream.
      note(ctx, `consumer ${name}`, err, ['LimitExceededException', 'ResourceInUseException']);
      await pause(50);
    }
  }
}

/** Runs every worker until ctx.stop; resolves when all have returned. */
export function runLoad(ctx: LoadContext): Promise<unknown> {
  return Promise.all([
    writer(ctx, 'd0', 'a'),
    writer(ctx, 'd0', 'b'),
    writer(ctx, 'd1', 'a'),
    writer(ctx, 'd1', 'b'),
    reader(ctx),
    resharder(ctx),
    churner(ctx),
    consumerWorker(ctx),
  ]);
}
