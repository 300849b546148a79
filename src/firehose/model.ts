/**
 * A delivery stream as the catalog keeps it. Destination configurations are kept in the form the
 * API's Create*Configuration members have (S3DestinationConfiguration is stored as an Extended S3
 * one, as AWS describes it), with AWS's defaults filled in, so that delivery reads one shape and
 * DescribeDeliveryStream renders it back.
 */

export type DeliveryStreamType = 'DirectPut' | 'KinesisStreamAsSource' | 'MSKAsSource' | 'DatabaseAsSource';
export type DeliveryStreamStatus = 'CREATING' | 'CREATING_FAILED' | 'DELETING' | 'DELETING_FAILED' | 'ACTIVE';
export type EncryptionStatus = 'ENABLED' | 'ENABLING' | 'ENABLING_FAILED' | 'DISABLED' | 'DISABLING' | 'DISABLING_FAILED';

/** The destinations of the API, by the prefix of their configuration members. */
export const DESTINATION_KINDS = [
  'ExtendedS3',
  'Redshift',
  'Elasticsearch',
  'Amazonopensearchservice',
  'Splunk',
  'HttpEndpoint',
  'AmazonOpenSearchServerless',
  'Snowflake',
  'Iceberg',
] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** The destinations whose records Tributary delivers; the others are accepted and described only. */
export const DELIVERED_KINDS: ReadonlySet<DestinationKind> = new Set(['ExtendedS3', 'HttpEndpoint', 'Redshift']);

export type Config = Record<string, any>;

export interface Tag {
  Key: string;
  Value?: string;
}

export interface Destination {
  /** `destinationId-000000000001`. */
  id: string;
  kind: DestinationKind;
  config: Config;
}

export interface KinesisSource {
  streamARN: string;
  roleARN: string;
  /** When delivery began (epoch ms): the source is read from its tip at that moment. */
  startedAt: number;
}

export interface DeliveryStreamMeta {
  name: string;
  arn: string;
  /** Unique to this incarnation of the name: the accepted records' log is kept under it. */
  id: string;
  type: DeliveryStreamType;
  status: DeliveryStreamStatus;
  createdAt: number;
  updatedAt?: number;
  /** Raised by every change of the destination (and of encryption). */
  versionId: number;
  /** When a CREATING stream becomes ACTIVE, or a DELETING one goes away. */
  readyAt?: number;
  directPut?: { ThroughputHintInMBs: number };
  kinesisSource?: KinesisSource;
  /** Other sources (MSK, database) are described as given; nothing reads them. */
  sourceConfig?: Config;
  destination: Destination;
  encryption: {
    status: EncryptionStatus;
    keyType?: 'AWS_OWNED_CMK' | 'CUSTOMER_MANAGED_CMK';
    keyARN?: string;
    /** When an ENABLING/DISABLING change completes. */
    settlesAt?: number;
  };
  tags: Tag[];
}
