/**
 * A read-only subset of the Apache Iceberg REST catalog over the tables this server writes,
 * served on the main port under `/iceberg` (so its base URI is `http://<host>:<port>/iceberg`):
 *
 *   GET  /v1/config[?warehouse=<table bucket ARN>]       overrides.prefix = the table bucket's name
 *   GET  /v1/{prefix}/namespaces                          {"namespaces":[["ns"],…]}
 *   GET  /v1/{prefix}/namespaces/{ns}                     {"namespace":["ns"],"properties":{}}
 *   GET  /v1/{prefix}/namespaces/{ns}/tables              {"identifiers":[{"namespace":["ns"],"name":"t"}]}
 *   GET  /v1/{prefix}/namespaces/{ns}/tables/{table}      LoadTableResult: metadata-location, metadata, config
 *   HEAD of the namespace and table routes                204 or 404
 *
 * Without a prefix (`/v1/namespaces…`) the routes span every table bucket. Errors are the REST
 * spec's `{"error":{"message","type","code"}}`. The catalog is read-only: tables are created and
 * committed to by channel delivery.
 */
import { listTables, tablePointer, type RegisteredTable, type RegistryStore } from './registry.js';

export interface RestCatalogDeps {
  store: Pick<RegistryStore, 'getSetting'>;
  /** Reads a table's metadata file. */
  get(bucket: string, key: string): Promise<Buffer | undefined>;
  /** The S3 endpoint table files are read from, given to clients as FileIO settings. */
  s3Endpoint(): string | undefined;
  region: string;
}

export interface RestAnswer {
  status: number;
  body?: string;
}

const ENDPOINTS: readonly string[] = [
  'GET /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
];

const json = (status: number, value: unknown): RestAnswer => ({ status, body: JSON.stringify(value) });
const error = (code: number, type: string, message: string): RestAnswer => json(code, { error: { message, type, code } });

/** The answer to a request under `/iceberg` (`path` without it), or undefined when no route matches. */
export async function answerRestCatalog(method: string, path: string, deps: RestCatalogDeps): Promise<RestAnswer | undefined> {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const url = new URL(path, 'http://catalog');
  const parts = url.pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  if (parts[0] !== 'v1') return undefined;
  const tables = await listTables(deps.store);
  if (parts.length === 2 && parts[1] === 'config') {
    const warehouse = url.searchParams.get('warehouse');
    const known = warehouse === null ? undefined : tables.find((t) => t.tableBucketArn === warehouse || t.bucket === warehouse);
    if (warehouse !== null && !known) return error(404, 'NoSuchWarehouseException', `Warehouse ${warehouse} does not exist`);
    return json(200, { defaults: {}, overrides: known ? { prefix: encodeURIComponent(known.bucket) } : {}, endpoints: ENDPOINTS });
  }
  let rest = parts.slice(1);
  let inBucket = tables;
  if (rest[0] !== 'namespaces') {
    const prefix = rest[0];
    inBucket = tables.filter((t) => t.bucket === prefix);
    rest = rest.slice(1);
  }
  if (rest[0] !== 'namespaces') return undefined;
  const namespaces = [...new Set(inBucket.map((t) => t.namespace))].sort();
  if (rest.length === 1) return json(200, { namespaces: namespaces.map((n) => [n]) });
  const ns = rest[1]!;
  if (!namespaces.includes(ns)) return error(404, 'NoSuchNamespaceException', `Namespace does not exist: ${ns.split('\u001f').join('.')}`);
  const inNamespace = inBucket.filter((t) => t.namespace === ns);
  if (rest.length === 2) return method === 'HEAD' ? { status: 204 } : json(200, { namespace: [ns], properties: {} });
  if (rest[2] !== 'tables') return undefined;
  if (rest.length === 3) return json(200, { identifiers: inNamespace.map((t) => ({ namespace: [ns], name: t.name })).sort((a, b) => a.name.localeCompare(b.name)) });
  if (rest.length !== 4) return undefined;
  const table = inNamespace.find((t) => t.name === rest[3]);
  const loaded = table && (await load(table, deps));
  if (!loaded) return error(404, 'NoSuchTableException', `Table does not exist: ${ns}.${rest[3]}`);
  if (method === 'HEAD') return { status: 204 };
  const endpoint = deps.s3Endpoint();
  return json(200, {
    'metadata-location': loaded.location,
    metadata: loaded.metadata,
    config: {
      ...(endpoint ? { 's3.endpoint': endpoint } : {}),
      's3.path-style-access': 'true',
      'client.region': deps.region,
      's3.region': deps.region,
    },
  });
}

async function load(table: RegisteredTable, deps: RestCatalogDeps): Promise<{ location: string; metadata: unknown } | undefined> {
  const pointer = await tablePointer(deps.store, table);
  if (!pointer) return undefined;
  const key = pointer.location.slice(`s3://${table.bucket}/`.length);
  const body = await deps.get(table.bucket, key);
  if (!body) return undefined;
  // Metadata written here holds only ids below 2^53, so JSON numbers round-trip exactly.
  return { location: pointer.location, metadata: JSON.parse(body.toString('utf8')) };
}
