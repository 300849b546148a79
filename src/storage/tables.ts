/**
 * Storage for the DynamoDB tables the server serves (lease tables): one document per table and one
 * per item. Both carry a revision that every write raises, so that a writer that read revision r
 * can write only if nobody wrote since (compare-and-set). Revision 0 means "absent".
 *
 * Items are addressed by the table's id (unique per incarnation of a table, so that a table created
 * again under an old name starts empty) and by an item key: a string whose ordinal order is the
 * order of the item's primary key (hash key, then range key), so that scans come back in a stable
 * order and can resume after any key. Item keys are lower-case hexadecimal text.
 */

/** The table's metadata, as the DynamoDB service keeps it; storage treats it as opaque JSON. */
export interface TableDoc {
  /** Unique for this incarnation of the table; items are stored under it. */
  id: string;
  name: string;
  [field: string]: unknown;
}

export interface StoredItem {
  /** The order-preserving item key. */
  key: string;
  /** The item's document (JSON text). */
  doc: string;
  revision: number;
}

export interface ItemRange {
  /** Only keys that start with this prefix. */
  prefix?: string;
  /** Only keys after this one (exclusive), in ascending order. */
  after?: string;
  /** At most this many items. */
  limit?: number;
}

export class TableConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableConflictError';
  }
}

export interface TableStore {
  /** Every table, by name. */
  listTables(): Promise<TableDoc[]>;
  getTable(name: string): Promise<{ value: TableDoc; revision: number } | undefined>;
  /** Writes the table document if its revision is still `revision` (0: only if absent); the new revision. */
  putTableIf(doc: TableDoc, revision: number): Promise<number>;
  /** Removes the table document and every item stored under its id. */
  dropTable(name: string, id: string): Promise<void>;

  getItem(tableId: string, key: string): Promise<StoredItem | undefined>;
  /**
   * Writes an item if its revision is still `revision` (0: only if absent); the new revision.
   * Throws TableConflictError when another write came first.
   */
  putItemIf(tableId: string, key: string, doc: string, revision: number): Promise<number>;
  /** Deletes an item if its revision is still `revision`; throws TableConflictError otherwise. */
  deleteItemIf(tableId: string, key: string, revision: number): Promise<void>;
  /** Items of a table in ascending key order. */
  items(tableId: string, range?: ItemRange): Promise<StoredItem[]>;
  /** How many items a table holds. */
  countItems(tableId: string): Promise<number>;

  close(): Promise<void>;
}
