/**
 * SplitShard, MergeShards and UpdateShardCount: validation with AWS's errors, and the change of
 * topology itself.
 *
 * An accepted request puts the stream in UPDATING for the update delay (a serve option) and is
 * kept in the stream's catalog document (pendingReshard); when the delay has passed, the stream's
 * settling applies it and makes the stream ACTIVE in the same write, so a crash leaves either the
 * old topology with the request still pending or the new one. Until then the old shards take
 * writes and reads, as on AWS. With a delay of 0 the change happens within the request.
 *
 * Applying a plan (./reshard-plan.ts): the parents are sealed (./shard-writes.ts) so that their
 * end offsets are final (on a shared engine, also in the log itself, so that other nodes' appends
 * stop there too: JetStreamShardLog.seal), then one catalog write closes them (closedAt, endOffset; describe.ts
 * derives EndingSequenceNumber) and adds the children. Children are created in whole seconds
 * later than any parent (sequence numbers carry the shard's creation second, so every number of
 * a child exceeds every number of its parents), and a parent's closedAt is its children's
 * creation time: ListShards' time filters see each instant covered by exactly one generation.
 */
import {
  InvalidArgumentException,
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
} from '../protocol/errors.js';
import type { ShardMeta, StreamMeta } from '../storage/catalog.js';
import {
  adjacent,
  closingGenerations,
  planMerge,
  planSplit,
  planUniformScaling,
  type ReshardPlan,
  type ShardRange,
} from './reshard-plan.js';
import type { KinesisContext, StreamRef } from './context.js';
import { shardIdOf, shardIndexOf, type Shard } from './shard.js';
import { shardUnknown } from './starting-position.js';
import { sealShards } from './shard-writes.js';
import { changeStream, requireStatus } from './stream-state.js';
import type { Stream } from './stream.js';

/** A resharding accepted while the stream is UPDATING, applied when that ends. */
export type PendingReshard =
  | { operation: 'SplitShard'; shard: number; newStartingHashKey: string }
  | { operation: 'MergeShards'; shard: number; adjacent: number }
  | { operation: 'UpdateShardCount'; target: number };

declare module '../storage/catalog.js' {
  interface StreamMeta {
    /** A resharding waiting for the end of the UPDATING period. */
    pendingReshard?: PendingReshard;
    /** Epoch ms of the accepted UpdateShardCount calls of the last 24 hours. */
    shardCountUpdates?: number[];
  }
}

const DAY_MS = 24 * 3_600_000;
/** UpdateShardCount calls allowed per stream in a rolling 24 hours. */
export const SHARD_COUNT_UPDATES_PER_DAY = 10;
/** The most shards UpdateShardCount scales a stream to. */
export const MAX_SHARDS_PER_STREAM = 10_000;

/** How long a stream stays UPDATING after a resharding or a mode switch. */
export function updateDelayMs(k: KinesisContext): number {
  return k.settings.updateStreamDelayMs;
}

// --- one topology change per stream at a time

/** The topology change under way on a stream, if any. */
export function reshardingOf(stream: Stream): Promise<unknown> | undefined {
  return stream.runtime.reshard;
}

/** Runs `work` after any topology change already under way on the stream. */
export function exclusive<T>(stream: Stream, work: () => Promise<T>): Promise<T> {
  const previous = stream.runtime.reshard;
  const run = previous ? previous.then(work, work) : work();
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  stream.runtime.reshard = tail;
  void tail.then(() => {
    if (stream.runtime.reshard === tail) stream.runtime.reshard = undefined;
  });
  return run;
}

/** The stream must be ACTIVE, and not in the middle of a change of topology. */
export function requireActive(k: KinesisContext, stream: Stream): void {
  if (stream.runtime.reshard !== undefined) {
    throw new ResourceInUseException(
      `Stream ${stream.name} under account ${k.settings.accountId} not ACTIVE, instead in state UPDATING`,
    );
  }
  requireStatus(k, stream);
}

/** Resharding operations are for PROVISIONED streams only. */
export function requireProvisioned(k: KinesisContext, stream: Stream): void {
  if (stream.meta.mode === 'ON_DEMAND') {
    throw new ValidationException(
      `Request is invalid. Stream ${stream.name} under account ${k.settings.accountId} is in On-Demand mode.`,
    );
  }
}

// --- lookups and checks with AWS's messages

export function rangeOf(shard: Shard): ShardRange {
  return { index: shard.index, start: BigInt(shard.meta.startingHashKey), end: BigInt(shard.meta.endingHashKey) };
}

