import {
  InvalidArgumentException,
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '../protocol/errors.js';
import type { StreamMeta } from '../storage/catalog.js';
import type { KinesisContext } from './context.js';
import { changeStream } from './stream-state.js';
import type { Stream } from './stream.js';

/**
 * Enhanced fan-out consumers. A consumer belongs to one stream and is kept in that stream's
 * catalog document (StreamMeta.consumers), so it is written in the same transaction as the rest
 * of the stream and goes away with it.
 *
 * Status transitions are deadlines, like a stream's: a consumer is CREATING until `statusUntil`
 * and then ACTIVE; a deregistered one is DELETING until `statusUntil` and then gone. They are
 * applied when the stream's consumers are next looked at, by the injected clock.
 */

export type ConsumerStatus = 'CREATING' | 'ACTIVE' | 'DELETING';

export interface ConsumerMeta {
  name: string;
  /** Epoch milliseconds. The ARN carries it in whole seconds. */
  createdAt: number;
  status: ConsumerStatus;
  /** When CREATING becomes ACTIVE, or DELETING becomes gone; epoch ms. */
  statusUntil?: number;
  tags?: Record<string, string>;
  /** The consumer's resource-based policy, verbatim as PutResourcePolicy received it. */
  policy?: string;
}

declare module '../storage/catalog.js' {
  interface StreamMeta {
    /** Registered enhanced fan-out consumers, in registration order. Absent when there are none. */
    consumers?: ConsumerMeta[];
  }
}

/** Consumers per stream (provisioned and On-demand Standard streams). */
export const MAX_CONSUMERS = 20;
/** Consumers of one stream that may be CREATING at the same time. */
export const MAX_CREATING = 5;
/** Tags a consumer may carry. */
export const MAX_CONSUMER_TAGS = 50;

const CONSUMER_ARN =
  /^arn:aws[a-z-]*:kinesis:([^:]*):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})\/consumer\/([a-zA-Z0-9_.-]{1,128}):(\d+)$/;

export function consumerArn(stream: Stream, c: ConsumerMeta): string {
  return `${stream.arn}/consumer/${c.name}:${Math.floor(c.createdAt / 1000)}`;
}

/** A consumer as RegisterStreamConsumer and ListStreamConsumers return it. */
export function describeConsumer(stream: Stream, c: ConsumerMeta) {
  return {
    ConsumerName: c.name,
    ConsumerARN: consumerArn(stream, c),
    ConsumerStatus: c.status,
    ConsumerCreationTimestamp: new Date(c.createdAt),
  };
}

export interface ParsedConsumerArn {
  streamArn: string;
  streamName: string;
  consumerName: string;
  creationSeconds: number;
}

/** The parts of a consumer ARN of this account and region, or undefined. */
export function parseConsumerArn(k: KinesisContext, arn: string): ParsedConsumerArn | undefined {
  const m = CONSUMER_ARN.exec(arn);
  if (!m || m[1] !== k.settings.region || m[2] !== k.settings.accountId) return undefined;
  const creationSeconds = Number(m[5]);
  if (!Number.isSafeInteger(creationSeconds)) return undefined;
  return { streamArn: arn.slice(0, arn.indexOf('/consumer/')), streamName: m[3]!, consumerName: m[4]!, creationSeconds };
}

function hasDueTransition(list: readonly ConsumerMeta[], now: number): boolean {
  for (const c of list) if (c.statusUntil !== undefined && c.statusUntil <= now) return true;
  return false;
}

/** The list with due transitions applied (a new array when anything changed). */
function settled(stream: Stream, list: readonly ConsumerMeta[], now: number): ConsumerMeta[] {
  const out: ConsumerMeta[] = [];
  for (const c of list) {
    if (c.statusUntil === undefined || c.statusUntil > now) {
      out.push(c);
    } else if (c.status === 'CREATING') {
      const next: ConsumerMeta = { ...c, status: 'ACTIVE' };
      delete next.statusUntil;
      out.push(next);
    } else {
      stream.runtime.retiredConsumers.set(c.name, Math.floor(c.createdAt / 1000));
    }
  }
  return out;
}

/**
 * Runs `change` on the stream's consumers (due transitions applied) and writes the result into the
 * stream's catalog document. Stream document changes run one at a time (changeStream), so this
 * sees what any earlier change wrote. A stream deleted meanwhile is left alone, so that its
 * document is not written back.
 */
