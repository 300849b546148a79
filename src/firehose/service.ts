/**
 * The Firehose service: delivery streams, their accepted records and their delivery. Built from
 * one dependencies object; owns its delivery pipelines and releases them in close().
 *
 * Accepted records go to the stream's own log (the LogStore Kinesis uses, under a key of the
 * stream's incarnation) before PutRecord/PutRecordBatch answer, so an acknowledged record
 * survives a crash as the fsync setting promises; the stream's pipeline delivers from that log.
 * Stream metadata is one catalog document (catalog.ts). Status changes (CREATING → ACTIVE,
 * DELETING → gone, ENABLING → ENABLED) are due at a time on the injected clock; readers see a
 * change as soon as it is due, and the periodic step writes it down.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { InvalidArgumentException, LimitExceededException, ResourceInUseException } from '../protocol/errors.js';
import type { Catalog } from '../storage/catalog.js';
import type { LogStore, ShardLog } from '../storage/types.js';
import type { FirehoseMetrics } from '../metrics/firehose.js';
import type { Clock } from '../util/clock.js';
import { DeliveryStreamCatalog } from './catalog.js';
import { checkDestination } from './checks.js';
import { describeDestination, destinationAfterUpdate, destinationFromCreate } from './destinations.js';
import { ConcurrentModificationException, deliveryStreamExists, deliveryStreamNotFound } from './errors.js';
import type { Config, DeliveryStreamMeta, DeliveryStreamType, Tag } from './model.js';
import type { FirehoseSettings } from './settings.js';

export interface FirehoseDeps {
  settings: FirehoseSettings;
  catalog: Catalog;
  logs: LogStore;
  clock: Clock;
  logger: Logger;
  /** Starts the delivery of one stream; the service stops it when the stream goes or changes. */
  deliver?: DeliveryStarter;
  /**
   * The nodes of a cluster deliver on the one node that holds the background-work lease, so that
   * no record is delivered by two nodes at once; without a lease this node always delivers.
   */
  lease?: { readonly held: boolean };
  /** Firehose's metrics: accepted records here, deliveries in the pipelines. */
  metrics?: FirehoseMetrics;
}

/** How often a node that delivers for a cluster reads the delivery streams other nodes changed. */
const CLUSTER_RELOAD_MS = 1_000;

/** What the service asks of the delivery engine for one delivery stream. */
export type DeliveryStarter = (
  stream: DeliveryStreamMeta,
  log: ShardLog,
  progress: DeliveryProgressStore,
) => DeliveryHandle | undefined | Promise<DeliveryHandle | undefined>;

export interface DeliveryHandle {
  /** New records were accepted (or time passed): deliver what is due. */
  step(): Promise<void>;
  close(): Promise<void>;
}

export interface DeliveryProgressStore {
  load(): Promise<number>;
  save(deliveredOffset: number): Promise<void>;
}

export const MAX_TAGS = 50;
/** PutRecordBatch: at most 4 MiB of record data per call. */
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

interface Running {
  /** The stream version the pipeline was started for (a change restarts it). */
  versionId: number;
  id: string;
  handle: DeliveryHandle | undefined;
}

export class Firehose {
  readonly settings: FirehoseSettings;
  private readonly store: DeliveryStreamCatalog;
  private streams = new Map<string, DeliveryStreamMeta>();
  private readonly logs = new Map<string, Promise<ShardLog>>();
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | undefined;
  private stepping: Promise<void> | undefined;
  private closed = false;
  private reloadedAt = -Infinity;

  constructor(private readonly deps: FirehoseDeps) {
    this.settings = deps.settings;
    this.store = new DeliveryStreamCatalog(deps.catalog);
  }

  get now(): number {
    return this.deps.clock.now();
  }

  get accountId(): string {
    return this.settings.accountId;
  }

