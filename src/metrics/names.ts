/**
 * The stream-level metrics, with AWS's CloudWatch names for Kinesis Data Streams. `sum` metrics are
 * counts and byte totals; `max` metrics (latencies, iterator ages) are read by their maximum or
 * average, not their running total.
 */
export const STREAM_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'PutRecord.Bytes',
  'PutRecord.Success',
  'PutRecord.Latency',
  'PutRecords.Bytes',
  'PutRecords.Records',
  'PutRecords.SuccessfulRecords',
  'PutRecords.FailedRecords',
  'PutRecords.ThrottledRecords',
  'PutRecords.TotalRecords',
  'PutRecords.Success',
  'PutRecords.Latency',
  'GetRecords.Bytes',
  'GetRecords.Records',
  'GetRecords.Success',
  'GetRecords.Latency',
  'GetRecords.IteratorAgeMilliseconds',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'SubscribeToShard.RateExceeded',
  'SubscribeToShardEvent.Bytes',
  'SubscribeToShardEvent.Records',
  'SubscribeToShardEvent.MillisBehindLatest',
] as const;

/**
 * The shard-level metrics (enhanced monitoring), in the order AWS lists them; `ALL` stands for
 * all of them in Enable/DisableEnhancedMonitoring.
 */
export const SHARD_LEVEL_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
] as const;

export type StreamMetricName = (typeof STREAM_METRICS)[number];
export type ShardMetricName = (typeof SHARD_LEVEL_METRICS)[number];

/** Index of each stream-level metric in a stream's bucket. */
export const S = Object.fromEntries(STREAM_METRICS.map((n, i) => [n, i])) as Record<StreamMetricName, number>;
/** Index of each shard-level metric in a shard's bucket (and its bit in an enabled-metrics mask). */
export const H = Object.fromEntries(SHARD_LEVEL_METRICS.map((n, i) => [n, i])) as Record<ShardMetricName, number>;

/** Metrics whose value is a level (a time or a lag), not an amount to add up. */
export function isLevel(name: string): boolean {
  return name.endsWith('.Latency') || name.endsWith('IteratorAgeMilliseconds') || name.endsWith('MillisBehindLatest');
}

/** `PutRecords.ThrottledRecords` → `put_records_throttled_records`. */
export function snakeCase(name: string): string {
  return name
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