export async function changeConsumers<T>(
  k: KinesisContext,
  stream: Stream,
  change: (list: ConsumerMeta[], now: number) => { list?: ConsumerMeta[]; result: T },
): Promise<T> {
  let result!: T;
  await changeStream(k, stream, (meta) => {
    const now = k.now;
    const current = meta.consumers ?? [];
    const list = hasDueTransition(current, now) ? settled(stream, current, now) : [...current];
    const out = change(list, now);
    result = out.result;
    const next = out.list ?? list;
    const unchanged = next.length === current.length && next.every((c, i) => c === current[i]);
    if (unchanged || k.byStreamKey(stream.key) !== stream) return undefined;
    const doc: StreamMeta = { ...meta };
    if (next.length > 0) doc.consumers = next;
    else delete doc.consumers;
    return doc;
  });
  k.fanOut.streamChanged(stream.key);
  return result;
}

/** The stream's consumers with due transitions applied (and written). */
export async function consumersOf(k: KinesisContext, stream: Stream): Promise<readonly ConsumerMeta[]> {
  const current = stream.meta.consumers ?? [];
  if (!hasDueTransition(current, k.now)) return current;
  await changeConsumers(k, stream, () => ({ result: undefined }));
  return stream.meta.consumers ?? [];
}

/** Number of consumers registered with the stream (any status), for DescribeStreamSummary. */
export async function consumerCount(k: KinesisContext, stream: Stream): Promise<number> {
  return (await consumersOf(k, stream)).length;
}

function notActive(k: KinesisContext, stream: Stream) {
  return new ResourceInUseException(
    `Stream ${stream.name} under account ${k.settings.accountId} not ACTIVE, instead in state ${stream.meta.status}`,
  );
}

export function consumerNotFoundByName(k: KinesisContext, streamName: string, consumerName: string) {
  return new ResourceNotFoundException(
    `Consumer ${consumerName} under stream ${streamName} under account ${k.settings.accountId} not found.`,
  );
}

export function consumerNotFoundByArn(arn: string) {
  return new ResourceNotFoundException(`Consumer ${arn} not found.`);
}

export interface RegisterParams {
  consumerName: string;
  tags?: Record<string, string>;
}

/** Registers a consumer (CREATING); returns it as it was registered. */
export async function registerConsumer(k: KinesisContext, stream: Stream, p: RegisterParams): Promise<ConsumerMeta> {
  const account = k.settings.accountId;
  if (stream.meta.status !== 'ACTIVE' && stream.meta.status !== 'UPDATING') throw notActive(k, stream);
  if (p.tags && Object.keys(p.tags).length > MAX_CONSUMER_TAGS) {
    throw new InvalidArgumentException(
      `Failed to register consumer: a consumer cannot have more than ${MAX_CONSUMER_TAGS} tags.`,
    );
  }
  return changeConsumers(k, stream, (list, now) => {
    // Checked again in turn: a DeleteStream may have come first.
    if (stream.meta.status !== 'ACTIVE' && stream.meta.status !== 'UPDATING') throw notActive(k, stream);
    if (list.some((c) => c.name === p.consumerName)) {
      throw new ResourceInUseException(
        `Consumer ${p.consumerName} under stream ${stream.name} under account ${account} already exists.`,
      );
    }
    if (list.length >= MAX_CONSUMERS) {
      throw new LimitExceededException(
        `This request would exceed the limit of ${MAX_CONSUMERS} consumers for stream ${stream.name} under account ${account}.`,
      );
    }
    if (list.filter((c) => c.status === 'CREATING').length >= MAX_CREATING) {
      throw new LimitExceededException(
        `This request would exceed the limit of ${MAX_CREATING} consumers in CREATING status for stream ` +
          `${stream.name} under account ${account}.`,
      );
    }
    // A consumer registered again under a name that was just deregistered gets a later ARN.
    let createdAt = now;
    const lastSecond = stream.runtime.retiredConsumers.get(p.consumerName);
    if (lastSecond !== undefined && Math.floor(createdAt / 1000) <= lastSecond) createdAt = (lastSecond + 1) * 1000;
    const consumer: ConsumerMeta = {
      name: p.consumerName,
      createdAt,
      status: 'CREATING',
      statusUntil: now + k.settings.consumerDelayMs,
    };
    if (p.tags && Object.keys(p.tags).length > 0) consumer.tags = { ...p.tags };
    return { list: [...list, consumer], result: consumer };
  });
}

