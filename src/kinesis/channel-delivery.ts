/**
 * A channel's delivery: a reader that copies the source stream's records into the channel's own
 * log, and the delivery engine's pipeline (delivery/pipeline.ts) that buffers them and writes
 * objects to the S3 destination (or snapshots to the S3 Tables destination, channel-table.ts),
 * failed records to the dead-letter bucket.
 *
 * The reader takes the shards' logs from the Kinesis service directly (retention and encryption
 * at rest apply, as to any read) but not through GetRecords: a channel's reads are not counted
 * against the stream's read throughput and take no fan-out slot, as AWS says of channels. Each
 * shard's position (the next offset to read) is saved in the catalog after the records are in the
 * channel's log, so a restart reads again at most what was appended but not yet saved: at least
 * once, never less. The pipeline's progress is saved the same way (pipeline.ts). A table
 * destination makes this exactly once: its commits skip records its snapshots already hold.
 *
 * Buffers are flushed when their oldest record has been in the channel for DataFreshnessInSeconds
 * (on the injected clock) or when they hold BUFFER_BYTES.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from 'pino';
import { S3Destination, type ObjectSink } from '../delivery/destinations/s3.js';
import { DeliveryPipeline, type BatchDestination } from '../delivery/pipeline.js';
import { errorRecordLine } from '../delivery/processors.js';
import { zstdCompress } from '../delivery/zstd.js';
import type { DeliveryRecord, FailedRecord } from '../delivery/records.js';
import type { ShardLog } from '../storage/types.js';
import { openRecords } from './at-rest.js';
import { DEFAULT_KEY_TEMPLATE, errorObjectKey, evaluateKeyTemplate, parseKeyTemplate } from './channel-keys.js';
import type { ChannelMeta } from './channel-model.js';
import type { KinesisContext } from './context.js';
import type { Stream } from './stream.js';

const gzipAsync = promisify(gzip);

/** A buffer is flushed once it holds this many bytes, whatever its age. */
const BUFFER_BYTES = 64 * 1024 * 1024;
const READ_RECORDS = 10_000;
/** How long a table commit is retried before its records go to the dead-letter bucket. */
const TABLE_RETRY_MS = 24 * 60 * 60 * 1000;
const READ_BYTES = 8 * 1024 * 1024;

/** Where a channel's objects go; on Tributary's own endpoint a missing bucket is made first. */
export type ChannelObjects = ObjectSink & {
  ensureBucket?(bucket: string): Promise<void>;
  /** An object's bytes, or undefined when there is none (tables read their metadata back). */
  get(bucket: string, key: string): Promise<Buffer | undefined>;
  /** Writes only if no object has the key (If-None-Match: *); false when one has. */
  putIfAbsent(bucket: string, key: string, body: Buffer): Promise<boolean>;
};

export interface ChannelDeliveryDeps {
  k: KinesisContext;
  logger: Logger;
  objects(): ChannelObjects | undefined;
  log: ShardLog;
  /** Catalog settings the reader and the pipeline keep their positions in. */
  load(name: string): Promise<string | undefined>;
  save(name: string, value: string): Promise<void>;
}

export interface ChannelDeliveryHandle {
  step(): Promise<void>;
  close(): Promise<void>;
}

/** Where a shard is read from next, and whether it ended and was read to its end. */
interface ShardPosition {
  offset: number;
  done?: true;
}

export function startChannelDelivery(channel: ChannelMeta, deps: ChannelDeliveryDeps): ChannelDeliveryHandle {
  const logger = deps.logger.child({ channel: channel.name });
  const reader = new ChannelReader(channel, deps, logger);
  const destination = channelDestination(channel, deps, logger);
  const pipeline = new DeliveryPipeline({
    log: deps.log,
    clock: { now: () => deps.k.now },
    logger,
    progress: {
      load: async () => Number((await deps.load(`kinesis/channel-progress/${channel.id}`)) ?? 0),
      save: (offset) => deps.save(`kinesis/channel-progress/${channel.id}`, String(offset)),
    },
    destination,
    recordId: (offset) => `${channel.id}:${offset}`,
    sizeBytes: BUFFER_BYTES,
    intervalMs: channel.s3.freshnessSeconds * 1000,
  });
  return {
    async step() {
      await reader.step();
      await pipeline.step();
    },
    async close() {
      reader.close();
      await pipeline.close();
    },
  };
}

class ChannelReader {
  private positions: Record<string, ShardPosition> | undefined;
  private closed = false;
  private readonly key: string;

  constructor(
    private readonly channel: ChannelMeta,
    private readonly deps: ChannelDeliveryDeps,
    private readonly logger: Logger,
  ) {
    this.key = `kinesis/channel-positions/${channel.id}`;
  }

