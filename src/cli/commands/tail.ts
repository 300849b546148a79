/**
 * `tributary tail <stream>`: prints a stream's records as they arrive.
 *
 * Every shard is read with the client library's polling reader, and the shards are merged by
 * arrival time: a record is printed once no shard that is still behind could hold an earlier one
 * (a shard that is caught up, or has ended, holds nothing earlier). When a shard ends after a
 * reshard its children are read from their start, a merged child once both parents have ended.
 * KPL aggregated records are de-aggregated (unless --no-deaggregate).
 */
import { isUtf8 } from 'node:buffer';
import type { ChildShard, KinesisClient, Shard, ShardFilter } from '@aws-sdk/client-kinesis';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { deaggregate, pollingReader, type RecordBatch, type StartPosition, type UserRecord } from '../../client/index.js';
import { type ClientOptions, fail, guarded, kinesisClient, positiveInteger, withClientOptions } from '../client-options.js';
import { listShards } from './shards.js';

type From = { kind: 'trim-horizon' } | { kind: 'latest' } | { kind: 'time'; at: Date } | { kind: 'sequence'; sequenceNumber: string };
type Format = 'text' | 'json' | 'hex' | 'raw';

interface TailOptions extends ClientOptions {
  shard?: string;
  from: From;
  to?: Date;
  format: Format;
  deaggregate: boolean;
  lag?: boolean;
  max?: number;
  pollMs: number;
}

const LAG_EVERY_MS = 1000;

export function parseFrom(value: string): From {
  const v = value.toLowerCase();
  if (v === 'trim-horizon' || v === 'trim_horizon') return { kind: 'trim-horizon' };
  if (v === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(value)) return { kind: 'sequence', sequenceNumber: value };
  return { kind: 'time', at: parseTime(value) };
}

export function parseTime(value: string): Date {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('expected trim-horizon, latest, an ISO-8601 time (2026-01-31T12:00:00Z) or a sequence number.');
  }
  return new Date(ms);
}

/** One user record, ready to print. */
interface Out {
  shardId: string;
  record: UserRecord;
  at: number;
}

/** One shard being read. */
interface Feed {
  shardId: string;
  batches: AsyncGenerator<RecordBatch, void, undefined>;
  buffer: Out[];
  /** Its last read found nothing more to read (or MillisBehindLatest 0). */
  caughtUp: boolean;
  /** Its reader has finished (the shard ended), or --to was passed: nothing more comes. */
  ended: boolean;
  pending: Promise<void> | undefined;
}

export function formatRecord(out: Out, format: Format): Buffer {
  const data = Buffer.from(out.record.data.buffer, out.record.data.byteOffset, out.record.data.byteLength);
  switch (format) {
    case 'raw':
      return data;
    case 'text':
      return Buffer.concat([data, NEWLINE]);
    case 'hex':
      return Buffer.from(`${data.toString('hex')}\n`);
    case 'json': {
      const text = isUtf8(data);
      const r = out.record;
      return Buffer.from(
        `${JSON.stringify({
          shardId: out.shardId,
          sequenceNumber: r.sequenceNumber,
          ...(r.aggregated ? { subSequenceNumber: r.subSequenceNumber } : {}),
          partitionKey: r.partitionKey,
          ...(r.explicitHashKey !== undefined ? { explicitHashKey: r.explicitHashKey } : {}),
          approximateArrivalTimestamp: r.approximateArrivalTimestamp?.toISOString(),
          data: text ? data.toString('utf8') : data.toString('base64'),
          dataEncoding: text ? 'utf-8' : 'base64',
        })}\n`,
      );
    }
  }
}

const NEWLINE = Buffer.from('\n');

