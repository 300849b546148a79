import { describeShard, enhancedMonitoring, listedShards, streamModeDetails } from '../describe.js';
import type { StreamRef } from './context.js';
import { shardIndexOf } from '../shard.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  Limit?: number;
  ExclusiveStartShardId?: string;
}

export const describeStream = defineOperation<Input, unknown>('DescribeStream', async (k, input) => {
  const stream = await k.resolve(input);
  const limit = Math.min(input.Limit ?? 100, 100);
  let shards = listedShards(stream, k.now);
  if (input.ExclusiveStartShardId !== undefined) {
    const after = shardIndexOf(input.ExclusiveStartShardId) ?? -1;
    shards = shards.filter((s) => s.index > after);
  }
  const page = shards.slice(0, limit);
  const m = stream.meta;
  return {
    StreamDescription: {
      StreamName: m.name,
      StreamARN: stream.arn,
      StreamStatus: m.status,
      StreamModeDetails: streamModeDetails(stream),
      Shards: page.map(describeShard),
      HasMoreShards: shards.length > page.length,
      RetentionPeriodHours: m.retentionHours,
      StreamCreationTimestamp: new Date(m.createdAt),
      EnhancedMonitoring: enhancedMonitoring(stream),
      EncryptionType: m.encryptionType,
      KeyId: m.keyId,
    },
  };
});
