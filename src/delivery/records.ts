/** The records the delivery engine carries from a delivery stream's log to a destination. */

export interface KinesisRecordMetadata {
  shardId: string;
  partitionKey: string;
  sequenceNumber: string;
  subsequenceNumber?: number;
  approximateArrivalTimestamp: number;
  /** The record's offset in its shard's log (records a channel copied), for exactly-once commits. */
  offset?: number;
}

export interface DeliveryRecord {
  /** Firehose's record id (opaque to producers). */
  id: string;
  /** Where the record sits in the delivery stream's log. */
  offset: number;
  data: Buffer;
  /** Approximate arrival, epoch ms. */
  arrival: number;
  /** For records read from a Kinesis stream. */
  kinesis?: KinesisRecordMetadata;
  /** Partition keys from the MetadataExtraction (jq) processor: `!{partitionKeyFromQuery:k}`. */
  keysFromQuery?: Record<string, string>;
  /** Partition keys a Lambda processor returned: `!{partitionKeyFromLambda:k}`. */
  keysFromLambda?: Record<string, string>;
}

export interface FailedRecord {
  record: DeliveryRecord;
  errorCode: string;
  errorMessage: string;
  /** The value of `!{firehose:error-output-type}` for this failure. */
  errorOutputType: string;
  attemptsMade: number;
  lambdaArn?: string;
}
