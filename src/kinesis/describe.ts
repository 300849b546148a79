import type { Shard } from './shard.js';
import { shardIdOf } from './shard.js';
import type { Stream } from './stream.js';

/** A shard as DescribeStream and ListShards return it. */
export function describeShard(shard: Shard) {
  const m = shard.meta;
  return {
    ShardId: shard.id,
    ParentShardId: m.parentIndex === undefined ? undefined : shardIdOf(m.parentIndex),
    AdjacentParentShardId: m.adjacentParentIndex === undefined ? undefined : shardIdOf(m.adjacentParentIndex),
    HashKeyRange: { StartingHashKey: m.startingHashKey, EndingHashKey: m.endingHashKey },
    SequenceNumberRange: {
      StartingSequenceNumber: shard.seq.starting(),
      EndingSequenceNumber: m.closedAt === undefined ? undefined : shard.seq.ending(m.closedAt),
    },
  };
}

/** The start of the retention window: records (and closed shards) older than this are gone. */
export function trimHorizon(stream: Stream, now: number): number {
  return now - stream.retentionMs;
}

/**
 * Shards that are still listed: open ones, and closed ones that may still hold unexpired records.
 * None while the stream is CREATING or DELETING, as AWS describes such a stream. Ordered by shard
 * index.
 */
export function listedShards(stream: Stream, now: number): Shard[] {
  if (stream.meta.status === 'CREATING' || stream.meta.status === 'DELETING') return [];
  const horizon = trimHorizon(stream, now);
  return stream.shards
    // A closed shard is listed until retention has passed its end (retention.ts isExpiredShard),
    // and never again once its storage was dropped, even if retention grew since.
    .filter((s) => s.meta.expiredAt === undefined && (s.meta.closedAt === undefined || s.meta.closedAt >= horizon))
    .sort((a, b) => a.index - b.index);
}

export function enhancedMonitoring(stream: Stream) {
  return [{ ShardLevelMetrics: [...stream.meta.shardLevelMetrics] }];
}

export function streamModeDetails(stream: Stream) {
  return { StreamMode: stream.meta.mode };
}