  async start(): Promise<void> {
    this.streams = await this.store.load();
    await this.step();
    this.timer = setInterval(() => void this.step(), this.settings.tickMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.stepping?.catch(() => {});
    await Promise.allSettled([...this.running.values()].map((r) => r.handle?.close()));
    this.running.clear();
    await this.deps.metrics?.flush(true).catch((err) => this.deps.logger.warn({ err }, 'writing the Firehose metrics failed'));
    // The logs belong to the LogStore, which its owner closes.
    this.logs.clear();
  }

  // ---- control plane ----

  async create(input: Config): Promise<string> {
    const name: string = input.DeliveryStreamName;
    const type: DeliveryStreamType = input.DeliveryStreamType ?? 'DirectPut';
    const destination = destinationFromCreate(input);
    if (input.KinesisStreamSourceConfiguration !== undefined && type !== 'KinesisStreamAsSource') {
      throw new InvalidArgumentException('KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type');
    }
    if (type === 'KinesisStreamAsSource' && input.KinesisStreamSourceConfiguration === undefined) {
      throw new InvalidArgumentException('KinesisSourceStreamConfig is required for KinesisStreamAsSource stream type');
    }
    if (input.MSKSourceConfiguration !== undefined && type !== 'MSKAsSource') {
      throw new InvalidArgumentException('MSKSourceConfiguration is only applicable for MSKAsSource stream type');
    }
    if (input.DeliveryStreamEncryptionConfigurationInput !== undefined && type !== 'DirectPut') {
      throw new InvalidArgumentException('Server-side encryption is only supported for DirectPut delivery streams');
    }
    checkDestination(destination);
    const encryption = encryptionInput(input.DeliveryStreamEncryptionConfigurationInput);
    const now = this.now;
    const arn = `arn:aws:firehose:${this.settings.region}:${this.accountId}:deliverystream/${name}`;
    const meta: DeliveryStreamMeta = {
      name,
      arn,
      id: randomUUID(),
      type,
      status: 'CREATING',
      createdAt: now,
      readyAt: now + this.settings.createDelayMs,
      versionId: 1,
      destination,
      encryption: encryption ? { status: 'ENABLED', ...encryption } : { status: 'DISABLED' },
      tags: checkTags([], input.Tags ?? []),
    };
    if (type === 'DirectPut') meta.directPut = { ThroughputHintInMBs: input.DirectPutSourceConfiguration?.ThroughputHintInMBs ?? 5 };
    if (type === 'KinesisStreamAsSource') {
      const k = input.KinesisStreamSourceConfiguration;
      meta.kinesisSource = { streamARN: k.KinesisStreamARN, roleARN: k.RoleARN, startedAt: now };
    }
    if (input.MSKSourceConfiguration !== undefined) meta.sourceConfig = input.MSKSourceConfiguration;
    if (input.DatabaseSourceConfiguration !== undefined) meta.sourceConfig = input.DatabaseSourceConfiguration;
    await this.update((streams) => {
      if (streams.has(name)) throw deliveryStreamExists(name, this.accountId);
      if (streams.size >= this.settings.deliveryStreamLimit) {
        throw new LimitExceededException(`You have already consumed your firehose quota of ${this.settings.deliveryStreamLimit} hoses.`);
      }
      streams.set(name, meta);
      return streams;
    });
    return arn;
  }

  async delete(name: string): Promise<void> {
    await this.update((streams) => {
      const stream = this.settled(streams.get(name));
      if (!stream) throw deliveryStreamNotFound(name, this.accountId);
      if (stream.status === 'CREATING') {
        throw new ResourceInUseException(`Firehose ${name} under account ${this.accountId} is in CREATING state and cannot be deleted.`);
      }
      if (stream.status === 'DELETING') return undefined;
      streams.set(name, { ...stream, status: 'DELETING', readyAt: this.now + this.settings.createDelayMs });
      return streams;
    });
  }

  async describe(name: string): Promise<Config> {
    return describeStream(this.get(await this.fresh(name), name));
  }

  async list(type: DeliveryStreamType | undefined, after: string | undefined, limit: number): Promise<{ names: string[]; more: boolean }> {
    await this.reload();
    const names = [...this.streams.values()]
      .map((s) => this.settled(s))
      .filter((s): s is DeliveryStreamMeta => s !== undefined && (type === undefined || s.type === type))
      .map((s) => s.name)
      .filter((n) => after === undefined || n > after)
      .sort();
    return { names: names.slice(0, limit), more: names.length > limit };
  }

  async updateDestination(input: Config): Promise<void> {
    const name: string = input.DeliveryStreamName;
    await this.update((streams) => {
      const stream = this.get(this.settled(streams.get(name)), name);
      if (String(stream.versionId) !== input.CurrentDeliveryStreamVersionId) {
        throw new ConcurrentModificationException(
          `Cannot update firehose: ${name} since the current version id: ${stream.versionId} and specified version id: ${input.CurrentDeliveryStreamVersionId} do not match`,
        );
      }
      if (stream.destination.id !== input.DestinationId) {
        throw new InvalidArgumentException(`Destination Id ${input.DestinationId} not found`);
      }
      if (stream.status !== 'ACTIVE') {
        throw new ResourceInUseException(`Firehose ${name} under account ${this.accountId} is not ACTIVE.`);
      }
      const destination = destinationAfterUpdate(stream.destination, input);
      checkDestination(destination, stream.destination);
      streams.set(name, { ...stream, destination, versionId: stream.versionId + 1, updatedAt: this.now });
      return streams;
    });
  }

  async tag(name: string, tags: Tag[]): Promise<void> {
    await this.update((streams) => {
      const stream = this.get(this.settled(streams.get(name)), name);
      streams.set(name, { ...stream, tags: checkTags(stream.tags, tags) });
      return streams;
    });
  }

  async untag(name: string, keys: string[]): Promise<void> {
    await this.update((streams) => {
      const stream = this.get(this.settled(streams.get(name)), name);
      const drop = new Set(keys);
      streams.set(name, { ...stream, tags: stream.tags.filter((t) => !drop.has(t.Key)) });
      return streams;
    });
  }

  async listTags(name: string, after: string | undefined, limit: number): Promise<{ tags: Tag[]; more: boolean }> {
    const stream = this.get(await this.fresh(name), name);
    const tags = [...stream.tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0)).filter((t) => after === undefined || t.Key > after);
    return { tags: tags.slice(0, limit), more: tags.length > limit };
  }

