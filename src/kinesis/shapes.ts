import {
  blob,
  boolean,
  integer,
  list,
  map,
  required,
  string,
  structure,
  timestamp,
  type Shape,
  type StructureShape,
  type Required,
} from '../protocol/shape.js';
import { SHARD_LEVEL_METRICS } from '../metrics/names.js';

/**
 * The input shape of every Kinesis Data Streams operation (API 2013-12-02), one table per
 * operation, with the model's constraints. Members are listed in the order AWS reports their
 * violations where captures of real responses show it (older members first, as AWS listed
 * them); members added to the API later follow in model order.
 */

// Identifiers and names.
const name128 = string({ min: 1, max: 128, pattern: '[a-zA-Z0-9_.-]+' });
const streamName = name128;
const shardId = name128;
const consumerName = name128;
const channelName = name128;
const streamARN = string({ min: 1, max: 2048, pattern: 'arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+' });
const streamId = string({ min: 1, max: 24, pattern: '[a-z0-9]{20}-[a-z0-9]{3}' });
const consumerARN = string({
  min: 1,
  max: 2048,
  pattern: '^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+',
});
const resourceARN = string({ min: 1, max: 2048, pattern: 'arn:aws.*:kinesis:.*:\\d{12}:.*(stream|channel)/\\S+' });
const channelARN = string({ min: 1, max: 2048, pattern: 'arn:aws.*:kinesis:.*:\\d{12}:channel/\\S+' });
const hashKey = string({ pattern: '^(0|([1-9]\\d{0,38}))$' });
const sequenceNumber = string({ pattern: '^(0|([1-9]\\d{0,128}))$' });
const nextToken = string({ min: 1, max: 1048576 });
const partitionKey = string({ min: 1, max: 256 });
const data = blob({ min: 0, max: 10485760 });
const keyId = string({ min: 1, max: 2048 });

// Enumerations. ShardIteratorType is listed in the order AWS prints it in messages.
const shardIteratorType = string({
  enum: ['AFTER_SEQUENCE_NUMBER', 'LATEST', 'AT_TIMESTAMP', 'AT_SEQUENCE_NUMBER', 'TRIM_HORIZON'],
});
const streamMode = string({ enum: ['PROVISIONED', 'ON_DEMAND'] });
const encryptionType = string({ enum: ['NONE', 'KMS'] });
const recordDistributionStrategy = string({ enum: ['AUTO', 'USER_PARTITION_KEY'] });
const metricsNameList = list(
  string({
    enum: [...SHARD_LEVEL_METRICS, 'ALL'],
  }),
  { min: 1, max: 7 },
);

// Numbers.
const positiveInteger = integer({ min: 1 });
const listLimit = integer({ min: 1, max: 10000 });
const warmThroughputMiBps = integer({ min: 0 });
const maxRecordSizeInKiB = integer({ min: 1024, max: 10240 });

// Tags.
const tagKey = string({ min: 1, max: 128 });
const tagMap = map(tagKey, string({ min: 0, max: 256 }), { min: 1, max: 200 });
const tagKeyList = list(tagKey, { min: 1, max: 50 });

/** A structure that appears inside lists prints as the service's Java class does. */
function element(name: string, members: Record<string, Shape | Required>): StructureShape {
  return structure(name, members, `com.amazonaws.kinesis.v20131202.${name}@2`);
}

const streamModeDetails = structure('StreamModeDetails', { StreamMode: required(streamMode) });

/** The three ways to name a stream that most stream-scoped operations accept. */
const streamRef = { StreamName: streamName, StreamARN: streamARN, StreamId: streamId };
const streamRefAfterName = { StreamARN: streamARN, StreamId: streamId };

