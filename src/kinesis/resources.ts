import { ResourceInUseException, ResourceNotFoundException } from '../protocol/errors.js';
import type { StreamMeta } from '../storage/catalog.js';
import {
  changeConsumers,
  consumerArn,
  consumerNotFoundByArn,
  currentConsumer,
  type ConsumerMeta,
} from './consumers.js';
import type { KinesisContext } from './context.js';
import { changeStream, requireStatus } from './stream-state.js';
import type { Stream } from './stream.js';

/**
 * A resource that carries tags and a resource policy: a stream, or (once the service keeps
 * them) a registered consumer. Tag and policy operations work on this, whatever the ARN named.
 */
export interface Resource {
  readonly arn: string;
  /** How messages name it: "stream orders". */
  readonly label: string;
  /** The stream it is or belongs to; a channel has none. */
  readonly stream?: Stream;
  tags(): Readonly<Record<string, string>>;
  policy(): string | undefined;
  /** Refuses a change while the resource is being created or deleted. */
  checkChangeable(k: KinesisContext): void;
  /**
   * Applies a change to the tags and the policy: `change` gets the current ones and returns the
   * new ones (or undefined for no change), or throws to refuse.
   */
  change(k: KinesisContext, change: (current: ResourceState) => ResourceState | undefined): Promise<void>;
}

export interface ResourceState {
  tags: Readonly<Record<string, string>>;
  policy: string | undefined;
}

export function streamResource(stream: Stream): Resource {
  return {
    arn: stream.arn,
    label: `stream ${stream.name}`,
    stream,
    tags: () => stream.meta.tags,
    policy: () => stream.meta.resourcePolicy,
    checkChangeable: (k) => requireStatus(k, stream, 'ACTIVE', 'UPDATING'),
    async change(k, apply) {
      await changeStream(k, stream, (meta) => {
        const next = apply({ tags: meta.tags, policy: meta.resourcePolicy });
        if (next === undefined) return undefined;
        const doc: StreamMeta = { ...meta, tags: { ...next.tags } };
        if (next.policy === undefined) delete doc.resourcePolicy;
        else doc.resourcePolicy = next.policy;
        return doc;
      });
    },
  };
}

const CONSUMER_ARN = /^(arn:aws[a-z-]*:kinesis:[^:]*:\d{12}:stream\/[a-zA-Z0-9_.-]+)\/consumer\/([a-zA-Z0-9_.-]+):(\d+)$/;

/** The stream or consumer an ARN of a tag or policy operation names; ResourceNotFoundException if none. */
export async function resolveResource(k: KinesisContext, arn: string): Promise<Resource> {
  const consumer = CONSUMER_ARN.exec(arn);
  if (consumer) {
    const notFound = new ResourceNotFoundException(`Consumer ${arn} not found.`);
    const stream = await k.resolve({ StreamARN: consumer[1] }).catch((err: unknown) => {
      throw err instanceof ResourceNotFoundException ? notFound : err;
    });
    const found = consumerResource(k, stream, consumer[2]!, Number(consumer[3]));
    if (!found) throw notFound;
    return found;
  }
  if (/^arn:aws[a-z-]*:kinesis:[^:]*:\d{12}:stream\//.test(arn)) {
    return streamResource(await k.resolve({ StreamARN: arn }));
  }
  throw new ResourceNotFoundException(`Resource ${arn} not found.`);
}

/**
 * A registered consumer as a tag and policy Resource (TagResource, UntagResource,
 * ListTagsForResource and the resource-policy operations take consumer ARNs); undefined when the
 * stream has no such consumer. Its tags and policy live in its entry of the stream document.
 */
export function consumerResource(k: KinesisContext, stream: Stream, consumerName: string, createdSeconds: number): Resource | undefined {
  const found = stream.meta.consumers?.find(
    (c) => c.name === consumerName && Math.floor(c.createdAt / 1000) === createdSeconds,
  );
  if (found === undefined || currentConsumer(k, stream, found.name, found.createdAt) === undefined) return undefined;
  const { name, createdAt } = found;
  const now = () => currentConsumer(k, stream, name, createdAt);
  return {
    arn: consumerArn(stream, found),
    label: `consumer ${name}`,
    stream,
    tags: () => now()?.tags ?? {},
    policy: () => now()?.policy,
    checkChangeable(kinesis) {
      const c = now();
      if (c === undefined) throw consumerNotFoundByArn(consumerArn(stream, found));
      if (c.status !== 'ACTIVE' && c.status !== 'CREATING') {
        throw new ResourceInUseException(
          `Consumer ${name} under stream ${stream.name} under account ${kinesis.settings.accountId} not ACTIVE, ` +
            `instead in state ${c.status}`,
        );
      }
    },
    async change(kinesis, apply) {
      await changeConsumers(kinesis, stream, (list) => {
        const i = list.findIndex((c) => c.name === name && c.createdAt === createdAt);
        if (i < 0) throw consumerNotFoundByArn(consumerArn(stream, found));
        const c = list[i]!;
        const next = apply({ tags: c.tags ?? {}, policy: c.policy });
        if (next === undefined) return { result: undefined };
        const entry: ConsumerMeta = { ...c };
        if (Object.keys(next.tags).length > 0) entry.tags = { ...next.tags };
        else delete entry.tags;
        if (next.policy === undefined) delete entry.policy;
        else entry.policy = next.policy;
        const out = [...list];
        out[i] = entry;
        return { list: out, result: undefined };
      });
    },
  };
}
