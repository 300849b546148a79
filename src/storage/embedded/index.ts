export { createEmbeddedLogStore, EmbeddedLogStore } from './store.js';
export { EmbeddedShardLog, type LogStats } from './shard-log.js';
export type { EmbeddedHooks, LogWarning, LogWarningCode } from './events.js';