// Channels.
const bucketARN = string({ min: 1, max: 2048, pattern: 'arn:aws[-a-z0-9]*:s3:::[a-z0-9._-]{3,63}' });
const accountId = string({ min: 12, max: 12, pattern: '\\d{12}' });
const deadLetterQueue = structure('DeadLetterQueueS3Configuration', {
  BucketARN: required(bucketARN),
  ExpectedBucketOwner: required(accountId),
  ErrorOutputPrefix: string({ min: 1, max: 512, pattern: "[0-9A-Za-z!\\-_'.*()\\/]+" }),
});
const s3Storage = structure('S3StorageConfiguration', {
  BucketARN: required(bucketARN),
  ExpectedBucketOwner: required(accountId),
  OutputKeyTemplate: string({ min: 1, max: 1024, pattern: "[0-9A-Za-z!\\-_'.*()\\/=:{}]+" }),
  StorageClass: string({ enum: ['STANDARD', 'INTELLIGENT_TIERING', 'GLACIER_IR'] }),
  CompressionType: required(string({ enum: ['NONE', 'GZIP', 'ZSTD'] })),
});
const tableIdentifier = string({ min: 1, max: 255, pattern: '[0-9a-z_]+' });
const s3TablesConfiguration = element('S3TablesConfiguration', {
  TableBucketARN: required(
    string({ min: 1, max: 2048, pattern: 'arn:aws[-a-z0-9]*:s3tables:[-a-z0-9]+:\\d{12}:bucket/[a-z0-9_-]{3,63}' }),
  ),
  Namespace: required(tableIdentifier),
  TableName: required(tableIdentifier),
  CompressionType: required(string({ enum: ['NONE', 'ZSTD', 'SNAPPY'] })),
  PartitionSpec: structure('PartitionSpec', {
    PartitionFields: required(
      list(
        element('PartitionField', {
          Transform: required(string({ enum: ['TIME_HOUR'] })),
          SourceName: required(string({ min: 1, max: 255, pattern: '[a-zA-Z0-9\\.\\_]+' })),
        }),
        { min: 1, max: 10 },
      ),
    ),
  }),
});
const logGroupName = string({ min: 1, max: 512, pattern: '[\\.\\-_/#A-Za-z0-9]+' });
const logStreamName = string({ min: 1, max: 512, pattern: '[^:*]*' });