  async setEncryption(name: string, enable: boolean, input: Config | undefined): Promise<void> {
    await this.update((streams) => {
      const stream = this.get(this.settled(streams.get(name)), name);
      if (stream.type !== 'DirectPut') {
        throw new InvalidArgumentException(`This operation is not permitted on ${stream.type} delivery stream type.`);
      }
      if (stream.status !== 'ACTIVE') {
        throw new ResourceInUseException(`Firehose ${name} under account ${this.accountId} is not ACTIVE.`);
      }
      const settlesAt = this.now + this.settings.createDelayMs;
      const encryption = enable
        ? { status: 'ENABLING' as const, ...(encryptionInput(input) ?? { keyType: 'AWS_OWNED_CMK' as const }), settlesAt }
        : { status: 'DISABLING' as const, settlesAt };
      streams.set(name, { ...stream, encryption });
      return streams;
    });
  }

  // ---- data plane ----

  /** Appends records to an ACTIVE DirectPut stream's log; resolves once they are durable. */
  async put(name: string, data: readonly Buffer[], call: 'PutRecord' | 'PutRecordBatch' = 'PutRecordBatch'): Promise<{ ids: string[]; encrypted: boolean }> {
    const started = performance.now();
    let stream = this.settled(this.streams.get(name));
    if (!stream || stream.status !== 'ACTIVE') {
      // Another node may have created it, or it may just have become ACTIVE.
      stream = await this.fresh(name);
    }
    if (!stream || (stream.status !== 'ACTIVE' && stream.status !== 'DELETING')) throw deliveryStreamNotFound(name, this.accountId);
    if (stream.type !== 'DirectPut') {
      throw new InvalidArgumentException(`This operation is not permitted on ${stream.type} delivery stream type.`);
    }
    const log = await this.logOf(stream);
    const { firstOffset } = await log.append(
      data.map((d) => ({ partitionKey: '', data: d })),
      this.now,
    );
    void this.running.get(name)?.handle?.step().catch(() => {});
    if (this.deps.metrics) {
      let bytes = 0;
      for (const d of data) bytes += d.length;
      this.deps.metrics.recordPut(name, call, data.length, bytes, performance.now() - started, this.now);
    }
    const ids = data.map((_, i) => recordId(stream.id, firstOffset + i));
    return { ids, encrypted: stream.encryption.status === 'ENABLED' || stream.encryption.status === 'DISABLING' };
  }

  // ---- internals ----