/** The shard a request's shard id names (shard.ts shardIndexOf), once its stream was found. */
function findShard(k: KinesisContext, stream: Stream, shardId: string): Shard {
  const index = shardIndexOf(shardId);
  const shard = index === undefined ? undefined : stream.shard(index);
  if (!shard) throw shardUnknown(k, index === undefined ? shardId : shardIdOf(index), stream.name);
  return shard;
}

function requireOpen(k: KinesisContext, stream: Stream, shard: Shard): void {
  if (!shard.isOpen) {
    throw new InvalidArgumentException(
      `Shard ${shard.id} in stream ${stream.name} under account ${k.settings.accountId} has already been merged ` +
        'or split, and thus is not eligible for merging or splitting.',
    );
  }
}

/** The account's shard quota, counting the open shards a request would add. */
export function checkShardQuota(k: KinesisContext, added: number): void {
  const current = k.openShardCount();
  const limit = k.settings.shardLimit;
  if (added <= 0 || current + added <= limit) return;
  throw new LimitExceededException(
    `This request would exceed the shard limit for the account ${k.settings.accountId} in ${k.settings.region}. ` +
      `Current shard count for the account: ${current}. Limit: ${limit}. ` +
      `Number of additional shards that would have resulted from this request: ${added}. ` +
      'Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) ' +
      'for current limits and how to request higher limits.',
  );
}

function checkSplitKey(k: KinesisContext, stream: Stream, shard: Shard, key: bigint, keyText: string): void {
  const { start, end } = rangeOf(shard);
  if (key <= start + 1n || key >= end) {
    throw new InvalidArgumentException(
      `NewStartingHashKey ${keyText} used in SplitShard() on shard ${shard.id} in stream ${stream.name} under account ` +
        `${k.settings.accountId} is not both greater than one plus the shard's StartingHashKey ${start} and less ` +
        `than the shard's EndingHashKey ${end}.`,
    );
  }
}

function checkAdjacent(k: KinesisContext, stream: Stream, a: Shard, b: Shard): void {
  if (a.index === b.index || !adjacent(rangeOf(a), rangeOf(b))) {
    throw new InvalidArgumentException(
      `Shards ${a.id} and ${b.id} in stream ${stream.name} under account ${k.settings.accountId} are not an ` +
        'adjacent pair of shards eligible for merging',
    );
  }
}

function recentShardCountUpdates(meta: StreamMeta, now: number): number[] {
  return (meta.shardCountUpdates ?? []).filter((t) => t > now - DAY_MS);
}

// --- the operations

export interface SplitShardInput extends StreamRef {
  ShardToSplit: string;
  NewStartingHashKey: string;
}

export async function splitShard(k: KinesisContext, input: SplitShardInput): Promise<void> {
  // An unknown stream is reported before an unknown shard, as AWS does.
  const stream = await k.resolve(input);
  requireProvisioned(k, stream);
  const shard = findShard(k, stream, input.ShardToSplit);
  const index = shard.index;
  requireOpen(k, stream, shard);
  checkShardQuota(k, 1);
  checkSplitKey(k, stream, shard, BigInt(input.NewStartingHashKey), input.NewStartingHashKey);
  await accept(k, stream, { operation: 'SplitShard', shard: index, newStartingHashKey: input.NewStartingHashKey });
}

export interface MergeShardsInput extends StreamRef {
  ShardToMerge: string;
  AdjacentShardToMerge: string;
}

export async function mergeShards(k: KinesisContext, input: MergeShardsInput): Promise<void> {
  const stream = await k.resolve(input);
  requireProvisioned(k, stream);
  const shard = findShard(k, stream, input.ShardToMerge);
  const other = findShard(k, stream, input.AdjacentShardToMerge);
  const index = shard.index;
  const adjacentIndex = other.index;
  requireOpen(k, stream, shard);
  requireOpen(k, stream, other);
  checkAdjacent(k, stream, shard, other);
  await accept(k, stream, { operation: 'MergeShards', shard: index, adjacent: adjacentIndex });
}

export interface UpdateShardCountInput extends StreamRef {
  TargetShardCount: number;
  ScalingType: 'UNIFORM_SCALING';
}

export interface UpdateShardCountOutput {
  StreamName: string;
  StreamARN: string;
  CurrentShardCount: number;
  TargetShardCount: number;
}

