import {
  CreateChannelCommand,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type CreateChannelCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';

export const ACCOUNT = '000000000000';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/channel-delivery`;

export const streamArn = (name: string) => `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/${name}`;
export const channelArn = (name: string) => `arn:aws:kinesis:us-east-1:${ACCOUNT}:channel/${name}`;

/** Creates a stream and returns once DescribeStreamSummary says it is ACTIVE (its delay elapsed). */
export async function createStream(kinesis: KinesisClient, name: string, mode: 'ON_DEMAND' | 'PROVISIONED' = 'ON_DEMAND'): Promise<void> {
  await kinesis.send(
    new CreateStreamCommand(mode === 'ON_DEMAND' ? { StreamName: name, StreamModeDetails: { StreamMode: 'ON_DEMAND' } } : { StreamName: name, ShardCount: 1 }),
  );
}

export async function streamStatus(kinesis: KinesisClient, name: string): Promise<string | undefined> {
  const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  return out.StreamDescriptionSummary?.StreamStatus;
}

/** A CreateChannel request to an S3 bucket, with `extra` over the defaults. */
export function channelRequest(name: string, stream: string, bucket: string, extra: Partial<CreateChannelCommandInput> = {}): CreateChannelCommandInput {
  return {
    ChannelName: name,
    ServiceExecutionRoleARN: ROLE,
    StreamConfigurationList: [{ StreamARN: streamArn(stream), RecordConfiguration: { RecordFormatType: 'JSON' } }],
    S3DestinationConfiguration: {
      StorageConfiguration: { BucketARN: `arn:aws:s3:::${bucket}`, ExpectedBucketOwner: ACCOUNT, CompressionType: 'NONE' },
    },
    ...extra,
  };
}

export async function createChannel(kinesis: KinesisClient, input: CreateChannelCommandInput) {
  return (await kinesis.send(new CreateChannelCommand(input))).ChannelDescription!;
}
