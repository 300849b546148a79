import {
  ExpiredIteratorException,
  InvalidArgumentException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '../../protocol/errors.js';
import { HeldOutput, type BudgetShare, type ResponseBudget } from '../../util/response-budget.js';
import { openRecords } from '../at-rest.js';
import { markEncryptedRecords } from '../encryption.js';
import { toRecordOutput } from '../records.js';
import type { OperationContext, StreamRef } from './context.js';
import { shardIdOf, type Shard } from '../shard.js';
import type { Stream } from '../stream.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  ShardIterator: string;
  Limit?: number;
}

/** The most data one GetRecords call returns. */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Memory a returned record costs besides its bytes: its object, sequence number and JSON members. */
const RECORD_OVERHEAD = 256;

/**
 * The memory a response of `count` records of `bytes` bytes (data and partition keys) holds while
 * it is served: the records and their encoded body (JSON writes the data in base64).
 */
function responseCharge(bytes: number, count: number): number {
  return bytes + Math.ceil(bytes / 3) * 4 + count * RECORD_OVERHEAD;
}

/** The bytes of records whose response fits in `charge` bytes of memory (the inverse, near enough). */
function readBytesWithin(charge: number): number {
  return Math.min(MAX_RESPONSE_BYTES, Math.floor((charge * 3) / 7));
}

/**
 * The most a read of up to `count` records can need: the largest response (10 MiB of records, or
 * fewer records of the largest size the stream takes, key included).
 */
function fullCharge(stream: Stream, count: number): number {
  const largest = stream.meta.maxRecordSizeKiB * 1024;
  return responseCharge(Math.min(MAX_RESPONSE_BYTES, count * largest), count);
}

/**
 * The least a read of up to `count` records is content with when the budget is short: about what
 * it will need, by the size of the records last read from the shard (a shard not read yet asks
 * for everything). The read itself is bounded by what it is granted, which is all it could need
 * whenever the budget has the room, so an estimate that is too small never shortens a batch.
 */
function leastCharge(stream: Stream, shard: Shard, count: number): number {
  const full = fullCharge(stream, count);
  const size = shard.readSizeHint;
  if (size === undefined) return full;
  // Twice the recent size, so that a shard whose records grow still reads full batches.
  return Math.min(full, responseCharge(Math.min(MAX_RESPONSE_BYTES, count * size * 2 + 64 * 1024), count));
}

/** Responses below this are let go at once: their memory is bounded by the requests in flight. */
const SMALL_CHARGE = 64 * 1024;

/** "Thu Jan 22 01:22:02 UTC 2015", the date format of AWS's expired-iterator message. */
function amzUtc(ms: number): string {
  const [wd, day, mon, year, time] = new Date(ms).toUTCString().replace(',', '').split(' ');
  return `${wd} ${mon} ${day} ${time} UTC ${year}`;
}

/**
 * How far the clock is past the arrival of the first record not yet read. 0 tells a consumer that
 * it has caught up, so while records remain the answer is at least 1, even for a record that
 * arrived this very millisecond.
 */
function millisBehind(now: number, unreadArrival: number | undefined): number {
  return Math.max(1, now - (unreadArrival ?? now));
}

function shardNotFound(k: OperationContext, streamKey: string, shardIndex: number): Error {
  const name = streamKey.slice(0, streamKey.lastIndexOf('~'));
  return new ResourceNotFoundException(
    `Shard ${shardIdOf(shardIndex)} in stream ${name} under account ${k.settings.accountId} does not exist`,
  );
}

/** Whether a stream is being deleted (read again after an await: the status may have moved on). */
function isDeleting(stream: { meta: { status: string } }): boolean {
  return stream.meta.status === 'DELETING';
}