/** How Describe/DeregisterStreamConsumer name a consumer. */
export interface ConsumerRef {
  StreamARN?: string;
  ConsumerName?: string;
  ConsumerARN?: string;
}

export interface ResolvedConsumer {
  stream: Stream;
  consumer: ConsumerMeta;
}

/**
 * The consumer a request names: by ConsumerARN, or by StreamARN and ConsumerName, or by all three
 * when they agree.
 */
export async function resolveConsumer(k: KinesisContext, ref: ConsumerRef): Promise<ResolvedConsumer> {
  const { ConsumerARN: arn, StreamARN: streamArn, ConsumerName: name } = ref;
  if (arn !== undefined) {
    const parsed = parseConsumerArn(k, arn);
    if (!parsed) throw consumerNotFoundByArn(arn);
    if (streamArn !== undefined && streamArn !== parsed.streamArn) {
      throw new InvalidArgumentException(`ConsumerARN ${arn} and StreamARN ${streamArn} do not refer to the same stream.`);
    }
    if (name !== undefined && name !== parsed.consumerName) {
      throw new InvalidArgumentException(`ConsumerARN ${arn} and ConsumerName ${name} do not refer to the same consumer.`);
    }
    const stream = await k.resolve({ StreamName: parsed.streamName }).catch((err: unknown) => {
      throw err instanceof ResourceNotFoundException ? consumerNotFoundByArn(arn) : err;
    });
    const consumer = (await consumersOf(k, stream)).find(
      (c) => c.name === parsed.consumerName && Math.floor(c.createdAt / 1000) === parsed.creationSeconds,
    );
    if (!consumer) throw consumerNotFoundByArn(arn);
    return { stream, consumer };
  }
  if (streamArn === undefined || name === undefined) {
    throw new InvalidArgumentException('Either ConsumerARN or both StreamARN and ConsumerName must be provided.');
  }
  const stream = await k.resolve({ StreamARN: streamArn });
  const consumer = (await consumersOf(k, stream)).find((c) => c.name === name);
  if (!consumer) throw consumerNotFoundByName(k, stream.name, name);
  return { stream, consumer };
}

/** Starts deregistering a consumer (DELETING); its subscriptions end. Deregistering twice is harmless. */
export async function deregisterConsumer(k: KinesisContext, stream: Stream, consumer: ConsumerMeta): Promise<void> {
  await changeConsumers(k, stream, (list, now) => {
    const i = list.findIndex((c) => c.name === consumer.name && c.createdAt === consumer.createdAt);
    if (i < 0 || list[i]!.status === 'DELETING') return { result: undefined };
    const next = [...list];
    next[i] = { ...list[i]!, status: 'DELETING', statusUntil: now + k.settings.consumerDelayMs };
    return { list: hasDueTransition(next, now) ? settled(stream, next, now) : next, result: undefined };
  });
}

/**
 * What DeleteStream does about consumers: refuses while there are any, unless told to delete them
 * too; then they go in the same write that marks the stream DELETING (withoutConsumers).
 */
export async function checkConsumersForDeletion(k: KinesisContext, stream: Stream, enforce: boolean): Promise<void> {
  if (stream.meta.status === 'DELETING') return;
  const list = await consumersOf(k, stream);
  if (list.length === 0 || enforce) return;
  throw new ResourceInUseException(
    `DeleteStream can’t delete ${k.settings.accountId}:${stream.name} because there are consumers associated ` +
      `with this data stream. To delete ${stream.name} anyway, set the EnforceConsumerDeletion parameter to true ` +
      `to force the deletion of all the consumers that are associated with it.`,
  );
}

/** The stream document without its consumers, written with DELETING (DeleteStream deletes them with it). */
export function withoutConsumers(meta: StreamMeta): StreamMeta {
  const next = { ...meta };
  delete next.consumers;
  return next;
}

/** The consumer as it stands now: due transitions applied, undefined once it is gone. */
export function currentConsumer(k: KinesisContext, stream: Stream, name: string, createdAt: number): ConsumerMeta | undefined {
  const c = stream.meta.consumers?.find((x) => x.name === name && x.createdAt === createdAt);
  if (c === undefined) return undefined;
  const due = c.statusUntil !== undefined && c.statusUntil <= k.now;
  if (due && c.status === 'DELETING') return undefined;
  return due && c.status === 'CREATING' ? { ...c, status: 'ACTIVE' } : c;
}
