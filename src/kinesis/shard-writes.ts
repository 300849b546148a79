/**
 * The write side of each shard, as resharding needs to see it: the append in flight, the gate
 * that closes the shard to new appends, and (for ON_DEMAND streams) the shard's write rate.
 *
 * Closing a shard without losing or misplacing a record works in three steps (sealShards):
 *   1. the gate shuts: an append that reaches the shard from now on does not happen; it waits
 *      for the gate and reports the shard closed, and the caller routes its records again, to the
 *      children once they exist;
 *   2. the appends already handed to the log are awaited (a log completes appends in call order,
 *      so the last one is enough);
 *   3. the log's nextOffset is then the shard's end: every acknowledged record lies before it,
 *      and no record will ever be written after it.
 * The check and the append happen in one synchronous step, so nothing slips between them.
 */
import type { AppendResult, RecordInput } from '../storage/types.js';
import { RateMeter } from './rate-meter.js';
import type { KinesisContext } from './context.js';
import type { Shard } from './shard.js';
import type { ShardWriteState, Stream } from './stream.js';

function stateOf(stream: Stream, index: number): ShardWriteState {
  const byIndex = stream.runtime.writes;
  let state = byIndex.get(index);
  if (!state) {
    state = {};
    byIndex.set(index, state);
  }
  return state;
}

function deleting(stream: Stream): boolean {
  return stream.meta.status === 'DELETING';
}

/**
 * Appends records to an open shard. Resolves to undefined, without writing, when the shard was
 * closed (or began closing) after the records were routed to it: the caller routes them again.
 */
export async function appendToShard(
  k: KinesisContext,
  stream: Stream,
  shard: Shard,
  records: readonly RecordInput[],
  now: number,
): Promise<AppendResult | undefined> {
  // A stream deleted after the request found it takes no more writes: its logs close when the
  // deletion completes, and the writer hears what AWS says of a stream that is gone.
  if (deleting(stream)) throw k.notFound(stream.name);
  const log = shard.log ?? (await k.log(stream, shard));
  const state = stateOf(stream, shard.index);
  if (state.gate) {
    await state.gate;
    return undefined;
  }
  if (deleting(stream)) throw k.notFound(stream.name);
  const appended = log.append(records, now).catch((err: unknown) => k.appendRefused(stream, shard.index, err));
  state.last = appended;
  if (stream.meta.mode === 'ON_DEMAND') recordWrite(stream, shard.index, records, now);
  return appended;
}

/** Shards being closed: their end offsets, and the way to finish. */
export interface Seal {
  /** Each shard's log nextOffset once its appends in flight had completed. */
  ends: Map<number, number>;
  /** The new topology is in place (closed: true) or was abandoned (false, the shards stay open). */
  release(closed: boolean): void;
}

/** Shuts the shards to writes and waits for their appends in flight; see the module comment. */
export async function sealShards(k: KinesisContext, stream: Stream, indexes: readonly number[]): Promise<Seal> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const sealed = indexes.map((index) => stateOf(stream, index));
  for (const state of sealed) state.gate = gate;
  const release = (closed: boolean) => {
    if (!closed) for (const state of sealed) if (state.gate === gate) delete state.gate;
    open();
  };
  try {
    await Promise.allSettled(sealed.map((state) => state.last));
    const ends = new Map<number, number>();
    for (const index of indexes) {
      const shard = stream.shard(index);
      if (!shard) throw new Error(`shard ${index} of ${stream.name} is not in the catalog`);
      ends.set(index, (await k.log(stream, shard)).nextOffset);
    }
    return { ends, release };
  } catch (err) {
    release(false);
    throw err;
  }
}

/** Whole seconds of clock time over which a shard's write rate is averaged. */
export const WRITE_RATE_WINDOW_SECONDS = 60;

/** Counts an append against its shard's write rate (stream.runtime.writeRates): data plus partition key (in characters). */
function recordWrite(stream: Stream, index: number, records: readonly RecordInput[], now: number): void {
  const byIndex = stream.runtime.writeRates;
  let meter = byIndex.get(index);
  if (!meter) {
    meter = new RateMeter(WRITE_RATE_WINDOW_SECONDS, now);
    byIndex.set(index, meter);
  }
  let bytes = 0;
  for (let i = 0; i < records.length; i++) bytes += records[i]!.data.length + records[i]!.partitionKey.length;
  meter.record(now, records.length, bytes);
}