export const getRecords = defineOperation<Input, unknown>('GetRecords', async (k, input) => {
  const started = performance.now();
  const now = k.now;
  const pos = k.iterators.decode(input.ShardIterator);
  if (!pos) throw new InvalidArgumentException('Invalid ShardIterator.');
  if (now - pos.issuedAt > k.settings.iteratorTtlMs) {
    throw new ExpiredIteratorException(
      `Iterator expired. The iterator was created at time ${amzUtc(pos.issuedAt)} while right now it is ` +
        `${amzUtc(now)} which is further in the future than the tolerated delay of ${k.settings.iteratorTtlMs} milliseconds.`,
    );
  }
  const { stream, shard } = await k.streamShardByKey(pos.streamKey, pos.shardIndex);
  if (!stream || !shard || stream.meta.status === 'DELETING') throw shardNotFound(k, pos.streamKey, pos.shardIndex);
  try {
    k.limits.beforeGetRecords(stream, shard, now);
  } catch (err) {
    k.metrics.recordReadThrottled(stream, shard.index, now);
    throw err;
  }
  const log = await k.retainedLog(stream, shard);
  // A closed shard ends at its end offset (or sooner, if a crash took acknowledged-but-unsynced records).
  const end = shard.meta.endOffset === undefined ? undefined : Math.min(shard.meta.endOffset, log.nextOffset);
  let limit = input.Limit ?? 10_000;
  if (end !== undefined) limit = Math.max(0, Math.min(limit, end - pos.offset));
  // A read takes its share of the server's read budget first; with little room left it reads a
  // smaller batch, with none it waits its turn, and one that waits too long is throttled.
  // The budget bounds the memory GetRecords responses hold at once (--max-read-bytes); without one
  // (tests of the service alone, or a limit of 0), reads are not bounded.
  const budget = limit > 0 && pos.offset < log.nextOffset ? k.readBudget : undefined;
  let share: BudgetShare | undefined;
  if (budget !== undefined) {
    const count = Math.min(limit, log.nextOffset - Math.max(pos.offset, log.startOffset));
    const want = fullCharge(stream, count);
    const least = leastCharge(stream, shard, count);
    share = budget.tryTake(want, least);
    if (share === undefined) {
      share = await budget.take(want, least);
      if (share === undefined) {
        k.metrics.recordReadThrottled(stream, shard.index, now);
        throw new ProvisionedThroughputExceededException(`Rate exceeded for Shard - ${k.settings.accountId}/${stream.name}/${shard.id}`);
      }
      // The stream may have been deleted while the read waited its turn.
      if (isDeleting(stream)) {
        share.release();
        throw shardNotFound(k, pos.streamKey, pos.shardIndex);
      }
    }
  }
  try {
    const maxBytes = share === undefined ? MAX_RESPONSE_BYTES : readBytesWithin(share.bytes);
    const read = limit > 0 ? await log.read(pos.offset, limit, maxBytes) : undefined;
    const records = read ? read.records : [];
    if (read) k.limits.afterGetRecords(stream, shard, read.bytes, now);
    const next = read ? read.nextOffset : Math.max(pos.offset, log.startOffset);
    const tip = end ?? log.nextOffset;
    // At the end of a closed shard, the consumer is as far behind as the shard has been closed.
    const behind =
      next < tip ? millisBehind(now, await log.timestampAt(next)) : end !== undefined ? Math.max(0, now - shard.meta.closedAt!) : 0;
    openRecords(k, stream.key, shard.index, records);
    const outputs = records.map((r) => toRecordOutput(shard, r));
    markEncryptedRecords(stream.meta, outputs);
    const last = records.length > 0 ? records[records.length - 1]!.timestamp : undefined;
    k.metrics.recordGetRecords(
      stream,
      shard.index,
      records.length,
      read ? read.bytes : 0,
      last === undefined ? 0 : Math.max(0, now - last),
      performance.now() - started,
      now,
    );
    const output: Record<string, unknown> = {
      Records: outputs,
      MillisBehindLatest: behind,
    };
    // The end of a closed shard is reported by a call that finds nothing more to return.
    if (end !== undefined && records.length === 0 && next >= end) {
      output.ChildShards = stream.shards
        .filter((c) => c.meta.parentIndex === shard.index || c.meta.adjacentParentIndex === shard.index)
        .map((c) => ({
          ShardId: c.id,
          ParentShards: [c.meta.parentIndex, c.meta.adjacentParentIndex].filter((p) => p !== undefined).map((p) => shardIdOf(p!)),
          HashKeyRange: { StartingHashKey: c.meta.startingHashKey, EndingHashKey: c.meta.endingHashKey },
        }));
    } else {
      output.NextShardIterator = k.iterators.encode({ ...pos, offset: next, issuedAt: now });
    }
    if (share !== undefined) {
      if (records.length > 0) shard.readSizeHint = Math.ceil(read!.bytes / records.length);
      // The share is kept until the response has been sent, unless the response is small.
      const charge = responseCharge(read ? read.bytes : 0, records.length);
      if (charge < SMALL_CHARGE) share.release();
      else {
        share.resize(charge);
        return new HeldOutput(output, share);
      }
    }
    return output;
  } catch (err) {
    share?.release();
    throw err;
  }
});