  close(): void {
    this.closed = true;
  }

  async step(): Promise<void> {
    const { k } = this.deps;
    const stream = k.byStreamKey(this.channel.stream.key);
    if (!stream || (stream.meta.status !== 'ACTIVE' && stream.meta.status !== 'UPDATING')) return;
    this.positions ??= JSON.parse((await this.deps.load(this.key)) ?? '{}') as Record<string, ShardPosition>;
    for (const shard of stream.shards) {
      if (this.closed) return;
      if (shard.meta.expiredAt !== undefined) continue;
      const id = String(shard.index);
      let position = this.positions[id];
      if (position?.done) continue;
      let log: ShardLog;
      try {
        log = await k.retainedLog(stream, shard);
      } catch (err) {
        this.logger.debug({ err, shard: shard.id }, 'a shard of the source stream cannot be read');
        continue;
      }
      if (position === undefined) {
        // No backfill: reading starts with the records that arrived once the channel was ACTIVE.
        position = { offset: await log.offsetAtTimestamp(this.channel.activeAt) };
        this.positions[id] = position;
      }
      await this.readShard(stream, shard.index, log, position);
    }
  }

  private async readShard(stream: Stream, index: number, log: ShardLog, position: ShardPosition): Promise<void> {
    const { k } = this.deps;
    const shard = stream.shard(index)!;
    for (;;) {
      const end = shard.meta.endOffset === undefined ? undefined : Math.min(shard.meta.endOffset, log.nextOffset);
      const limit = end === undefined ? READ_RECORDS : Math.min(READ_RECORDS, end - position.offset);
      if (limit <= 0) {
        if (end !== undefined) {
          position.done = true;
          await this.save();
        }
        return;
      }
      const read = await log.read(position.offset, limit, READ_BYTES);
      if (read.records.length === 0) {
        position.offset = read.nextOffset;
        return;
      }
      openRecords(k, stream.key, index, read.records);
      const inputs = read.records.map((r) => ({
        partitionKey: JSON.stringify({
          shardId: shard.id,
          partitionKey: r.partitionKey,
          sequenceNumber: shard.seq.encode(r.offset, r.timestamp),
          approximateArrivalTimestamp: r.timestamp,
          offset: r.offset,
        }),
        data: r.data,
      }));
      await this.deps.log.append(inputs, k.now);
      position.offset = read.nextOffset;
      await this.save();
      if (this.closed || read.records.length < limit) return;
    }
  }

  private save(): Promise<void> {
    return this.deps.save(this.key, JSON.stringify(this.positions));
  }
}

/** The error output type of records that are not what the channel's RecordFormatType says. */
const INVALID_RECORD = 'invalid-record-format';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a record does not fit the channel's record format, or undefined when it does. */
function formatProblem(format: ChannelMeta['stream']['recordFormat'], data: Buffer): string | undefined {
  if (format === 'BYTE_ARRAY') return undefined;
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return 'The record is not valid UTF-8.';
  }
  if (format === 'JSON') {
    try {
      JSON.parse(text);
    } catch {
      return 'The record is not valid JSON.';
    }
  }
  return undefined;
}

const NEWLINE = Buffer.from('\n');

/**
 * An object's body: JSON and STRING records one a line (a record that ends with a line break
 * keeps its own), BYTE_ARRAY records as they are, one after the other.
 */
function objectBody(format: ChannelMeta['stream']['recordFormat'], records: readonly DeliveryRecord[]): Buffer {
  if (format === 'BYTE_ARRAY') return Buffer.concat(records.map((r) => r.data));
  const parts: Buffer[] = [];
  for (const r of records) {
    parts.push(r.data);
    if (r.data.length === 0 || r.data[r.data.length - 1] !== 0x0a) parts.push(NEWLINE);
  }
  return Buffer.concat(parts);
}

/** A body compressed as the channel says: GZIP by node:zlib, ZSTD by the zstd binary (zstd.ts). */
async function compressed(channel: ChannelMeta, body: Buffer): Promise<Buffer> {
  switch (channel.s3.storage?.CompressionType) {
    case 'GZIP':
      return gzipAsync(body);
    case 'ZSTD':
      return zstdCompress(body);
    default:
      return body;
  }
}

function extensionOf(channel: ChannelMeta): string {
  switch (channel.s3.storage?.CompressionType) {
    case 'GZIP':
      return '.gz';
    case 'ZSTD':
      return '.zst';
    default:
      return '';
  }
}

const bucketOf = (arn: string) => arn.replace(/^arn:[^:]*:s3:::/, '');

