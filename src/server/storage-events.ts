/**
 * Where the embedded engine's warnings go in a server: the log (error level for faults: damage,
 * torn tails, failed writes and fsyncs; warn level for housekeeping such as a rebuilt index) and
 * the fault counters of `/metrics`. Each event names the stream and shard as clients know them,
 * and for damage the offsets lost and the range their sequence numbers lie in.
 */
import type pino from 'pino';
import type { Kinesis } from '../kinesis/service.js';
import { shardIdOf } from '../kinesis/shard.js';
import type { StorageFaultCounts } from '../metrics/storage-faults.js';
import { isFault, type LogWarning } from '../storage/embedded/events.js';

export function storageWarningSink(
  logger: pino.Logger,
  faults: StorageFaultCounts,
  kinesis: () => Kinesis | undefined,
): (warning: LogWarning) => void {
  return (w) => {
    const stream = w.stream === undefined ? undefined : kinesis()?.byStreamKey(w.stream);
    const streamName = stream?.name ?? w.stream;
    const shardId = w.shard === undefined ? undefined : shardIdOf(w.shard);
    const event: Record<string, unknown> = { storage: w.code, file: w.path, stream: streamName, shard: shardId };
    if (w.stream !== undefined && w.stream !== streamName) event.streamKey = w.stream;
    if (w.bytes) event.bytes = w.bytes;
    let lostRecords = 0;
    if (w.lost) {
      lostRecords = w.lost.to - w.lost.from;
      event.lostRecords = lostRecords;
      if (lostRecords > 0) {
        event.lostOffsets = { first: w.lost.from, last: w.lost.to - 1 };
        // Numbers order by offset before arrival time, so the lost records' numbers are exactly
        // those from the lowest number of the first lost offset to below the lowest of the next.
        const seq = w.shard === undefined ? undefined : stream?.shard(w.shard)?.seq;
        if (seq) event.lostSequenceNumbers = { from: seq.encode(w.lost.from, 0), below: seq.encode(w.lost.to, 0) };
      }
    }
    if (isFault(w.code)) {
      logger.error(event, w.message);
      faults.record(streamName ?? '', shardId ?? '', w.code, lostRecords);
    } else logger.warn(event, w.message);
  };
}