const operations: Record<string, StructureShape> = {
  AddTagsToStream: structure('AddTagsToStreamInput', {
    Tags: required(tagMap),
    ...streamRef,
  }),

  CreateChannel: structure('CreateChannelInput', {
    ChannelName: required(channelName),
    ServiceExecutionRoleARN: required(
      string({ min: 1, max: 512, pattern: 'arn:aws[-a-z0-9]*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+' }),
    ),
    StreamConfigurationList: required(
      list(
        element('ChannelStreamConfiguration', {
          StreamARN: required(streamARN),
          RecordConfiguration: required(
            structure('RecordConfiguration', {
              RecordFormatType: required(string({ enum: ['GSR_JSON', 'JSON', 'STRING', 'BYTE_ARRAY'] })),
              GSRSchemaARN: string({
                min: 1,
                max: 512,
                pattern: 'arn:aws[-a-z0-9]*:glue:[-a-z0-9]+:\\d{12}:schema/[-a-zA-Z0-9_$#.]+/[-a-zA-Z0-9_$#.]+',
              }),
            }),
          ),
        }),
        { min: 1, max: 10000 },
      ),
    ),
    S3DestinationConfiguration: structure('S3DestinationConfiguration', {
      DataFreshnessInSeconds: integer(),
      DeadLetterQueueS3Configuration: deadLetterQueue,
      StorageConfiguration: required(s3Storage),
    }),
    S3TablesDestinationConfiguration: structure('S3TablesDestinationConfiguration', {
      DataFreshnessInSeconds: integer(),
      DeadLetterQueueS3Configuration: required(deadLetterQueue),
      S3TablesConfigurationList: required(list(s3TablesConfiguration, { min: 1, max: 10000 })),
    }),
    EncryptionConfiguration: structure('ChannelEncryptionConfiguration', {
      EncryptionType: required(string({ enum: ['KMS'] })),
      KeyId: required(keyId),
    }),
    Tags: tagMap,
    LoggingConfiguration: structure('ChannelLoggingConfiguration', {
      CloudWatchLogs: required(
        structure('CloudWatchLogs', {
          Enabled: required(boolean()),
          LogGroupName: logGroupName,
          LogStreamName: logStreamName,
        }),
      ),
    }),
  }),

  CreateStream: structure('CreateStreamInput', {
    ShardCount: positiveInteger,
    StreamName: required(streamName),
    StreamModeDetails: streamModeDetails,
    Tags: tagMap,
    WarmThroughputMiBps: warmThroughputMiBps,
    MaxRecordSizeInKiB: maxRecordSizeInKiB,
    RecordDistributionStrategy: recordDistributionStrategy,
  }),

  DecreaseStreamRetentionPeriod: structure('DecreaseStreamRetentionPeriodInput', {
    RetentionPeriodHours: required(integer()),
    ...streamRef,
  }),

  DeleteChannel: structure('DeleteChannelInput', { ChannelARN: required(channelARN) }),

  DeleteResourcePolicy: structure('DeleteResourcePolicyInput', {
    ResourceARN: required(resourceARN),
    StreamId: streamId,
  }),

  DeleteStream: structure('DeleteStreamInput', {
    StreamName: streamName,
    EnforceConsumerDeletion: boolean(),
    ...streamRefAfterName,
  }),

  DeregisterStreamConsumer: structure('DeregisterStreamConsumerInput', {
    StreamARN: streamARN,
    ConsumerName: consumerName,
    ConsumerARN: consumerARN,
    StreamId: streamId,
  }),

  DescribeAccountSettings: structure('DescribeAccountSettingsInput', {}),

  DescribeChannel: structure('DescribeChannelInput', { ChannelARN: required(channelARN) }),

  DescribeLimits: structure('DescribeLimitsInput', {}),

  DescribeStream: structure('DescribeStreamInput', {
    Limit: listLimit,
    ExclusiveStartShardId: shardId,
    ...streamRef,
  }),

  DescribeStreamConsumer: structure('DescribeStreamConsumerInput', {
    StreamARN: streamARN,
    ConsumerName: consumerName,
    ConsumerARN: consumerARN,
    StreamId: streamId,
  }),

  DescribeStreamSummary: structure('DescribeStreamSummaryInput', { ...streamRef }),

  DisableEnhancedMonitoring: structure('DisableEnhancedMonitoringInput', {
    StreamName: streamName,
    ShardLevelMetrics: required(metricsNameList),
    ...streamRefAfterName,
  }),

  EnableEnhancedMonitoring: structure('EnableEnhancedMonitoringInput', {
    StreamName: streamName,
    ShardLevelMetrics: required(metricsNameList),
    ...streamRefAfterName,
  }),

  GetRecords: structure('GetRecordsInput', {
    Limit: listLimit,
    ShardIterator: required(string({ min: 1, max: 512 })),
    StreamARN: streamARN,
    StreamId: streamId,
    DryRun: boolean(),
  }),

  GetResourcePolicy: structure('GetResourcePolicyInput', {
    ResourceARN: required(resourceARN),
    StreamId: streamId,
  }),

  GetShardIterator: structure('GetShardIteratorInput', {
    ShardId: required(shardId),
    ShardIteratorType: required(shardIteratorType),
    StartingSequenceNumber: sequenceNumber,
    StreamName: streamName,
    Timestamp: timestamp(),
    StreamARN: streamARN,
    StreamId: streamId,
    DryRun: boolean(),
  }),

  IncreaseStreamRetentionPeriod: structure('IncreaseStreamRetentionPeriodInput', {
    RetentionPeriodHours: required(integer()),
    ...streamRef,
  }),

  ListChannels: structure('ListChannelsInput', {
    StreamFilter: list(
      element('StreamFilter', {
        StreamARN: required(streamARN),
        StreamCreationTimestamp: timestamp(),
      }),
      { min: 1, max: 10000 },
    ),
    MaxResults: listLimit,
    NextToken: nextToken,
  }),

  ListShards: structure('ListShardsInput', {
    MaxResults: listLimit,
    ExclusiveStartShardId: shardId,
    StreamName: streamName,
    NextToken: nextToken,
    StreamCreationTimestamp: timestamp(),
    ShardFilter: structure('ShardFilter', {
      Type: required(
        string({
          enum: ['AFTER_SHARD_ID', 'AT_TRIM_HORIZON', 'FROM_TRIM_HORIZON', 'AT_LATEST', 'AT_TIMESTAMP', 'FROM_TIMESTAMP'],
        }),
      ),
      ShardId: shardId,
      Timestamp: timestamp(),
    }),
    ...streamRefAfterName,
  }),

  ListStreamConsumers: structure('ListStreamConsumersInput', {
    StreamARN: required(streamARN),
    NextToken: nextToken,
    MaxResults: listLimit,
    StreamCreationTimestamp: timestamp(),
    StreamId: streamId,
  }),

  ListStreams: structure('ListStreamsInput', {
    Limit: listLimit,
    ExclusiveStartStreamName: streamName,
    NextToken: nextToken,
  }),

  ListTagsForResource: structure('ListTagsForResourceInput', {
    ResourceARN: required(resourceARN),
    StreamId: streamId,
  }),

  ListTagsForStream: structure('ListTagsForStreamInput', {
    Limit: integer({ min: 1, max: 50 }),
    ExclusiveStartTagKey: tagKey,
    ...streamRef,
  }),

  MergeShards: structure('MergeShardsInput', {
    AdjacentShardToMerge: required(shardId),
    ShardToMerge: required(shardId),
    ...streamRef,
  }),

  PutRecord: structure('PutRecordInput', {
    SequenceNumberForOrdering: sequenceNumber,
    PartitionKey: partitionKey,
    ExplicitHashKey: hashKey,
    Data: required(data),
    ...streamRef,
    DryRun: boolean(),
  }),

  PutRecords: structure('PutRecordsInput', {
    Records: required(
      list(
        element('PutRecordsRequestEntry', {
          PartitionKey: partitionKey,
          ExplicitHashKey: hashKey,
          Data: required(data),
        }),
        { min: 1, max: 500 },
      ),
    ),
    ...streamRef,
    DryRun: boolean(),
  }),

  PutResourcePolicy: structure('PutResourcePolicyInput', {
    ResourceARN: required(resourceARN),
    StreamId: streamId,
    Policy: required(string()),
  }),

  RegisterStreamConsumer: structure('RegisterStreamConsumerInput', {
    StreamARN: required(streamARN),
    ConsumerName: required(consumerName),
    StreamId: streamId,
    Tags: tagMap,
  }),

  RemoveTagsFromStream: structure('RemoveTagsFromStreamInput', {
    TagKeys: required(tagKeyList),
    ...streamRef,
  }),

  SplitShard: structure('SplitShardInput', {
    NewStartingHashKey: required(hashKey),
    ShardToSplit: required(shardId),
    ...streamRef,
  }),

  StartStreamEncryption: structure('StartStreamEncryptionInput', {
    StreamName: streamName,
    EncryptionType: required(encryptionType),
    KeyId: required(keyId),
    ...streamRefAfterName,
  }),

  StopStreamEncryption: structure('StopStreamEncryptionInput', {
    StreamName: streamName,
    EncryptionType: required(encryptionType),
    KeyId: required(keyId),
    ...streamRefAfterName,
  }),

  SubscribeToShard: structure('SubscribeToShardInput', {
    ConsumerARN: required(consumerARN),
    StreamId: streamId,
    ShardId: required(shardId),
    StartingPosition: required(
      structure('StartingPosition', {
        Type: required(shardIteratorType),
        SequenceNumber: sequenceNumber,
        Timestamp: timestamp(),
      }),
    ),
    DryRun: boolean(),
  }),

  TagResource: structure('TagResourceInput', {
    Tags: required(tagMap),
    ResourceARN: required(resourceARN),
    StreamId: streamId,
  }),

  UntagResource: structure('UntagResourceInput', {
    TagKeys: required(tagKeyList),
    ResourceARN: required(resourceARN),
    StreamId: streamId,
  }),

  UpdateAccountSettings: structure('UpdateAccountSettingsInput', {
    MinimumThroughputBillingCommitment: required(
      structure('MinimumThroughputBillingCommitmentInput', {
        Status: required(string({ enum: ['ENABLED', 'DISABLED'] })),
      }),
    ),
  }),

  UpdateChannel: structure('UpdateChannelInput', {
    ChannelARN: required(channelARN),
    S3DestinationConfiguration: structure('S3DestinationUpdateInput', {
      DataFreshnessInSeconds: required(integer()),
    }),
    S3TablesDestinationConfiguration: structure('S3TablesDestinationUpdateInput', {
      DataFreshnessInSeconds: required(integer()),
    }),
    LoggingConfiguration: structure('ChannelLoggingUpdateInput', {
      CloudWatchLogs: required(
        structure('CloudWatchLogsUpdateInput', {
          Enabled: required(boolean()),
          LogGroupName: logGroupName,
          LogStreamName: logStreamName,
        }),
      ),
    }),
  }),

  UpdateMaxRecordSize: structure('UpdateMaxRecordSizeInput', {
    StreamARN: streamARN,
    StreamId: streamId,
    MaxRecordSizeInKiB: required(maxRecordSizeInKiB),
  }),

  UpdateShardCount: structure('UpdateShardCountInput', {
    ScalingType: required(string({ enum: ['UNIFORM_SCALING'] })),
    StreamName: streamName,
    TargetShardCount: required(positiveInteger),
    ...streamRefAfterName,
  }),

  UpdateStreamMode: structure('UpdateStreamModeInput', {
    StreamARN: required(streamARN),
    StreamId: streamId,
    StreamModeDetails: required(streamModeDetails),
    WarmThroughputMiBps: warmThroughputMiBps,
  }),

  UpdateStreamRecordDistributionStrategy: structure('UpdateStreamRecordDistributionStrategyInput', {
    StreamARN: required(streamARN),
    StreamId: streamId,
    RecordDistributionStrategy: required(recordDistributionStrategy),
  }),

  UpdateStreamWarmThroughput: structure('UpdateStreamWarmThroughputInput', {
    StreamARN: streamARN,
    StreamName: streamName,
    StreamId: streamId,
    WarmThroughputMiBps: required(warmThroughputMiBps),
  }),
};

/** Operation name (the part of X-Amz-Target after the dot) → input shape. */
export const kinesisShapes: ReadonlyMap<string, StructureShape> = new Map(Object.entries(operations));