export async function updateShardCount(k: KinesisContext, input: UpdateShardCountInput): Promise<UpdateShardCountOutput> {
  const stream = await k.resolve(input);
  requireProvisioned(k, stream);
  requireActive(k, stream);
  const now = k.now;
  const account = k.settings.accountId;
  if (recentShardCountUpdates(stream.meta, now).length >= SHARD_COUNT_UPDATES_PER_DAY) {
    throw new LimitExceededException(
      `Stream ${stream.name} under account ${account} has already been scaled ${SHARD_COUNT_UPDATES_PER_DAY} times ` +
        `in the last 24 hours. UpdateShardCount can scale a stream at most ${SHARD_COUNT_UPDATES_PER_DAY} times ` +
        'per rolling 24-hour period.',
    );
  }
  const current = stream.openShards.length;
  const target = input.TargetShardCount;
  const counts = `Current open shard count: ${current}, Target shard count: ${target}`;
  if (target > MAX_SHARDS_PER_STREAM) {
    throw new LimitExceededException(
      `Target shard count or number of open shards cannot be greater than ${MAX_SHARDS_PER_STREAM}. ${counts}`,
    );
  }
  if (target > current * 2) {
    throw new LimitExceededException(`UpdateShardCount cannot scale up over double your current open shard count. ${counts}`);
  }
  if (target * 2 < current) {
    throw new LimitExceededException(`UpdateShardCount cannot scale down below half your current open shard count. ${counts}`);
  }
  checkShardQuota(k, target - current);
  await accept(k, stream, { operation: 'UpdateShardCount', target }, (meta) => ({
    ...meta,
    shardCountUpdates: [...recentShardCountUpdates(meta, now), now],
  }));
  return { StreamName: stream.name, StreamARN: stream.arn, CurrentShardCount: current, TargetShardCount: target };
}

// --- accepting, planning and applying

/**
 * Takes an accepted request: with an update delay, marks the stream UPDATING with the request
 * pending; without one, applies it now. `record` adds what the acceptance itself changes.
 */
async function accept(
  k: KinesisContext,
  stream: Stream,
  pending: PendingReshard,
  record: (meta: StreamMeta) => StreamMeta = (meta) => meta,
): Promise<void> {
  requireActive(k, stream);
  const delay = updateDelayMs(k);
  await exclusive(stream, async () => {
    if (delay > 0) {
      await changeStream(k, stream, (meta) => {
        requireStatus(k, stream);
        return { ...record(meta), status: 'UPDATING', statusUntil: k.now + delay, pendingReshard: pending };
      });
      return;
    }
    const applied = await applyPlan(k, stream, planFor(stream, pending), (meta) =>
      meta.status === 'ACTIVE' ? record(meta) : undefined,
    );
    if (!applied) requireStatus(k, stream);
  });
}

/**
 * Applies the stream's pending resharding, if it has one, as its UPDATING period ends, and makes
 * it ACTIVE. False when there is none (the stream is UPDATING for another reason).
 */
export async function finishPendingReshard(k: KinesisContext, stream: Stream): Promise<boolean> {
  if (!stream.meta.pendingReshard) return false;
  await exclusive(stream, async () => {
    const pending = stream.meta.pendingReshard;
    const finish = (meta: StreamMeta): StreamMeta | undefined => {
      if (meta.status !== 'UPDATING' || meta.pendingReshard === undefined) return undefined;
      const next: StreamMeta = { ...meta, status: 'ACTIVE' };
      delete next.statusUntil;
      delete next.pendingReshard;
      return next;
    };
    let plan: ReshardPlan | undefined;
    try {
      plan = pending && planFor(stream, pending);
    } catch {
      plan = undefined; // The request no longer fits the topology: drop it.
    }
    if (plan && (await applyPlan(k, stream, plan, finish))) return;
    await changeStream(k, stream, finish);
  });
  return true;
}

/** The plan of an accepted request against the stream's current topology (checked again). */
export function planFor(stream: Stream, pending: PendingReshard): ReshardPlan {
  const next = nextShardIndex(stream.meta);
  const open = (index: number): Shard => {
    const shard = stream.shard(index);
    if (!shard || !shard.isOpen) throw new Error(`shard ${index} of ${stream.name} is not open`);
    return shard;
  };
  switch (pending.operation) {
    case 'SplitShard': {
      const range = rangeOf(open(pending.shard));
      const key = BigInt(pending.newStartingHashKey);
      if (key <= range.start + 1n || key >= range.end) throw new Error('split key outside the shard');
      return planSplit(range, key, next);
    }
    case 'MergeShards': {
      const a = rangeOf(open(pending.shard));
      const b = rangeOf(open(pending.adjacent));
      if (a.index === b.index || !adjacent(a, b)) throw new Error('shards are not adjacent');
      return planMerge(a, b, next);
    }
    case 'UpdateShardCount':
      return planUniformScaling(stream.openShards.map(rangeOf), pending.target, next);
  }
}

