import type { Catalog } from '../catalog.js';
import type { TableStore } from '../tables.js';
import type { LogStore } from '../types.js';
import { JetStreamCatalog } from './catalog.js';
import { connectJetStream, createJetStreamLogStore, type JetStreamConnection } from './store.js';
import { JetStreamTableStore } from './tables.js';

export interface JetStreamStorage {
  catalog: Catalog;
  logs: LogStore;
  /** The DynamoDB tables' bucket. */
  tables: TableStore;
  replicas: number;
  /** The connection, for other engines' parts on the same cluster (the S3 object store). */
  connection: JetStreamConnection;
  /** Closes the connection; the catalog and logs must be closed first. */
  close(): Promise<void>;
}

/** Parses a comma-separated list of nats:// URLs. */
export function parseNatsServers(list: string): string[] {
  const servers = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new Error('--nats: at least one nats:// URL is needed');
  return servers;
}

/** Connects to a JetStream cluster and opens the catalog bucket and the log store on it. */
export async function openJetStreamStorage(options: { servers: string; replicas: number; prefix?: string }): Promise<JetStreamStorage> {
  const conn = await connectJetStream({ servers: parseNatsServers(options.servers), replicas: options.replicas, prefix: options.prefix });
  try {
    const catalog = await JetStreamCatalog.open(conn);
    const logs = await createJetStreamLogStore(conn);
    const tables = await JetStreamTableStore.open(conn);
    return { catalog, logs, tables, replicas: conn.replicas, connection: conn, close: () => conn.close() };
  } catch (err) {
    await conn.close();
    throw err;
  }
}
