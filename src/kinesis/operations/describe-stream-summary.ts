import { consumerCount } from '../consumers.js';
import { enhancedMonitoring, streamModeDetails } from '../describe.js';
import type { StreamRef } from './context.js';
import { warmThroughput } from '../warm-throughput.js';
import { defineOperation } from './operation.js';

export const describeStreamSummary = defineOperation<StreamRef, unknown>('DescribeStreamSummary', async (k, input) => {
  const stream = await k.resolve(input);
  const m = stream.meta;
  // StreamId is deliberately never returned: SDK endpoint rules would send later calls to AWS.
  return {
    StreamDescriptionSummary: {
      StreamName: m.name,
      StreamARN: stream.arn,
      StreamStatus: m.status,
      StreamModeDetails: streamModeDetails(stream),
      RetentionPeriodHours: m.retentionHours,
      StreamCreationTimestamp: new Date(m.createdAt),
      EnhancedMonitoring: enhancedMonitoring(stream),
      EncryptionType: m.encryptionType,
      KeyId: m.keyId,
      OpenShardCount: m.status === 'CREATING' ? 0 : stream.openShards.length,
      ConsumerCount: await consumerCount(k, stream),
      ChannelCount: await k.channels.countFor(stream),
      MaxRecordSizeInKiB: m.maxRecordSizeKiB,
      RecordDistributionStrategy: m.mode === 'ON_DEMAND' ? m.recordDistribution : undefined,
      WarmThroughput: warmThroughput(m, k.now),
    },
  };
});
