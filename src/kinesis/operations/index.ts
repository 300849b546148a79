import { createChannel } from './create-channel.js';
import { deleteChannel } from './delete-channel.js';
import { describeChannel } from './describe-channel.js';
import { listChannels } from './list-channels.js';
import { updateChannel } from './update-channel.js';
import { addTagsToStream } from './add-tags-to-stream.js';
import { deleteResourcePolicy } from './delete-resource-policy.js';
import { describeAccountSettings } from './describe-account-settings.js';
import { disableEnhancedMonitoring } from './disable-enhanced-monitoring.js';
import { enableEnhancedMonitoring } from './enable-enhanced-monitoring.js';
import { getResourcePolicy } from './get-resource-policy.js';
import { listTagsForResource } from './list-tags-for-resource.js';
import { listTagsForStream } from './list-tags-for-stream.js';
import { putResourcePolicy } from './put-resource-policy.js';
import { removeTagsFromStream } from './remove-tags-from-stream.js';
import { startStreamEncryption } from './start-stream-encryption.js';
import { stopStreamEncryption } from './stop-stream-encryption.js';
import { tagResource } from './tag-resource.js';
import { untagResource } from './untag-resource.js';
import { updateAccountSettings } from './update-account-settings.js';
import { updateMaxRecordSize } from './update-max-record-size.js';
import { updateStreamRecordDistributionStrategy } from './update-stream-record-distribution-strategy.js';
import { updateStreamWarmThroughput } from './update-stream-warm-throughput.js';
import { createStream } from './create-stream.js';
import { decreaseStreamRetentionPeriod } from './decrease-stream-retention-period.js';
import { deleteStream } from './delete-stream.js';
import { deregisterStreamConsumer } from './deregister-stream-consumer.js';
import { describeLimits } from './describe-limits.js';
import { describeStream } from './describe-stream.js';
import { describeStreamConsumer } from './describe-stream-consumer.js';
import { describeStreamSummary } from './describe-stream-summary.js';
import { getRecords } from './get-records.js';
import { getShardIterator } from './get-shard-iterator.js';
import { increaseStreamRetentionPeriod } from './increase-stream-retention-period.js';
import { listShards } from './list-shards.js';
import { listStreamConsumers } from './list-stream-consumers.js';
import { listStreams } from './list-streams.js';
import { mergeShards } from './merge-shards.js';
import { operationTable, type OperationTable } from '../../protocol/operation.js';
import type { OperationContext } from './context.js';
import { putRecord } from './put-record.js';
import { putRecords } from './put-records.js';
import { registerStreamConsumer } from './register-stream-consumer.js';
import { splitShard } from './split-shard.js';
import { subscribeToShard } from './subscribe-to-shard.js';
import { updateShardCount } from './update-shard-count.js';
import { updateStreamMode } from './update-stream-mode.js';

/** Every Kinesis operation, by name. */
export const kinesisOperations: OperationTable<OperationContext> = operationTable<OperationContext>([
    createChannel,
    describeChannel,
    updateChannel,
    deleteChannel,
    listChannels,
    createStream,
    deleteStream,
    describeLimits,
    describeStream,
    describeStreamSummary,
    getRecords,
    getShardIterator,
    listShards,
    listStreams,
    putRecord,
    putRecords,
    registerStreamConsumer,
    describeStreamConsumer,
    listStreamConsumers,
    deregisterStreamConsumer,
    subscribeToShard,
    addTagsToStream,
    removeTagsFromStream,
    listTagsForStream,
    tagResource,
    untagResource,
    listTagsForResource,
    putResourcePolicy,
    getResourcePolicy,
    deleteResourcePolicy,
    describeAccountSettings,
    updateAccountSettings,
    enableEnhancedMonitoring,
    disableEnhancedMonitoring,
    startStreamEncryption,
    stopStreamEncryption,
    updateMaxRecordSize,
    updateStreamWarmThroughput,
    updateStreamRecordDistributionStrategy,
    splitShard,
    mergeShards,
    updateShardCount,
    updateStreamMode,
    increaseStreamRetentionPeriod,
    decreaseStreamRetentionPeriod,
]);
