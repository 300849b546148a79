export { Producer, type ProducerClock, type ProducerMetrics, type ProducerOptions, type LatencySummary } from './producer.js';
export { type Attempt, InvalidUserRecordError, type PutResult, UserRecordFailedError } from './types.js';
export { partitionKeyHash, recordHashKey, ShardMap, type ShardRange } from './shard-map.js';
