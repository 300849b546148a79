import { InvalidArgumentException } from '../../protocol/errors.js';
import { streamModeDetails } from '../describe.js';
import { decodeNextToken, encodeNextToken } from '../next-token.js';
import type { OperationContext } from './context.js';
import { defineOperation } from './operation.js';

interface Input {
  Limit?: number;
  ExclusiveStartStreamName?: string;
  NextToken?: string;
}

/** A NextToken carries the position; a request that also names one is refused before it is counted. */
function checkArguments(input: Input): void {
  if (input.NextToken !== undefined && input.ExclusiveStartStreamName !== undefined) {
    throw new InvalidArgumentException('NextToken and ExclusiveStartStreamName cannot be provided together.');
  }
}

async function list(k: OperationContext, input: Input): Promise<unknown> {
  const now = k.now;
  let after = input.ExclusiveStartStreamName;
  let limit = input.Limit ?? 100;
  if (input.NextToken !== undefined) {
    const token = decodeNextToken<{ a: string; l?: number }>(input.NextToken, now, k.settings.nextTokenTtlMs);
    after = token.a;
    if (input.Limit === undefined && token.l !== undefined) limit = token.l;
  }
  limit = Math.min(limit, 100);
  const all = await k.list();
  const rest = after === undefined ? all : all.filter((s) => s.name > after!);
  const page = rest.slice(0, limit);
  const more = rest.length > page.length;
  return {
    StreamNames: page.map((s) => s.name),
    HasMoreStreams: more,
    NextToken: more ? encodeNextToken({ a: page[page.length - 1]!.name, l: limit }, now) : undefined,
    StreamSummaries: page.map((s) => ({
      StreamName: s.name,
      StreamARN: s.arn,
      StreamStatus: s.meta.status,
      StreamModeDetails: streamModeDetails(s),
      StreamCreationTimestamp: new Date(s.meta.createdAt),
    })),
  };
}

export const listStreams = defineOperation<Input, unknown>('ListStreams', list, { check: checkArguments });