export function nextShardIndex(meta: StreamMeta): number {
  let next = 0;
  for (const s of meta.shards) if (s.index >= next) next = s.index + 1;
  return next;
}

/**
 * Seals the open shards the plan closes, then writes the new topology together with whatever
 * `finish` makes of the stream document (undefined: the stream is no longer in a state to take
 * it; nothing is written and the shards stay open). True when written.
 */
export async function applyPlan(
  k: KinesisContext,
  stream: Stream,
  plan: ReshardPlan,
  finish: (meta: StreamMeta) => StreamMeta | undefined,
): Promise<boolean> {
  const closeAt = closingGenerations(plan);
  const created = new Set(plan.shards.map((s) => s.index));
  const closing = [...closeAt.keys()].filter((index) => !created.has(index));
  const seal = await sealShards(k, stream, closing);
  let written = false;
  let sealedLogs: number[] = [];
  try {
    const ends = new Map(seal.ends);
    sealedLogs = await sealLogs(k, stream, closing, ends);
    await changeStream(k, stream, (meta) => {
      const finished = finish(meta);
      const next = finished && withPlan(finished, plan, closeAt, ends, k.now);
      written = next !== undefined;
      return next;
    });
  } catch (err) {
    await unsealLogs(k, stream, sealedLogs);
    seal.release(false);
    throw err;
  }
  if (!written) await unsealLogs(k, stream, sealedLogs);
  seal.release(written);
  return written;
}

/**
 * Seals the logs that can be sealed for every writer (ShardLog.sealing), and moves each shard's
 * end up to where the seal landed: appends made through other nodes before it count. Returns the
 * indexes sealed.
 */
async function sealLogs(k: KinesisContext, stream: Stream, indexes: readonly number[], ends: Map<number, number>): Promise<number[]> {
  const sealed: number[] = [];
  for (const index of indexes) {
    const shard = stream.shard(index);
    if (!shard) continue;
    const sealing = (await k.log(stream, shard)).sealing;
    if (!sealing) continue;
    try {
      ends.set(index, Math.max(ends.get(index) ?? 0, await sealing.seal()));
      sealed.push(index);
    } catch (err) {
      await unsealLogs(k, stream, sealed);
      throw err;
    }
  }
  return sealed;
}

/** Opens sealed logs again (the new topology was not written). */
async function unsealLogs(k: KinesisContext, stream: Stream, indexes: readonly number[]): Promise<void> {
  for (const index of indexes) {
    const shard = stream.shard(index);
    const sealing = shard && (await k.log(stream, shard)).sealing;
    if (sealing) await sealing.unseal().catch(() => undefined);
  }
}

/** The stream document with the plan applied; undefined if the plan no longer fits it. */
function withPlan(
  meta: StreamMeta,
  plan: ReshardPlan,
  closeAt: Map<number, number>,
  ends: Map<number, number>,
  now: number,
): StreamMeta | undefined {
  if (plan.shards.length > 0 && nextShardIndex(meta) > plan.shards[0]!.index) return undefined;
  let newestParentSecond = -Infinity;
  for (const s of meta.shards) {
    if (!closeAt.has(s.index)) continue;
    if (s.closedAt !== undefined || !ends.has(s.index)) return undefined;
    newestParentSecond = Math.max(newestParentSecond, Math.floor(s.createdAt / 1000));
  }
  const first = Math.max(now + 1, (newestParentSecond + 1) * 1000);
  const at = (generation: number) => first + (generation - 1) * 1000;
  const shards: ShardMeta[] = meta.shards.map((s) => {
    const generation = closeAt.get(s.index);
    return generation === undefined ? s : { ...s, closedAt: at(generation), endOffset: ends.get(s.index)! };
  });
  for (const p of plan.shards) {
    const shard: ShardMeta = {
      index: p.index,
      parentIndex: p.parents[0],
      startingHashKey: p.start.toString(),
      endingHashKey: p.end.toString(),
      createdAt: at(p.generation),
    };
    if (p.parents.length > 1) shard.adjacentParentIndex = p.parents[1];
    const closes = closeAt.get(p.index);
    if (closes !== undefined) {
      // An intermediate shard: created and replaced by the same plan, it never takes a record.
      shard.closedAt = at(closes);
      shard.endOffset = 0;
    }
    shards.push(shard);
  }
  return { ...meta, shards };
}