/** The shards to start from, and where in each. */
async function startingShards(kinesis: KinesisClient, stream: string, opts: TailOptions): Promise<{ shards: string[]; start: StartPosition }> {
  const from = opts.from;
  const start: StartPosition =
    from.kind === 'trim-horizon'
      ? { type: 'TRIM_HORIZON' }
      : from.kind === 'latest'
        ? { type: 'LATEST' }
        : from.kind === 'time'
          ? { type: 'AT_TIMESTAMP', timestamp: from.at }
          : { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: from.sequenceNumber };
  if (opts.shard !== undefined) {
    const all = await listShards(kinesis, stream);
    if (!all.some((s) => s.ShardId === opts.shard)) throw new Error(`stream ${stream} has no shard ${opts.shard}`);
    return { shards: [opts.shard], start };
  }
  if (from.kind === 'sequence') {
    const seq = BigInt(from.sequenceNumber);
    const holding = (await listShards(kinesis, stream)).filter((s) => inRange(s, seq));
    if (holding.length !== 1) {
      throw new Error(
        holding.length === 0
          ? `no shard of ${stream} holds sequence number ${from.sequenceNumber}`
          : `several shards of ${stream} could hold sequence number ${from.sequenceNumber}: give --shard`,
      );
    }
    return { shards: [holding[0]!.ShardId!], start };
  }
  const filter: ShardFilter =
    from.kind === 'trim-horizon' ? { Type: 'AT_TRIM_HORIZON' } : from.kind === 'latest' ? { Type: 'AT_LATEST' } : { Type: 'AT_TIMESTAMP', Timestamp: from.at };
  return { shards: (await listShards(kinesis, stream, filter)).map((s) => s.ShardId!), start };
}

function inRange(s: Shard, seq: bigint): boolean {
  const r = s.SequenceNumberRange;
  if (!r?.StartingSequenceNumber) return false;
  return BigInt(r.StartingSequenceNumber) <= seq && (r.EndingSequenceNumber === undefined || seq <= BigInt(r.EndingSequenceNumber));
}

