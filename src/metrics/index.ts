export { MINUTE_MS, minuteOf, MinuteBuckets } from './buckets.js';
export { STREAM_METRICS, SHARD_LEVEL_METRICS, snakeCase } from './names.js';
export { MetricsRecorder, type MetricPoint, type MeteredStream } from './recorder.js';
export { MemoryMetricsStore, metricsStoreFor, type MetricsStore } from './store.js';
export { createPrometheusRegistry, familyName, STORAGE_FAULTS, STORAGE_LOST_RECORDS } from './prometheus.js';
export { StorageFaultCounts } from './storage-faults.js';
