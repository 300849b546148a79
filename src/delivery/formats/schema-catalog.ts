/**
 * The schemas that record format conversion reads. Tributary has no Glue Data Catalog: the
 * operator names a file holding what `aws glue get-table` prints, and Firehose's
 * `SchemaConfiguration` (DatabaseName, TableName, VersionId) is looked up in it.
 *
 * Accepted file shapes (any mix of tables, several per file):
 *   {"Table": {...}}                      one `aws glue get-table` answer
 *   [{"Table": {...}}, {"Table": {...}}]  several of them
 *   {"Tables": [{...} | {"Table": {...}}]}
 *   {"TableList": [{...}]}                `aws glue get-tables`
 *   {"TableVersions": [{"Table": {...}, "VersionId": "3"}]}   `aws glue get-table-versions`
 *
 * A table needs `Name`, `DatabaseName` and `StorageDescriptor.Columns` (each `Name` and `Type`).
 * Names are matched case-insensitively, as Glue lower-cases them. With several versions of one
 * table, `LATEST` (or no VersionId) is the highest numeric VersionId, or the last one listed.
 */
import { readFile } from 'node:fs/promises';
import { type HiveType, HiveTypeError, parseHiveType } from './hive-types.js';

export interface TableColumn {
  /** Lower-cased, as Glue and Hive hold column names. */
  readonly name: string;
  readonly type: HiveType;
  /** The type as written in the file. */
  readonly typeText: string;
}

export interface TableSchema {
  readonly databaseName: string;
  readonly tableName: string;
  readonly versionId?: string;
  readonly catalogId?: string;
  readonly columns: readonly TableColumn[];
  /** Partition keys are kept for reference; they are not columns of the written files. */
  readonly partitionKeys: readonly TableColumn[];
}

/** One line, naming the file and what is wrong with it. */
export class SchemaCatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaCatalogError';
  }
}

export class SchemaCatalog {
  private readonly byName = new Map<string, TableSchema[]>();

  constructor(tables: readonly TableSchema[]) {
    for (const table of tables) {
      const key = tableKey(table.databaseName, table.tableName);
      const versions = this.byName.get(key) ?? [];
      versions.push(table);
      this.byName.set(key, versions);
    }
  }

  /** The table, or undefined. `versionId` "LATEST" or undefined picks the newest version. */
  lookup(databaseName: string, tableName: string, versionId?: string): TableSchema | undefined {
    const versions = this.byName.get(tableKey(databaseName, tableName));
    if (!versions) return undefined;
    if (versionId === undefined || versionId === 'LATEST') return latest(versions);
    return versions.find((v) => v.versionId === versionId);
  }

  get size(): number {
    return this.byName.size;
  }
}

function tableKey(databaseName: string, tableName: string): string {
  return `${databaseName.toLowerCase()}\u0000${tableName.toLowerCase()}`;
}

function latest(versions: readonly TableSchema[]): TableSchema {
  let best = versions[versions.length - 1]!;
  for (const v of versions) {
    const n = Number(v.versionId);
    const bestN = Number(best.versionId);
    if (Number.isFinite(n) && (!Number.isFinite(bestN) || n > bestN)) best = v;
  }
  return best;
}

/** Reads and checks the file; throws SchemaCatalogError with one clear line. */
export async function loadSchemaCatalog(path: string): Promise<SchemaCatalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw new SchemaCatalogError(`schema file ${path}: ${reason}`);
  }
  return parseSchemaCatalog(text, path);
}

/** Parses the text of a schema file; `source` names it in error messages. */
export function parseSchemaCatalog(text: string, source: string): SchemaCatalog {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SchemaCatalogError(`schema file ${source}: not valid JSON (${(err as Error).message})`);
  }
  const entries = tableEntries(doc, source);
  if (entries.length === 0) throw new SchemaCatalogError(`schema file ${source}: holds no tables`);
  return new SchemaCatalog(entries.map(({ table, path, versionId }) => readTable(table, path, versionId, source)));
}

interface Entry {
  table: unknown;
  path: string;
  versionId?: string;
}