/** The destination: objects to the storage bucket (or rows to the table), failed records to the dead-letter bucket. */
function channelDestination(channel: ChannelMeta, deps: ChannelDeliveryDeps, logger: Logger): BatchDestination {
  const storage = channel.s3.storage;
  if (!storage) {
    // The table writer (Parquet, Avro) loads with the first delivery of the first table channel.
    const deadLetter = deadLetterDestination(channel, deps);
    let table: Promise<BatchDestination> | undefined;
    const load = () =>
      (table ??= import('./channel-table.js').then((m) =>
        m.tableDestination(channel, {
          objects: deps.objects,
          pointers: deps.k.catalog,
          now: () => deps.k.now,
          deadLetter,
          problem: (data) => formatProblem(channel.stream.recordFormat, data),
        }),
      ));
    return {
      retryForMs: TABLE_RETRY_MS,
      deliver: async (batch, now) => (await load()).deliver(batch, now),
      deliverFailures: (failed, now) => deadLetter.deliverFailures(failed, now),
    };
  }
  return bucketDestination(channel, storage, deps, logger);
}

/** A sink that makes a missing bucket first, on Tributary's own endpoint. */
function bucketSink(deps: ChannelDeliveryDeps): ObjectSink {
  const checked = new Set<string>();
  return {
    async put(bucket, key, body, options) {
      const objects = deps.objects();
      if (!objects) throw new Error('no object store to deliver to');
      if (!checked.has(bucket) && objects.ensureBucket) {
        await objects.ensureBucket(bucket);
        checked.add(bucket);
      }
      return objects.put(bucket, key, body, options);
    },
  };
}

const keyContext = (channel: ChannelMeta, extension: string) => (time: number) => ({ channelName: channel.name, channelId: channel.id, time, extension, unique: randomUUID() });

/** Failed records to the dead-letter bucket, as JSON lines (gzipped when the bucket destination is). */
function deadLetterDestination(channel: ChannelMeta, deps: ChannelDeliveryDeps): S3Destination {
  const context = keyContext(channel, extensionOf(channel));
  return new S3Destination({
    sink: bucketSink(deps),
    bucket: bucketOf(channel.s3.deadLetter.BucketARN),
    encode: () => Promise.reject(new Error('the dead-letter destination takes failures only')),
    objectKey: () => ({ error: 'the dead-letter destination takes failures only', errorCode: 'Internal' }),
    errorKey: (_type, oldest) => errorObjectKey(channel.s3.deadLetter.ErrorOutputPrefix, context(oldest)),
    errorLine: (failed: FailedRecord, now: number) => errorRecordLine(failed, now),
    encodeErrors: (lines) => compressed(channel, lines),
  });
}

function bucketDestination(channel: ChannelMeta, storage: NonNullable<ChannelMeta['s3']['storage']>, deps: ChannelDeliveryDeps, logger: Logger): BatchDestination {
  const parsed = parseKeyTemplate(storage.OutputKeyTemplate ?? DEFAULT_KEY_TEMPLATE);
  // Templates are checked when the channel is created; one that no longer parses falls back to the default.
  const parts = 'parts' in parsed ? parsed.parts : (parseKeyTemplate(DEFAULT_KEY_TEMPLATE) as { parts: never[] }).parts;
  if ('error' in parsed) logger.error({ template: storage.OutputKeyTemplate }, parsed.error);
  const sink = bucketSink(deps);
  const format = channel.stream.recordFormat;
  const extension = extensionOf(channel);
  const context = keyContext(channel, extension);
  const errorLine = (failed: FailedRecord, now: number) => errorRecordLine(failed, now);
  const main = new S3Destination({
    sink,
    bucket: bucketOf(storage.BucketARN),
    async encode(batch) {
      const ok: DeliveryRecord[] = [];
      const failed: FailedRecord[] = [];
      for (const record of batch.records) {
        const problem = formatProblem(format, record.data);
        if (problem === undefined) ok.push(record);
        else failed.push({ record, errorCode: 'InvalidRecordFormat', errorMessage: problem, errorOutputType: INVALID_RECORD, attemptsMade: 1 });
      }
      return { body: await compressed(channel, objectBody(format, ok)), failed };
    },
    objectKey(batch) {
      let oldest = Infinity;
      for (const r of batch.records) oldest = Math.min(oldest, r.kinesis?.approximateArrivalTimestamp ?? r.arrival);
      return { key: evaluateKeyTemplate(parts, context(oldest)) };
    },
    errorKey: (_type, oldest) => errorObjectKey(channel.s3.deadLetter.ErrorOutputPrefix, context(oldest)),
    errorLine,
    encodeErrors: (lines) => compressed(channel, lines),
  });
  const deadLetter = deadLetterDestination(channel, deps);
  return {
    retryForMs: main.retryForMs,
    deliver: (batch, now) => main.deliver(batch, now),
    deliverFailures: (failed, now) => deadLetter.deliverFailures(failed, now),
  };
}
