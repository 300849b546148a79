import { ExpiredIteratorException, InvalidArgumentException, ResourceNotFoundException } from '../../protocol/errors.js';
import { openRecords } from '../at-rest.js';
import { markEncryptedRecords } from '../encryption.js';
import { toRecordOutput } from '../records.js';
import type { StreamRef } from '../service.js';
import { shardIdOf } from '../shard.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  ShardIterator: string;
  Limit?: number;
}

/** The most data one GetRecords call returns. */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

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
  const stream = k.byStreamKey(pos.streamKey);
  const shard = stream?.shard(pos.shardIndex);
  if (!stream || !shard || stream.meta.status === 'DELETING') {
    const name = pos.streamKey.slice(0, pos.streamKey.lastIndexOf('~'));
    throw new ResourceNotFoundException(
      `Shard ${shardIdOf(pos.shardIndex)} in stream ${name} under account ${k.settings.accountId} does not exist`,
    );
  }
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
  const read = limit > 0 ? await log.read(pos.offset, limit, MAX_RESPONSE_BYTES) : undefined;
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
  return output;
});
