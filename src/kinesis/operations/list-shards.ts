import { InvalidArgumentException, ResourceInUseException } from '../../protocol/errors.js';
import { describeShard, listedShards, trimHorizon } from '../describe.js';
import { decodeNextToken, encodeNextToken } from '../next-token.js';
import type { OperationContext, StreamRef } from './context.js';
import type { Shard } from '../shard.js';
import { shardIndexOf } from '../shard.js';
import type { Stream } from '../stream.js';
import { defineOperation } from './operation.js';

type FilterType = 'AFTER_SHARD_ID' | 'AT_TRIM_HORIZON' | 'FROM_TRIM_HORIZON' | 'AT_LATEST' | 'AT_TIMESTAMP' | 'FROM_TIMESTAMP';

interface ShardFilter {
  Type: FilterType;
  ShardId?: string;
  Timestamp?: Date;
}

interface Input extends StreamRef {
  NextToken?: string;
  ExclusiveStartShardId?: string;
  MaxResults?: number;
  StreamCreationTimestamp?: Date;
  ShardFilter?: ShardFilter;
}

interface Token extends Record<string, unknown> {
  /** stream name, creation time, last shard index listed, page size, filter */
  s: string;
  c: number;
  a: number;
  m: number;
  f?: { Type: FilterType; ShardId?: string; Timestamp?: number };
}

/**
 * Was the shard open at time `t` (ms)? A shard is open from its creation up to, not including, its
 * close, which is its children's creation: at any instant exactly one generation covers each key.
 */
function openAt(shard: Shard, t: number): boolean {
  return shard.meta.createdAt <= t && (shard.meta.closedAt === undefined || t < shard.meta.closedAt);
}

function applyFilter(stream: Stream, shards: Shard[], filter: Token['f'], now: number): Shard[] {
  if (!filter) return shards;
  const horizon = Math.max(trimHorizon(stream, now), stream.meta.createdAt);
  switch (filter.Type) {
    case 'AFTER_SHARD_ID': {
      const after = shardIndexOf(filter.ShardId!) ?? -1;
      return shards.filter((s) => s.index > after);
    }
    case 'AT_TRIM_HORIZON':
      return shards.filter((s) => openAt(s, horizon));
    case 'FROM_TRIM_HORIZON':
      return shards;
    case 'AT_LATEST':
      return shards.filter((s) => s.isOpen);
    case 'AT_TIMESTAMP': {
      const t = Math.max(filter.Timestamp!, horizon);
      return shards.filter((s) => openAt(s, t));
    }
    case 'FROM_TIMESTAMP': {
      const t = Math.max(filter.Timestamp!, horizon);
      return shards.filter((s) => s.isOpen || s.meta.closedAt! > t);
    }
  }
}

/** A NextToken names the stream, the position and the filter; nothing else that does may come with it. */
function checkAloneWithNextToken(input: Input): void {
  for (const member of ['StreamName', 'StreamARN', 'ExclusiveStartShardId', 'StreamCreationTimestamp', 'ShardFilter'] as const) {
    if (input[member] !== undefined) {
      throw new InvalidArgumentException(`NextToken and ${member} cannot be provided together.`);
    }
  }
}

/** What is wrong with the arguments themselves, whatever the stream holds. */
function checkArguments(input: Input): void {
  if (input.NextToken !== undefined) {
    checkAloneWithNextToken(input);
    return;
  }
  if (input.StreamName === undefined && input.StreamARN === undefined) {
    throw new InvalidArgumentException('Either NextToken or StreamName should be provided.');
  }
  const f = input.ShardFilter;
  if (f && f.Type === 'AFTER_SHARD_ID' && f.ShardId === undefined) {
    throw new InvalidArgumentException('ShardId must be provided for a ShardFilter of type AFTER_SHARD_ID.');
  }
  if (f && (f.Type === 'AT_TIMESTAMP' || f.Type === 'FROM_TIMESTAMP') && f.Timestamp === undefined) {
    throw new InvalidArgumentException(`Timestamp must be provided for a ShardFilter of type ${f.Type}.`);
  }
  if (f && f.Type !== 'AFTER_SHARD_ID' && f.ShardId !== undefined) {
    throw new InvalidArgumentException(`ShardId must not be provided for a ShardFilter of type ${f.Type}.`);
  }
}

async function list(k: OperationContext, input: Input): Promise<unknown> {
  const now = k.now;
  let token: Token;
  if (input.NextToken !== undefined) {
    token = decodeNextToken<Token>(input.NextToken, now, k.settings.nextTokenTtlMs);
    if (input.MaxResults !== undefined) token.m = Math.min(input.MaxResults, 1000);
  } else {
    const f = input.ShardFilter;
    const start = input.ExclusiveStartShardId === undefined ? -1 : (shardIndexOf(input.ExclusiveStartShardId) ?? -1);
    token = {
      s: k.nameOf(input),
      c: input.StreamCreationTimestamp?.getTime() ?? -1,
      a: start,
      m: Math.min(input.MaxResults ?? 1000, 1000),
      f: f && { Type: f.Type, ShardId: f.ShardId, Timestamp: f.Timestamp?.getTime() },
    };
  }
  const stream = await k.resolve({ StreamName: token.s });
  if (token.c !== -1 && token.c !== stream.meta.createdAt) {
    if (input.NextToken !== undefined) throw new InvalidArgumentException('Invalid NextToken.');
    throw k.notFound(stream.name);
  }
  token.c = stream.meta.createdAt;
  if (stream.meta.status === 'CREATING' || stream.meta.status === 'DELETING') {
    throw new ResourceInUseException(
      `Stream ${stream.name} under account ${k.settings.accountId} not ACTIVE, instead in state ${stream.meta.status}`,
    );
  }
  const shards = applyFilter(stream, listedShards(stream, now), token.f, now).filter((s) => s.index > token.a);
  const page = shards.slice(0, token.m);
  const more = shards.length > page.length;
  return {
    Shards: page.map(describeShard),
    NextToken: more ? encodeNextToken({ ...token, a: page[page.length - 1]!.index }, now) : undefined,
  };
}

export const listShards = defineOperation<Input, unknown>('ListShards', list, { check: checkArguments });
