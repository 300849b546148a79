export { connectJetStream, createJetStreamLogStore, JetStreamLogStore, DEFAULT_PREFIX, type JetStreamConnection, type JetStreamOptions } from './store.js';
export { JetStreamShardLog } from './shard-log.js';
export { CatalogLease, soleLease, type Lease } from './lease.js';
export { JetStreamCatalog } from './catalog.js';
export { openJetStreamStorage, parseNatsServers, type JetStreamStorage } from './storage.js';
