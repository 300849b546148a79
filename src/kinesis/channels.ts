/**
 * Channels (CreateChannel, DescribeChannel, UpdateChannel, DeleteChannel, ListChannels): a
 * channel reads one ON_DEMAND stream and writes its records to a general purpose S3 bucket
 * (channel-delivery.ts) or to an S3 Tables (Apache Iceberg) table (channel-table.ts).
 *
 * All channels are one catalog document (`kinesis/channels`), changed by compare-and-set: a crash
 * leaves the old or the new set, and the nodes of a cluster never undo each other's change.
 * Every control-plane call reads the document afresh. Statuses are deadlines on the injected
 * clock, as a stream's: CREATING and UPDATING become ACTIVE, DELETING becomes gone, after the
 * stream create and delete delays; readers see a change as soon as it is due, and the background
 * step writes it down. A channel whose source stream is gone becomes FAILED.
 *
 * Delivery runs on the node holding the background-work lease (a single process always holds it).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  InvalidArgumentException,
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '../protocol/errors.js';
import { validBucketName } from '../s3/names.js';
import { updateSetting } from '../storage/catalog.js';
import type { ShardLog } from '../storage/types.js';
import { startChannelDelivery, type ChannelDeliveryHandle, type ChannelObjects } from './channel-delivery.js';
import { defaultErrorPrefix, parseKeyTemplate } from './channel-keys.js';
import { channelArn, describeChannel, summarizeChannel, type ChannelMeta, type ChannelRecordFormat, type ChannelTable } from './channel-model.js';
import type { KinesisContext } from './context.js';
import { decodeNextToken, encodeNextToken } from './next-token.js';
import type { Resource } from './resources.js';
import type { Stream } from './stream.js';
import { MAX_TAGS } from './tags.js';
import { zstdAvailable } from '../delivery/zstd.js';

const DOCUMENT = 'kinesis/channels';
/** Channels per account (DescribeLimits' ChannelCountLimit). */
export const CHANNEL_LIMIT = 50;
/** DataFreshnessInSeconds of general purpose S3 destinations: default and range. */
const FRESHNESS_DEFAULT = 300;
const FRESHNESS_MIN = 300;
const FRESHNESS_MAX = 900;
const LIST_DEFAULT = 100;
/** How often the delivering node runs the channels' delivery (wall clock). */
const STEP_MS = 200;

const CHANNEL_ARN = /^arn:aws[a-z-]*:kinesis:([^:]*):(\d{12}):channel\/([a-zA-Z0-9_.-]{1,128})$/;

type Input = Record<string, any>;

export interface ChannelDeliveryOptions {
  logger: Logger;
  objects(): ChannelObjects | undefined;
}

interface Running {
  id: string;
  versionId: number;
  handle: ChannelDeliveryHandle;
}

export class Channels {
  private delivery: ChannelDeliveryOptions | undefined;
  private readonly running = new Map<string, Running>();
  private readonly logs = new Map<string, Promise<ShardLog>>();
  private timer: NodeJS.Timeout | undefined;
  private stepping: Promise<void> | undefined;
  private closed = false;
  /** Whether ZSTD objects can be written: the zstd binary was there when the server started. */
  private readonly zstd = zstdAvailable();

  constructor(
    private readonly k: KinesisContext,
    private readonly lease: { readonly held: boolean },
  ) {}

  private get accountId(): string {
    return this.k.settings.accountId;
  }

  arnOf(name: string): string {
    return channelArn(this.k.settings.region, this.accountId, name);
  }