async function tail(stream: string, opts: TailOptions): Promise<void> {
  const kinesis = kinesisClient(opts);
  const { shards, start } = await startingShards(kinesis, stream, opts);
  const abort = new AbortController();
  /** Ends with exit 0 once what was printed has been written out. */
  const stop = () => {
    abort.abort();
    kinesis.destroy();
    if (process.stdout.destroyed) process.exit(0);
    process.stdout.write('', () => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // The reader went away (`tributary tail s | head -1`): that ends the tail, as it ends `cat`.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });

  const reader = pollingReader({
    kinesis,
    stream: { StreamName: stream },
    maxRecords: 10_000,
    idleTimeBetweenReadsMs: opts.pollMs,
    logger: {
      debug() {},
      info() {},
      warn: (obj: object, msg?: string) => console.error(`tributary tail: ${msg ?? ''} (${String((obj as { err?: unknown }).err ?? '')})`),
      error: (obj: object, msg?: string) => console.error(`tributary tail: ${msg ?? ''} (${String((obj as { err?: unknown }).err ?? '')})`),
    },
  });
  const feeds = new Map<string, Feed>();
  const follow = opts.shard === undefined;
  const to = opts.to?.getTime();
  const lag = new Map<string, number>();
  let lagPrintedAt = 0;
  let printed = 0;

  const open = (shardId: string, from: StartPosition) => {
    feeds.set(shardId, { shardId, batches: reader(shardId, from, abort.signal), buffer: [], caughtUp: false, ended: false, pending: undefined });
  };
  const startChildren = (children: readonly ChildShard[]) => {
    for (const child of children) {
      if (!child.ShardId || feeds.has(child.ShardId)) continue;
      // A merged shard starts once both of its parents (those being read) have ended.
      const waiting = (child.ParentShards ?? []).some((p) => feeds.get(p)?.ended === false);
      if (!waiting) open(child.ShardId, { type: 'TRIM_HORIZON' });
    }
  };
  const fetch = async (feed: Feed): Promise<void> => {
    const next = await feed.batches.next();
    feed.pending = undefined;
    if (feed.ended) return; // stopped at --to while this read was out
    if (next.done) {
      feed.ended = true;
      return;
    }
    const batch = next.value;
    for (const r of batch.records) {
      const users = opts.deaggregate ? deaggregate(r) : deaggregateNothing(r);
      for (const record of users) feed.buffer.push({ shardId: feed.shardId, record, at: record.approximateArrivalTimestamp?.getTime() ?? 0 });
    }
    feed.caughtUp = batch.records.length === 0 || batch.millisBehindLatest === 0;
    if (batch.millisBehindLatest !== undefined) lag.set(feed.shardId, batch.millisBehindLatest);
    if (to !== undefined && feed.caughtUp && feed.buffer.length === 0 && Date.now() > to) feed.ended = true;
    if (batch.childShards) {
      feed.ended = true;
      lag.delete(feed.shardId);
      if (follow) startChildren(batch.childShards);
    }
  };

  /** Prints every record no shard still behind could precede; true once --max is reached. */
  const emit = (): boolean => {
    for (;;) {
      let best: Feed | undefined;
      for (const feed of feeds.values()) {
        if (feed.buffer.length > 0) {
          if (best === undefined || feed.buffer[0]!.at < best.buffer[0]!.at) best = feed;
        } else if (!feed.ended && !feed.caughtUp) {
          return false; // this shard may still hold something earlier
        }
      }
      if (best === undefined) return false;
      const out = best.buffer.shift()!;
      if (to !== undefined && out.at > to) {
        // Past --to: this shard is done.
        best.buffer.length = 0;
        best.ended = true;
        continue;
      }
      process.stdout.write(formatRecord(out, opts.format));
      printed++;
      if (opts.max !== undefined && printed >= opts.max) return true;
    }
  };

  for (const shardId of shards) open(shardId, start);
  for (;;) {
    const pending: Promise<void>[] = [];
    for (const feed of feeds.values()) {
      if (!feed.ended && feed.buffer.length === 0 && feed.pending === undefined) feed.pending = fetch(feed);
      if (feed.pending) pending.push(feed.pending);
    }
    if (emit()) break;
    if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once('drain', r));
    if (opts.lag && lag.size > 0 && Date.now() - lagPrintedAt >= LAG_EVERY_MS) {
      lagPrintedAt = Date.now();
      const worst = Math.max(...lag.values());
      console.error(`tributary tail: ${worst} ms behind latest (MillisBehindLatest, ${lag.size} shard${lag.size === 1 ? '' : 's'})`);
    }
    if (pending.length === 0) {
      // Nothing is being read: once every shard has ended (or is past --to) and printed, tail is done.
      if ([...feeds.values()].every((f) => f.ended && f.buffer.length === 0)) break;
      continue;
    }
    await Promise.race(pending);
  }
  stop();
}

function deaggregateNothing(r: import('@aws-sdk/client-kinesis')._Record): UserRecord[] {
  return [
    {
      partitionKey: r.PartitionKey ?? '',
      data: r.Data ?? new Uint8Array(0),
      sequenceNumber: r.SequenceNumber ?? '',
      subSequenceNumber: 0,
      aggregated: false,
      approximateArrivalTimestamp: r.ApproximateArrivalTimestamp,
      encryptionType: r.EncryptionType,
    },
  ];
}

export function registerTail(program: Command): void {
  withClientOptions(program.command('tail').description("print a stream's records as they arrive, every shard merged by arrival time"))
    .argument('<stream>', 'the stream')
    .option('--shard <id>', 'read only this shard (its children are not followed)')
    .addOption(
      new Option('--from <position>', 'trim-horizon, latest, an ISO-8601 time, or a sequence number').default(parseFrom('latest'), 'latest').argParser(parseFrom),
    )
    .addOption(new Option('--to <time>', 'stop at records that arrived after this ISO-8601 time').argParser(parseTime))
    .addOption(new Option('--format <format>', 'how records are printed').choices(['text', 'json', 'hex', 'raw']).default('text'))
    .option('--no-deaggregate', 'print KPL aggregated records as they are stored')
    .option('--lag', 'print how far behind latest the reads are (MillisBehindLatest) on stderr, once a second')
    .addOption(new Option('--max <n>', 'exit after printing this many records').argParser(positiveInteger))
    .addOption(new Option('--poll-ms <ms>', 'wait between reads of a shard that is caught up').argParser(positiveInteger).default(500))
    .addHelpText(
      'after',
      '\nFormats: text prints each record\'s data and a newline; raw the data alone; hex the data in hex;\n' +
        'json one object per line (shardId, sequenceNumber, subSequenceNumber for a de-aggregated record,\n' +
        'partitionKey, approximateArrivalTimestamp, data as text when it is UTF-8 else base64, dataEncoding).\n' +
        'A sequence number starts in the shard that holds it. Without --max, tail follows until SIGINT\n' +
        'or SIGTERM (exit 0); with --to it ends once every shard is past that time.',
    )
    .action((stream: string, opts: TailOptions) => guarded(opts, () => tail(stream, opts)).catch((err: unknown) => fail(err, opts)));
}
