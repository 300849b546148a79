/**
 * The Iceberg tables this server writes, as the catalog keeps them: an index (one setting listing
 * every table) and, per table, the pointer to its current metadata file (table.ts). The REST
 * catalog (rest-catalog.ts) answers from both.
 */
import { CatalogConflictError } from '../../storage/catalog.js';
import type { PointerStore, TablePointer } from './table.js';

const INDEX = 'iceberg/tables';

export interface RegisteredTable {
  tableBucketArn: string;
  namespace: string;
  name: string;
  /** The general purpose bucket the table's files are in. */
  bucket: string;
}

export function tablePointerName(tableBucketArn: string, namespace: string, name: string): string {
  return `iceberg/table/${tableBucketArn}/${namespace}/${name}`;
}

export type RegistryStore = PointerStore & { getSetting(name: string): Promise<string | undefined> };

export async function listTables(store: Pick<RegistryStore, 'getSetting'>): Promise<RegisteredTable[]> {
  return JSON.parse((await store.getSetting(INDEX)) ?? '[]') as RegisteredTable[];
}

/** Adds a table to the index unless it is there (compare-and-set, retried on conflict). */
export async function registerTable(store: RegistryStore, table: RegisteredTable): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = await store.getSettingRevisioned(INDEX);
    const list = JSON.parse(current?.value ?? '[]') as RegisteredTable[];
    if (list.some((t) => t.tableBucketArn === table.tableBucketArn && t.namespace === table.namespace && t.name === table.name)) return;
    list.push(table);
    try {
      await store.putSettingIf(INDEX, JSON.stringify(list), current?.revision ?? 0);
      return;
    } catch (err) {
      if (!(err instanceof CatalogConflictError)) throw err;
    }
  }
  throw new Error('the table index could not be updated');
}

export async function tablePointer(store: Pick<RegistryStore, 'getSetting'>, t: RegisteredTable): Promise<TablePointer | undefined> {
  const text = await store.getSetting(tablePointerName(t.tableBucketArn, t.namespace, t.name));
  return text === undefined ? undefined : (JSON.parse(text) as TablePointer);
}