function tableEntries(doc: unknown, source: string): Entry[] {
  const unwrap = (item: unknown, path: string): Entry => {
    if (isObject(item) && isObject(item.Table)) {
      const versionId = typeof item.VersionId === 'string' ? item.VersionId : undefined;
      return { table: item.Table, path: `${path}.Table`, versionId };
    }
    return { table: item, path };
  };
  if (Array.isArray(doc)) return doc.map((item, i) => unwrap(item, `[${i}]`));
  if (isObject(doc)) {
    for (const key of ['Tables', 'TableList', 'TableVersions'] as const) {
      const list = doc[key];
      if (list !== undefined) {
        if (!Array.isArray(list)) throw new SchemaCatalogError(`schema file ${source}: ${key} must be an array`);
        return list.map((item, i) => unwrap(item, `${key}[${i}]`));
      }
    }
    if (doc.Table !== undefined) return [unwrap(doc, '')];
  }
  throw new SchemaCatalogError(
    `schema file ${source}: expected {"Table": {...}}, an array of them, or {"Tables": [...]} as printed by aws glue get-table`,
  );
}

function readTable(raw: unknown, path: string, entryVersion: string | undefined, source: string): TableSchema {
  const where = (suffix: string) => `schema file ${source}: ${(path + suffix).replace(/^\./, '')}`;
  if (!isObject(raw)) throw new SchemaCatalogError(`${where('')} must be an object`);
  const name = raw.Name;
  const databaseName = raw.DatabaseName;
  if (typeof name !== 'string' || name === '') throw new SchemaCatalogError(`${where('.Name')} must be a non-empty string`);
  if (typeof databaseName !== 'string' || databaseName === '') {
    throw new SchemaCatalogError(`${where('.DatabaseName')} must be a non-empty string (table ${name})`);
  }
  const descriptor = raw.StorageDescriptor;
  if (!isObject(descriptor) || !Array.isArray(descriptor.Columns)) {
    throw new SchemaCatalogError(`${where('.StorageDescriptor.Columns')} must be an array (table ${databaseName}.${name})`);
  }
  const columns = readColumns(descriptor.Columns, `${path}.StorageDescriptor.Columns`, `${databaseName}.${name}`, source);
  if (columns.length === 0) throw new SchemaCatalogError(`${where('.StorageDescriptor.Columns')} is empty (table ${databaseName}.${name})`);
  const partitionKeys =
    raw.PartitionKeys === undefined ? [] : Array.isArray(raw.PartitionKeys)
      ? readColumns(raw.PartitionKeys, `${path}.PartitionKeys`, `${databaseName}.${name}`, source)
      : (() => {
          throw new SchemaCatalogError(`${where('.PartitionKeys')} must be an array (table ${databaseName}.${name})`);
        })();
  const versionId = entryVersion ?? (typeof raw.VersionId === 'string' ? raw.VersionId : undefined);
  const catalogId = typeof raw.CatalogId === 'string' ? raw.CatalogId : undefined;
  return { databaseName, tableName: name, versionId, catalogId, columns, partitionKeys };
}

function readColumns(list: unknown[], path: string, table: string, source: string): TableColumn[] {
  const seen = new Set<string>();
  return list.map((col, i) => {
    const where = `schema file ${source}: ${path.replace(/^\./, '')}[${i}]`;
    if (!isObject(col) || typeof col.Name !== 'string' || col.Name === '' || typeof col.Type !== 'string') {
      throw new SchemaCatalogError(`${where} needs a string Name and Type (table ${table})`);
    }
    const name = col.Name.toLowerCase();
    if (seen.has(name)) throw new SchemaCatalogError(`${where}: duplicate column '${col.Name}' (table ${table})`);
    seen.add(name);
    try {
      return { name, type: parseHiveType(col.Type), typeText: col.Type };
    } catch (err) {
      if (err instanceof HiveTypeError) {
        throw new SchemaCatalogError(`${where}: column '${col.Name}' of table ${table} has a bad type: ${err.message}`);
      }
      throw err;
    }
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
