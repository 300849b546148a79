/**
 * The resource each Kinesis operation is authorized against, after the Service Authorization
 * Reference for Amazon Kinesis Data Streams: the action is `kinesis:<Operation>` and the resource
 * is one of these kinds.
 *
 * - stream: the stream named by StreamName/StreamARN (GetRecords: the stream of its iterator)
 * - consumer: the consumer named by ConsumerARN, or by StreamARN and ConsumerName
 * - resource: the stream or consumer named by ResourceARN (tags and resource policies)
 * - account: no resource; the ARN in policies and messages is `*`
 * - channel: the channel named by ChannelARN (CreateChannel: by ChannelName)
 */
export type ResourceKind = 'stream' | 'consumer' | 'resource' | 'account' | 'iterator' | 'channel';

export const kinesisActionResources: Readonly<Record<string, ResourceKind>> = {
  AddTagsToStream: 'stream',
  CreateChannel: 'channel',
  DeleteChannel: 'channel',
  DescribeChannel: 'channel',
  ListChannels: 'account',
  UpdateChannel: 'channel',
  CreateStream: 'stream',
  DecreaseStreamRetentionPeriod: 'stream',
  DeleteResourcePolicy: 'resource',
  DeleteStream: 'stream',
  DeregisterStreamConsumer: 'consumer',
  DescribeAccountSettings: 'account',
  DescribeLimits: 'account',
  DescribeStream: 'stream',
  DescribeStreamConsumer: 'consumer',
  DescribeStreamSummary: 'stream',
  DisableEnhancedMonitoring: 'stream',
  EnableEnhancedMonitoring: 'stream',
  GetRecords: 'iterator',
  GetResourcePolicy: 'resource',
  GetShardIterator: 'stream',
  IncreaseStreamRetentionPeriod: 'stream',
  ListShards: 'stream',
  ListStreamConsumers: 'stream',
  ListStreams: 'account',
  ListTagsForResource: 'resource',
  ListTagsForStream: 'stream',
  MergeShards: 'stream',
  PutRecord: 'stream',
  PutRecords: 'stream',
  PutResourcePolicy: 'resource',
  RegisterStreamConsumer: 'stream',
  RemoveTagsFromStream: 'stream',
  SplitShard: 'stream',
  StartStreamEncryption: 'stream',
  StopStreamEncryption: 'stream',
  SubscribeToShard: 'consumer',
  TagResource: 'resource',
  UntagResource: 'resource',
  UpdateAccountSettings: 'account',
  UpdateMaxRecordSize: 'stream',
  UpdateShardCount: 'stream',
  UpdateStreamMode: 'stream',
  UpdateStreamRecordDistributionStrategy: 'stream',
  UpdateStreamWarmThroughput: 'stream',
};