  /** Starts delivering (the server calls it once the object store is known). */
  startDelivery(options: ChannelDeliveryOptions): void {
    this.delivery = options;
    this.timer = setInterval(() => void this.step(), STEP_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.stepping?.catch(() => {});
    await Promise.allSettled([...this.running.values()].map((r) => r.handle.close()));
    this.running.clear();
    this.logs.clear();
  }

  // ---- the catalog document ----

  private async load(): Promise<Map<string, ChannelMeta>> {
    return parse(await this.k.catalog.getSetting(DOCUMENT));
  }

  /** Read-modify-write of the set; `change` returns the new set or undefined to leave it. */
  private async change<T>(change: (channels: Map<string, ChannelMeta>) => { channels?: Map<string, ChannelMeta>; result: T }): Promise<T> {
    let result!: T;
    await updateSetting(this.k.catalog, DOCUMENT, (text) => {
      const out = change(parse(text));
      result = out.result;
      return out.channels === undefined ? undefined : JSON.stringify([...out.channels.values()]);
    });
    return result;
  }

  /** A channel as it is now: a due status change has happened (undefined: gone). */
  private settled(c: ChannelMeta | undefined): ChannelMeta | undefined {
    if (!c || c.statusUntil === undefined || c.statusUntil > this.k.now) return c;
    if (c.status === 'DELETING') return undefined;
    const next: ChannelMeta = { ...c, status: 'ACTIVE' };
    delete next.statusUntil;
    return next;
  }

  private async current(): Promise<ChannelMeta[]> {
    const out: ChannelMeta[] = [];
    for (const c of (await this.load()).values()) {
      const s = this.settled(c);
      if (s) out.push(s);
    }
    return out;
  }

  private nameOf(arn: string): string {
    const m = CHANNEL_ARN.exec(arn);
    if (!m || m[1] !== this.k.settings.region || m[2] !== this.accountId) throw this.notFound(arn);
    return m[3]!;
  }

  private notFound(what: string): Error {
    return new ResourceNotFoundException(`Channel ${what} under account ${this.accountId} not found.`);
  }

  private async byArn(arn: string): Promise<ChannelMeta> {
    const name = this.nameOf(arn);
    const c = this.settled((await this.load()).get(name));
    if (!c) throw this.notFound(name);
    return c;
  }

  // ---- control plane ----

  async create(input: Input): Promise<Record<string, unknown>> {
    const name: string = input.ChannelName;
    if ((input.S3DestinationConfiguration === undefined) === (input.S3TablesDestinationConfiguration === undefined)) {
      throw new InvalidArgumentException('Exactly one of S3DestinationConfiguration or S3TablesDestinationConfiguration must be specified.');
    }
    const tables = input.S3TablesDestinationConfiguration === undefined ? undefined : checkTables(input.S3TablesDestinationConfiguration);
    const list: Input[] = input.StreamConfigurationList;
    if (list.length !== 1) throw new InvalidArgumentException('StreamConfigurationList must contain exactly one stream: a channel reads one stream.');
    const source = list[0]!;
    const format: string = source.RecordConfiguration.RecordFormatType;
    if (format === 'GSR_JSON' || source.RecordConfiguration.GSRSchemaARN !== undefined) {
      throw new InvalidArgumentException(
        tables
          ? 'RecordFormatType GSR_JSON and GSRSchemaARN are not supported by this server (it has no AWS Glue Schema Registry): S3 Tables destinations take JSON, STRING or BYTE_ARRAY records into a table of fixed columns.'
          : format === 'GSR_JSON'
            ? 'RecordFormatType GSR_JSON is supported only for S3 Tables destinations.'
            : 'GSRSchemaARN is supported only for S3 Tables destinations.',
      );
    }
    const s3: Input = input.S3DestinationConfiguration ?? input.S3TablesDestinationConfiguration;
    const storage: Input | undefined = s3.StorageConfiguration;
    if (storage?.CompressionType === 'ZSTD' && !this.zstd) {
      throw new InvalidArgumentException('CompressionType ZSTD is not supported by this server (Node.js 20 has no Zstandard encoder and /usr/bin/zstd is not installed). Use NONE or GZIP.');
    }
    const freshness = checkFreshness(s3.DataFreshnessInSeconds);
    if (storage?.OutputKeyTemplate !== undefined) {
      const parsed = parseKeyTemplate(storage.OutputKeyTemplate);
      if ('error' in parsed) throw new InvalidArgumentException(parsed.error);
    }
    const tags: Record<string, string> = input.Tags ?? {};
    if (Object.keys(tags).length > MAX_TAGS) {
      throw new InvalidArgumentException(`Failed to create channel ${name} under account ${this.accountId} because a channel cannot have more than ${MAX_TAGS} tags.`);
    }
    if (Object.keys(tags).some((key) => key.toLowerCase().startsWith('aws:'))) {
      throw new InvalidArgumentException(`Failed to create channel ${name} under account ${this.accountId} because tag keys beginning with 'aws:' are reserved for AWS use.`);
    }
    const stream = await this.k.resolve({ StreamARN: source.StreamARN });
    checkSource(this.k, stream);
    const now = this.k.now;
    const id = randomUUID();
    const until = now + this.k.settings.createStreamDelayMs;
    const dlq: Input | undefined = s3.DeadLetterQueueS3Configuration;
    const meta: ChannelMeta = {
      name,
      id,
      createdAt: now,
      status: 'CREATING',
      statusUntil: until,
      versionId: 1,
      roleArn: input.ServiceExecutionRoleARN,
      stream: { arn: stream.arn, name: stream.name, key: stream.key, createdAt: stream.meta.createdAt, recordFormat: format as ChannelRecordFormat },
      s3: {
        freshnessSeconds: freshness,
        deadLetter: {
          // A dead-letter configuration is required with S3 Tables (shapes.ts), optional with a bucket.
          BucketARN: dlq?.BucketARN ?? storage!.BucketARN,
          ExpectedBucketOwner: dlq?.ExpectedBucketOwner ?? storage!.ExpectedBucketOwner,
          ErrorOutputPrefix: dlq?.ErrorOutputPrefix ?? defaultErrorPrefix(name, id),
        },
        ...(storage
          ? {
              storage: {
                BucketARN: storage.BucketARN,
                ExpectedBucketOwner: storage.ExpectedBucketOwner,
                ...(storage.OutputKeyTemplate !== undefined ? { OutputKeyTemplate: storage.OutputKeyTemplate } : {}),
                ...(storage.StorageClass !== undefined ? { StorageClass: storage.StorageClass } : {}),
                CompressionType: storage.CompressionType,
              },
            }
          : {}),
      },
      ...(tables ? { tables } : {}),
      ...(input.EncryptionConfiguration ? { encryption: { EncryptionType: input.EncryptionConfiguration.EncryptionType, KeyId: input.EncryptionConfiguration.KeyId } } : {}),
      logging: { CloudWatchLogs: { ...(input.LoggingConfiguration?.CloudWatchLogs ?? { Enabled: false }) } },
      tags: { ...tags },
      activeAt: until,
    };
    if (this.k.settings.createStreamDelayMs <= 0) {
      meta.status = 'ACTIVE';
      delete meta.statusUntil;
    }
    await this.change((channels) => {
      const existing = this.settled(channels.get(name));
      if (existing) throw new ResourceInUseException(`Channel ${name} under account ${this.accountId} already exists.`);
      let count = 0;
      for (const c of channels.values()) if (this.settled(c)) count++;
      if (count >= CHANNEL_LIMIT) {
        throw new LimitExceededException(
          `This request would exceed the channel limit for the account ${this.accountId}. Current channel count for the account: ${count}. Limit: ${CHANNEL_LIMIT}.`,
        );
      }
      if (tables) {
        for (const c of channels.values()) {
          const t = this.settled(c)?.tables;
          if (t && t.TableBucketARN === tables.TableBucketARN && t.Namespace === tables.Namespace && t.TableName === tables.TableName) {
            throw new ResourceInUseException(`Table ${tables.Namespace}.${tables.TableName} of ${tables.TableBucketARN} is already the destination of channel ${c.name}.`);
          }
        }
      }
      channels.set(name, meta);
      return { channels, result: undefined };
    });
    this.poke();
    return { ChannelDescription: describeChannel(meta, this.arnOf(name)) };
  }

  async describe(arn: string): Promise<Record<string, unknown>> {
    const c = await this.byArn(arn);
    return { ChannelDescription: describeChannel(c, this.arnOf(c.name)) };
  }

  async update(input: Input): Promise<Record<string, unknown>> {
    const name = this.nameOf(input.ChannelARN);
    if (input.S3DestinationConfiguration !== undefined && input.S3TablesDestinationConfiguration !== undefined) {
      throw new InvalidArgumentException('Only one of S3DestinationConfiguration or S3TablesDestinationConfiguration may be specified.');
    }
    if (input.S3DestinationConfiguration === undefined && input.S3TablesDestinationConfiguration === undefined && input.LoggingConfiguration === undefined) {
      throw new InvalidArgumentException('At least one of S3DestinationConfiguration, S3TablesDestinationConfiguration or LoggingConfiguration must be specified.');
    }
    const destination: Input | undefined = input.S3DestinationConfiguration ?? input.S3TablesDestinationConfiguration;
    const freshness = destination === undefined ? undefined : checkFreshness(destination.DataFreshnessInSeconds);
    const delay = this.k.settings.createStreamDelayMs;
    const updated = await this.change((channels) => {
      const c = this.settled(channels.get(name));
      if (!c) throw this.notFound(name);
      if (c.status !== 'ACTIVE') {
        throw new ResourceInUseException(`Channel ${name} under account ${this.accountId} not ACTIVE, instead in state ${c.status}`);
      }
      if (input.S3TablesDestinationConfiguration !== undefined && !c.tables) {
        throw new InvalidArgumentException(`Channel ${name} under account ${this.accountId} delivers to a general purpose S3 bucket: S3TablesDestinationConfiguration cannot be updated.`);
      }
      if (input.S3DestinationConfiguration !== undefined && c.tables) {
        throw new InvalidArgumentException(`Channel ${name} under account ${this.accountId} delivers to S3 Tables: S3DestinationConfiguration cannot be updated.`);
      }
      const next: ChannelMeta = {
        ...c,
        versionId: c.versionId + 1,
        s3: { ...c.s3, freshnessSeconds: freshness ?? c.s3.freshnessSeconds },
        logging: input.LoggingConfiguration ? { CloudWatchLogs: { ...input.LoggingConfiguration.CloudWatchLogs } } : c.logging,
      };
      if (delay > 0) {
        next.status = 'UPDATING';
        next.statusUntil = this.k.now + delay;
      }
      channels.set(name, next);
      return { channels, result: next };
    });
    this.poke();
    return { ChannelDescription: describeChannel(updated, this.arnOf(name)) };
  }

  async delete(arn: string): Promise<void> {
    const name = this.nameOf(arn);
    const delay = this.k.settings.deleteStreamDelayMs;
    await this.change((channels) => {
      const c = this.settled(channels.get(name));
      if (!c) throw this.notFound(name);
      if (c.status === 'DELETING') return { result: undefined };
      if (delay <= 0) channels.delete(name);
      else channels.set(name, { ...c, status: 'DELETING', statusUntil: this.k.now + delay });
      return { channels, result: undefined };
    });
    this.poke();
  }

  async list(input: Input): Promise<Record<string, unknown>> {
    const now = this.k.now;
    let after: string | undefined;
    if (input.NextToken !== undefined) after = decodeNextToken<{ a?: string }>(input.NextToken, now, this.k.settings.nextTokenTtlMs).a;
    const filters: Input[] | undefined = input.StreamFilter;
    const limit: number = input.MaxResults ?? LIST_DEFAULT;
    const matches = (c: ChannelMeta) =>
      filters === undefined ||
      filters.some(
        (f) =>
          f.StreamARN === c.stream.arn &&
          (f.StreamCreationTimestamp === undefined || Math.floor((f.StreamCreationTimestamp as Date).getTime() / 1000) === Math.floor(c.stream.createdAt / 1000)),
      );
    const all = (await this.current())
      .filter(matches)
      .filter((c) => after === undefined || c.name > after)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const page = all.slice(0, limit);
    const out: Record<string, unknown> = { ChannelSummaries: page.map((c) => summarizeChannel(c, this.arnOf(c.name))) };
    if (all.length > limit) out.NextToken = encodeNextToken({ a: page[page.length - 1]!.name }, now);
    return out;
  }

  /** Channels that read a stream (any status but gone): DescribeStreamSummary's ChannelCount. */
  async countFor(stream: Stream): Promise<number> {
    return (await this.current()).filter((c) => c.stream.key === stream.key).length;
  }

  /** Channels of the account: DescribeLimits' ChannelCount. */
  async count(): Promise<number> {
    return (await this.current()).length;
  }

  /** DeleteStream is refused while a channel reads the stream. */
  async checkStreamDeletion(stream: Stream): Promise<void> {
    const reading = (await this.current()).filter((c) => c.stream.key === stream.key);
    if (reading.length > 0) {
      throw new ResourceInUseException(
        `Stream ${stream.name} under account ${this.accountId} has ${reading.length} channel(s) reading from it ` +
          `(${reading.map((c) => c.name).join(', ')}). Delete the channels before deleting the stream.`,
      );
    }
  }

  /** A channel as a tag and policy Resource (TagResource … ListTagsForResource, Put/Get/DeleteResourcePolicy). */
  async resource(arn: string): Promise<Resource> {
    const found = await this.byArn(arn);
    const name = found.name;
    let tags = found.tags;
    let policy = found.policy;
    return {
      arn: this.arnOf(name),
      label: `channel ${name}`,
      tags: () => tags,
      policy: () => policy,
      checkChangeable: () => {
        if (found.status === 'DELETING') {
          throw new ResourceInUseException(`Channel ${name} under account ${this.accountId} not ACTIVE, instead in state DELETING`);
        }
      },
      change: async (_k, apply) => {
        await this.change((channels) => {
          const c = this.settled(channels.get(name));
          if (!c || c.id !== found.id) throw this.notFound(name);
          const next = apply({ tags: c.tags, policy: c.policy });
          if (next === undefined) return { result: undefined };
          tags = { ...next.tags };
          policy = next.policy;
          const entry: ChannelMeta = { ...c, tags };
          if (policy === undefined) delete entry.policy;
          else entry.policy = policy;
          channels.set(name, entry);
          return { channels, result: undefined };
        });
      },
    };
  }

  // ---- delivery ----

  private poke(): void {
    if (this.delivery) void this.step();
  }

  /** Writes due status changes, then keeps one delivery per ACTIVE or UPDATING channel (on the lease holder). */
  step(): Promise<void> {
    if (this.closed || !this.delivery) return Promise.resolve();
    if (this.stepping) return this.stepping;
    this.stepping = (async () => {
      try {
        if (!this.lease.held) {
          await this.stopAll();
          return;
        }
        const channels = await this.settleAll();
        await this.run(channels);
      } catch (err) {
        this.delivery?.logger.error({ err }, 'channel delivery step failed');
      } finally {
        this.stepping = undefined;
      }
    })();
    return this.stepping;
  }

  private async settleAll(): Promise<ChannelMeta[]> {
    const gone: ChannelMeta[] = [];
    const stored = await this.load();
    // A source stream this node does not know may be one its catalog watch has not caught up with.
    const failing = new Set<string>();
    for (const c of stored.values()) {
      if (c.status === 'FAILED' || c.status === 'DELETING' || this.k.byStreamKey(c.stream.key) !== undefined) continue;
      if ((await this.k.catalog.getStream(c.stream.key)) === undefined) failing.add(c.id);
    }
    const due = failing.size > 0 || [...stored.values()].some((c) => this.settled(c) !== c);
    if (!due) return [...stored.values()];
    const result = await this.change((channels) => {
      let changed = false;
      for (const [name, c] of channels) {
        let s = this.settled(c);
        if (s === undefined) {
          channels.delete(name);
          gone.push(c);
          changed = true;
          continue;
        }
        if (failing.has(s.id) && s.status !== 'FAILED' && s.status !== 'DELETING') {
          s = { ...s, status: 'FAILED', statusReason: `The source stream ${s.stream.name} no longer exists.` };
          delete s.statusUntil;
        }
        if (s !== c) {
          channels.set(name, s);
          changed = true;
        }
      }
      return { channels: changed ? channels : undefined, result: [...channels.values()] };
    });
    for (const c of gone) await this.dropLog(c);
    return result;
  }

  private async run(channels: readonly ChannelMeta[]): Promise<void> {
    const delivering = channels.filter((c) => c.status === 'ACTIVE' || c.status === 'UPDATING');
    const wanted = new Map(delivering.map((c) => [c.name, c]));
    for (const [name, r] of this.running) {
      const c = wanted.get(name);
      if (!c || c.id !== r.id || c.versionId !== r.versionId) {
        this.running.delete(name);
        await r.handle.close();
      }
    }
    for (const c of delivering) {
      let r = this.running.get(c.name);
      if (!r) {
        const catalog = this.k.catalog;
        r = {
          id: c.id,
          versionId: c.versionId,
          handle: startChannelDelivery(c, {
            k: this.k,
            logger: this.delivery!.logger,
            objects: this.delivery!.objects,
            log: await this.logOf(c),
            load: (name) => catalog.getSetting(name),
            save: (name, value) => catalog.putSetting(name, value),
          }),
        };
        this.running.set(c.name, r);
      }
      await r.handle.step().catch((err) => this.delivery?.logger.error({ err, channel: c.name }, 'channel delivery failed'));
    }
  }

  private async stopAll(): Promise<void> {
    const running = [...this.running.values()];
    this.running.clear();
    await Promise.allSettled(running.map((r) => r.handle.close()));
  }

  private logOf(c: ChannelMeta): Promise<ShardLog> {
    let log = this.logs.get(c.id);
    if (!log) {
      log = this.k.logs.open(logKey(c.id), 0);
      this.logs.set(c.id, log);
      log.catch(() => this.logs.delete(c.id));
    }
    return log;
  }

  private async dropLog(c: ChannelMeta): Promise<void> {
    const r = this.running.get(c.name);
    if (r?.id === c.id) {
      this.running.delete(c.name);
      await r.handle.close();
    }
    this.logs.delete(c.id);
    await this.k.logs.dropStream(logKey(c.id));
  }
}

/** The log a channel's records wait in for delivery: its incarnation's own. */
function logKey(id: string): string {
  return `channel:${id}`;
}

function parse(text: string | undefined): Map<string, ChannelMeta> {
  const list = text === undefined ? [] : (JSON.parse(text) as ChannelMeta[]);
  return new Map(list.map((c) => [c.name, c]));
}

function checkFreshness(value: number | undefined): number {
  if (value === undefined) return FRESHNESS_DEFAULT;
  if (value < FRESHNESS_MIN || value > FRESHNESS_MAX) {
    throw new InvalidArgumentException(`DataFreshnessInSeconds must be between ${FRESHNESS_MIN} and ${FRESHNESS_MAX} seconds. Specified value was ${value}.`);
  }
  return value;
}

/** A channel's source must be an ACTIVE ON_DEMAND stream. */
function checkSource(k: KinesisContext, stream: Stream): void {
  const { accountId } = k.settings;
  if (stream.meta.status !== 'ACTIVE' && stream.meta.status !== 'UPDATING') {
    throw new ResourceInUseException(`Stream ${stream.name} under account ${accountId} not ACTIVE, instead in state ${stream.meta.status}`);
  }
  if (stream.meta.mode !== 'ON_DEMAND') {
    throw new InvalidArgumentException(
      `Channels can only be created for streams in ON_DEMAND capacity mode. Stream ${stream.name} under account ${accountId} is in ${stream.meta.mode} mode.`,
    );
  }
}

/** The one table of an S3TablesDestinationConfiguration, as far as this server delivers to it. */
function checkTables(config: Input): ChannelTable {
  const list: Input[] = config.S3TablesConfigurationList;
  if (list.length !== 1) throw new InvalidArgumentException('S3TablesConfigurationList must contain exactly one table.');
  const t = list[0]!;
  if (t.CompressionType === 'ZSTD') {
    throw new InvalidArgumentException('CompressionType ZSTD is not supported by this server for S3 Tables destinations (its Parquet writer has no Zstandard codec). Use NONE or SNAPPY.');
  }
  const bucket = t.TableBucketARN.slice(t.TableBucketARN.lastIndexOf('/') + 1);
  if (!validBucketName(bucket)) {
    throw new InvalidArgumentException(
      `Table bucket name ${bucket} is not valid: table bucket names consist of lowercase letters, numbers and hyphens, and begin and end with a letter or number.`,
    );
  }
  const fields: Input[] = t.PartitionSpec?.PartitionFields ?? [];
  if (fields.length > 1 || fields.some((f) => f.SourceName !== 'approximate_arrival_timestamp')) {
    throw new InvalidArgumentException(
      'PartitionSpec is not supported by this server but for one TIME_HOUR field of approximate_arrival_timestamp, the one timestamp column of its channel tables.',
    );
  }
  return {
    TableBucketARN: t.TableBucketARN,
    Namespace: t.Namespace,
    TableName: t.TableName,
    CompressionType: t.CompressionType,
    ...(fields.length ? { PartitionSpec: { PartitionFields: [{ Transform: 'TIME_HOUR', SourceName: 'approximate_arrival_timestamp' }] } } : {}),
  };
}
