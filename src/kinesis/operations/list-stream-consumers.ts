import { InvalidArgumentException, ResourceInUseException } from '../../protocol/errors.js';
import { consumersOf, describeConsumer } from '../consumers.js';
import { decodeNextToken, encodeNextToken } from '../next-token.js';
import type { OperationContext } from './context.js';
import { defineOperation } from './operation.js';

interface Input {
  StreamARN: string;
  NextToken?: string;
  MaxResults?: number;
  StreamCreationTimestamp?: Date;
}

interface Token extends Record<string, unknown> {
  /** stream key, name of the last consumer listed */
  s: string;
  a: string;
}

/** AWS lists at most this many consumers per call, whatever MaxResults asks for. */
const PAGE_MAX = 100;

/** A NextToken names the stream it lists; a request that also gives its creation time is refused before it is counted. */
function checkArguments(input: Input): void {
  if (input.NextToken !== undefined && input.StreamCreationTimestamp !== undefined) {
    throw new InvalidArgumentException('NextToken and StreamCreationTimestamp cannot be provided together.');
  }
}

async function list(k: OperationContext, input: Input): Promise<unknown> {
  const now = k.now;
  const token = input.NextToken === undefined ? undefined : decodeNextToken<Token>(input.NextToken, now, k.settings.nextTokenTtlMs);
  const stream = await k.resolve({ StreamARN: input.StreamARN });
  if (token !== undefined && (typeof token.s !== 'string' || typeof token.a !== 'string' || token.s !== stream.key)) {
    throw new InvalidArgumentException('Invalid NextToken.');
  }
  if (input.StreamCreationTimestamp !== undefined && input.StreamCreationTimestamp.getTime() !== stream.meta.createdAt) {
    throw k.notFound(stream.name);
  }
  if (stream.meta.status === 'CREATING' || stream.meta.status === 'DELETING') {
    throw new ResourceInUseException(
      `Stream ${stream.name} under account ${k.settings.accountId} not ACTIVE, instead in state ${stream.meta.status}`,
    );
  }
  const after = token?.a;
  const all = [...(await consumersOf(k, stream))]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .filter((c) => after === undefined || c.name > after);
  const size = Math.min(input.MaxResults ?? PAGE_MAX, PAGE_MAX);
  const page = all.slice(0, size);
  const more = all.length > page.length;
  return {
    Consumers: page.map((c) => describeConsumer(stream, c)),
    NextToken: more ? encodeNextToken({ s: stream.key, a: page[page.length - 1]!.name }, now) : undefined,
  };
}

export const listStreamConsumers = defineOperation<Input, unknown>('ListStreamConsumers', list, { check: checkArguments });