  /** The stream as it is now: a status change that is due has happened. */
  private settled(stream: DeliveryStreamMeta | undefined): DeliveryStreamMeta | undefined {
    if (!stream) return undefined;
    const now = this.now;
    let s = stream;
    if (s.readyAt !== undefined && now >= s.readyAt) {
      if (s.status === 'DELETING') return undefined;
      if (s.status === 'CREATING') {
        s = { ...s, status: 'ACTIVE' };
        delete s.readyAt;
      }
    }
    if (s.encryption.settlesAt !== undefined && now >= s.encryption.settlesAt) {
      const status = s.encryption.status === 'ENABLING' ? 'ENABLED' : s.encryption.status === 'DISABLING' ? 'DISABLED' : s.encryption.status;
      s = { ...s, encryption: status === 'DISABLED' ? { status } : { ...s.encryption, status } };
      delete s.encryption.settlesAt;
    }
    return s;
  }

  private get(stream: DeliveryStreamMeta | undefined, name: string): DeliveryStreamMeta {
    if (!stream) throw deliveryStreamNotFound(name, this.accountId);
    return stream;
  }

  private async reload(): Promise<void> {
    this.streams = await this.store.load();
  }

  private async fresh(name: string): Promise<DeliveryStreamMeta | undefined> {
    await this.reload();
    return this.settled(this.streams.get(name));
  }

  private async update(change: (streams: Map<string, DeliveryStreamMeta>) => Map<string, DeliveryStreamMeta> | undefined): Promise<void> {
    this.streams = await this.store.update(change);
    void this.step();
  }

  private logOf(stream: DeliveryStreamMeta): Promise<ShardLog> {
    let log = this.logs.get(stream.id);
    if (!log) {
      log = this.deps.logs.open(logKey(stream.id), 0);
      this.logs.set(stream.id, log);
      log.catch(() => this.logs.delete(stream.id));
    }
    return log;
  }

  /** Writes down due status changes, drops deleted streams' logs, and keeps one pipeline per ACTIVE stream. */
  private step(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.stepping) return this.stepping;
    this.stepping = (async () => {
      try {
        // Every node writes down the minutes of what it accepted, delivering or not.
        await this.deps.metrics?.flush();
        const lease = this.deps.lease;
        if (lease && !lease.held) {
          // Another node delivers: what this one ran stops, and its records stay in the log for
          // the holder, which resumes from the saved progress.
          await this.stopPipelines();
          return;
        }
        if (lease && performance.now() - this.reloadedAt >= CLUSTER_RELOAD_MS) {
          // Streams created, changed or deleted through other nodes.
          this.reloadedAt = performance.now();
          await this.reload();
        }
        await this.settleAll();
        await this.runPipelines();
      } catch (err) {
        this.deps.logger.error({ err }, 'firehose step failed');
      } finally {
        this.stepping = undefined;
      }
    })();
    return this.stepping;
  }

  private async settleAll(): Promise<void> {
    const due = [...this.streams.values()].filter((s) => {
      const settled = this.settled(s);
      return settled === undefined || settled.status !== s.status || settled.encryption.status !== s.encryption.status;
    });
    if (due.length === 0) return;
    const gone: DeliveryStreamMeta[] = [];
    this.streams = await this.store.update((streams) => {
      let changed = false;
      for (const [name, stream] of streams) {
        const settled = this.settled(stream);
        if (settled === undefined) {
          streams.delete(name);
          gone.push(stream);
          changed = true;
        } else if (settled.status !== stream.status || settled.encryption.status !== stream.encryption.status) {
          streams.set(name, settled);
          changed = true;
        }
      }
      return changed ? streams : undefined;
    });
    for (const stream of gone) {
      const running = this.running.get(stream.name);
      if (running?.id === stream.id) {
        this.running.delete(stream.name);
        await running.handle?.close();
      }
      this.logs.delete(stream.id);
      await this.deps.logs.dropStream(logKey(stream.id));
    }
  }

  private async stopPipelines(): Promise<void> {
    if (this.running.size === 0) return;
    const running = [...this.running.values()];
    this.running.clear();
    this.reloadedAt = -Infinity;
    await Promise.allSettled(running.map((r) => r.handle?.close()));
  }

  private async runPipelines(): Promise<void> {
    const starter = this.deps.deliver;
    if (!starter) return;
    for (const [name, running] of this.running) {
      const stream = this.settled(this.streams.get(name));
      if (!stream || stream.id !== running.id || stream.versionId !== running.versionId) {
        this.running.delete(name);
        await running.handle?.close();
      }
    }
    for (const stream of this.streams.values()) {
      const s = this.settled(stream);
      if (!s || (s.status !== 'ACTIVE' && s.status !== 'DELETING')) continue;
      let running = this.running.get(s.name);
      if (!running) {
        const log = await this.logOf(s);
        const progress: DeliveryProgressStore = {
          load: async () => (await this.store.progress(s.id)).deliveredOffset,
          save: (deliveredOffset) => this.store.saveProgress(s.id, { deliveredOffset }),
        };
        running = { versionId: s.versionId, id: s.id, handle: await starter(s, log, progress) };
        this.running.set(s.name, running);
      }
      await running.handle?.step().catch((err) => this.deps.logger.error({ err, deliveryStream: s.name }, 'delivery step failed'));
    }
  }
}

