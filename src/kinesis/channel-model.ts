/**
 * A channel as the catalog keeps it, and how the Channel operations describe it. All channels of
 * the account are one catalog document, changed by compare-and-set (channels.ts), so a crash
 * leaves the old or the new set and two nodes never undo each other's change.
 */

export type ChannelStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING' | 'FAILED';
export type ChannelRecordFormat = 'JSON' | 'STRING' | 'BYTE_ARRAY';
export type ChannelCompression = 'NONE' | 'GZIP' | 'ZSTD';

export interface ChannelBucket {
  BucketARN: string;
  ExpectedBucketOwner: string;
}

/** One S3TablesConfiguration: the table a channel creates and appends to. */
export interface ChannelTable {
  TableBucketARN: string;
  Namespace: string;
  TableName: string;
  CompressionType: 'NONE' | 'SNAPPY';
  /** Hourly partitions of the arrival time. */
  PartitionSpec?: { PartitionFields: { Transform: 'TIME_HOUR'; SourceName: string }[] };
}

export interface ChannelMeta {
  name: string;
  /** Unique for this incarnation of the channel; names its log and its progress. */
  id: string;
  /** Epoch ms. */
  createdAt: number;
  status: ChannelStatus;
  /** When the transitional status (CREATING, UPDATING, DELETING) ends; epoch ms. */
  statusUntil?: number;
  statusReason?: string;
  /** Changes with the configuration, so that delivery restarts with the new one. */
  versionId: number;
  roleArn: string;
  stream: {
    arn: string;
    name: string;
    /** The stream incarnation the channel reads. */
    key: string;
    createdAt: number;
    recordFormat: ChannelRecordFormat;
    schemaArn?: string;
  };
  s3: {
    freshnessSeconds: number;
    deadLetter: ChannelBucket & { ErrorOutputPrefix: string };
    /** The general purpose bucket; absent when the channel delivers to S3 Tables. */
    storage?: ChannelBucket & { OutputKeyTemplate?: string; StorageClass?: string; CompressionType: ChannelCompression };
  };
  /** The S3 Tables (Iceberg) destination, instead of `s3.storage`. */
  tables?: ChannelTable;
  encryption?: { EncryptionType: string; KeyId: string };
  logging: { CloudWatchLogs: { Enabled: boolean; LogGroupName?: string; LogStreamName?: string } };
  tags: Record<string, string>;
  /** The resource policy (PutResourcePolicy), verbatim. */
  policy?: string;
  /** Records that arrived in the stream before this instant (epoch ms) are not delivered. */
  activeAt: number;
}

export function channelArn(region: string, accountId: string, name: string): string {
  return `arn:aws:kinesis:${region}:${accountId}:channel/${name}`;
}

/** ChannelDescription (CreateChannel, DescribeChannel, UpdateChannel). */
export function describeChannel(c: ChannelMeta, arn: string): Record<string, unknown> {
  return {
    ChannelName: c.name,
    ChannelARN: arn,
    ChannelId: c.id,
    ChannelStatus: c.status,
    ...(c.statusReason !== undefined ? { ChannelStatusReason: c.statusReason } : {}),
    ChannelCreationTimestamp: new Date(c.createdAt),
    ServiceExecutionRoleARN: c.roleArn,
    StreamConfigurationList: [
      {
        StreamARN: c.stream.arn,
        StreamCreationTimestamp: new Date(c.stream.createdAt),
        RecordConfiguration: {
          RecordFormatType: c.stream.recordFormat,
          ...(c.stream.schemaArn !== undefined ? { GSRSchemaARN: c.stream.schemaArn } : {}),
        },
      },
    ],
    ...(c.tables
      ? {
          S3TablesDestinationConfiguration: {
            DataFreshnessInSeconds: c.s3.freshnessSeconds,
            DeadLetterQueueS3Configuration: { ...c.s3.deadLetter },
            S3TablesConfigurationList: [structuredClone(c.tables)],
          },
        }
      : {
          S3DestinationConfiguration: {
            DataFreshnessInSeconds: c.s3.freshnessSeconds,
            DeadLetterQueueS3Configuration: { ...c.s3.deadLetter },
            StorageConfiguration: { ...c.s3.storage },
          },
        }),
    ...(c.encryption ? { EncryptionConfiguration: { ...c.encryption } } : {}),
    LoggingConfiguration: { CloudWatchLogs: { ...c.logging.CloudWatchLogs } },
  };
}

/** ChannelSummary (ListChannels). */
export function summarizeChannel(c: ChannelMeta, arn: string): Record<string, unknown> {
  return {
    ChannelName: c.name,
    ChannelARN: arn,
    ChannelId: c.id,
    ChannelStatus: c.status,
    ...(c.statusReason !== undefined ? { ChannelStatusReason: c.statusReason } : {}),
    ChannelCreationTimestamp: new Date(c.createdAt),
    ChannelDestinationType: c.tables ? 'S3_TABLES' : 'S3',
    Streams: [{ StreamARN: c.stream.arn, StreamCreationTimestamp: new Date(c.stream.createdAt) }],
  };
}