/** The log key of a stream's accepted records: its incarnation, so a new stream of the same name starts empty. */
function logKey(id: string): string {
  return `firehose:${id}`;
}

/** Firehose's record ids: opaque to producers; this one names the stream incarnation and the record's offset. */
export function recordId(streamId: string, offset: number): string {
  const bytes = Buffer.alloc(24);
  Buffer.from(streamId.replace(/-/g, ''), 'hex').copy(bytes, 0, 0, 16);
  bytes.writeBigUInt64BE(BigInt(offset), 16);
  return bytes.toString('base64');
}

function encryptionInput(input: Config | undefined): { keyType: 'AWS_OWNED_CMK' | 'CUSTOMER_MANAGED_CMK'; keyARN?: string } | undefined {
  if (input === undefined) return undefined;
  const keyType = input.KeyType as 'AWS_OWNED_CMK' | 'CUSTOMER_MANAGED_CMK';
  if (keyType === 'CUSTOMER_MANAGED_CMK' && input.KeyARN === undefined) {
    throw new InvalidArgumentException('KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.');
  }
  if (keyType === 'AWS_OWNED_CMK' && input.KeyARN !== undefined) {
    throw new InvalidArgumentException('KeyARN must not be specified when KeyType is AWS_OWNED_CMK.');
  }
  return input.KeyARN !== undefined ? { keyType, keyARN: input.KeyARN } : { keyType };
}

function checkTags(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const byKey = new Map(current.map((t) => [t.Key, t]));
  for (const tag of added) byKey.set(tag.Key, tag.Value === undefined ? { Key: tag.Key } : { Key: tag.Key, Value: tag.Value });
  if (byKey.size > MAX_TAGS) {
    throw new LimitExceededException(`A delivery stream cannot have more than ${MAX_TAGS} tags.`);
  }
  return [...byKey.values()];
}

function describeStream(stream: DeliveryStreamMeta): Config {
  const out: Config = {
    DeliveryStreamName: stream.name,
    DeliveryStreamARN: stream.arn,
    DeliveryStreamStatus: stream.status,
    DeliveryStreamEncryptionConfiguration: {
      ...(stream.encryption.keyARN ? { KeyARN: stream.encryption.keyARN } : {}),
      ...(stream.encryption.keyType && stream.encryption.status !== 'DISABLED' ? { KeyType: stream.encryption.keyType } : {}),
      Status: stream.encryption.status,
    },
    DeliveryStreamType: stream.type,
    VersionId: String(stream.versionId),
    CreateTimestamp: new Date(stream.createdAt),
    ...(stream.updatedAt !== undefined ? { LastUpdateTimestamp: new Date(stream.updatedAt) } : {}),
    Destinations: [describeDestination(stream.destination)],
    HasMoreDestinations: false,
  };
  if (stream.directPut) out.Source = { DirectPutSourceDescription: stream.directPut };
  if (stream.kinesisSource) {
    out.Source = {
      KinesisStreamSourceDescription: {
        KinesisStreamARN: stream.kinesisSource.streamARN,
        RoleARN: stream.kinesisSource.roleARN,
        DeliveryStartTimestamp: new Date(stream.kinesisSource.startedAt),
      },
    };
  }
  return out;
}

