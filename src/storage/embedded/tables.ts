import Database from 'better-sqlite3';
import { createPrivateFileSync } from '../../util/private-files.js';
import { TableConflictError, type ItemRange, type StoredItem, type TableDoc, type TableStore } from '../tables.js';

/**
 * The embedded table store: a SQLite database (`tables.sqlite` in the data directory) in WAL mode
 * with synchronous = FULL, so an acknowledged write survives a crash. Every write of a row raises
 * its revision by one; the conditional writes compare it inside one statement.
 *
 * Item writes are committed in groups: the writes that arrive while the event loop is busy run as
 * one transaction (one fsync), each statement deciding its own compare-and-set, and each write is
 * answered once that transaction has committed.
 */
interface PendingWrite {
  run: () => number | void;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  result?: number | void;
  error?: unknown;
}

export class SqliteTableStore implements TableStore {
  private readonly db: Database.Database;
  private readonly stmts: {
    listTables: Database.Statement<[], { doc: string }>;
    getTable: Database.Statement<[string], { doc: string; revision: number }>;
    insertTable: Database.Statement<[string, string]>;
    updateTable: Database.Statement<[string, string, number]>;
    deleteTable: Database.Statement<[string]>;
    deleteItems: Database.Statement<[string]>;
    getItem: Database.Statement<[string, string], { doc: string; revision: number }>;
    insertItem: Database.Statement<[string, string, string]>;
    updateItem: Database.Statement<[string, string, string, number]>;
    deleteItem: Database.Statement<[string, string, number]>;
    countItems: Database.Statement<[string], { n: number }>;
  };
  private readonly drop: (name: string, id: string) => void;
  private readonly commitGroup: (writes: PendingWrite[]) => void;
  private pending: PendingWrite[] = [];
  /** The prepared statements of items(), by their text (a few shapes of range). */
  private readonly rangeStatements = new Map<string, Database.Statement>();
  private scheduled = false;

  constructor(file: string) {
    // Made 0600 first: SQLite gives the -wal and -shm files the database file's mode.
    createPrivateFileSync(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ddb_tables (
        name     TEXT PRIMARY KEY,
        doc      TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE IF NOT EXISTS ddb_items (
        table_id TEXT NOT NULL,
        key      TEXT NOT NULL,
        doc      TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (table_id, key)
      ) WITHOUT ROWID;`);
    // Items a write stored while their table was being dropped belong to no table: remove them.
    this.db.exec(`DELETE FROM ddb_items WHERE table_id NOT IN (SELECT json_extract(doc, '$.id') FROM ddb_tables)`);
    this.stmts = {
      listTables: this.db.prepare('SELECT doc FROM ddb_tables ORDER BY name'),
      getTable: this.db.prepare('SELECT doc, revision FROM ddb_tables WHERE name = ?'),
      insertTable: this.db.prepare('INSERT OR IGNORE INTO ddb_tables (name, doc) VALUES (?, ?)'),
      updateTable: this.db.prepare('UPDATE ddb_tables SET doc = ?, revision = revision + 1 WHERE name = ? AND revision = ?'),
      deleteTable: this.db.prepare('DELETE FROM ddb_tables WHERE name = ?'),
      deleteItems: this.db.prepare('DELETE FROM ddb_items WHERE table_id = ?'),
      getItem: this.db.prepare('SELECT doc, revision FROM ddb_items WHERE table_id = ? AND key = ?'),
      insertItem: this.db.prepare('INSERT OR IGNORE INTO ddb_items (table_id, key, doc) VALUES (?, ?, ?)'),
      updateItem: this.db.prepare(
        'UPDATE ddb_items SET doc = ?, revision = revision + 1 WHERE table_id = ? AND key = ? AND revision = ?',
      ),
      deleteItem: this.db.prepare('DELETE FROM ddb_items WHERE table_id = ? AND key = ? AND revision = ?'),
      countItems: this.db.prepare('SELECT count(*) AS n FROM ddb_items WHERE table_id = ?'),
    };
    this.drop = this.db.transaction((name: string, id: string) => {
      this.stmts.deleteTable.run(name);
      this.stmts.deleteItems.run(id);
    });
    this.commitGroup = this.db.transaction((writes: PendingWrite[]) => {
      for (const w of writes) {
        try {
          w.result = w.run();
        } catch (err) {
          w.error = err;
        }
      }
    });
  }

  /** Runs a write in the next group commit; settles once it is durable. */
  private write<T extends number | void>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const writes = this.pending;
    this.pending = [];
    if (writes.length === 0) return;
    try {
      this.commitGroup(writes);
    } catch (err) {
      for (const w of writes) w.reject(err);
      return;
    }
    for (const w of writes) {
      if (w.error !== undefined) w.reject(w.error);
      else w.resolve(w.result);
    }
  }

  async listTables(): Promise<TableDoc[]> {
    return this.stmts.listTables.all().map((r) => JSON.parse(r.doc) as TableDoc);
  }

  async getTable(name: string): Promise<{ value: TableDoc; revision: number } | undefined> {
    const row = this.stmts.getTable.get(name);
    return row && { value: JSON.parse(row.doc) as TableDoc, revision: row.revision };
  }

  async putTableIf(doc: TableDoc, revision: number): Promise<number> {
    const text = JSON.stringify(doc);
    if (revision === 0) {
      if (this.stmts.insertTable.run(doc.name, text).changes === 0) throw new TableConflictError(`table ${doc.name} exists`);
      return 1;
    }
    if (this.stmts.updateTable.run(text, doc.name, revision).changes === 0) {
      throw new TableConflictError(`table ${doc.name} is not at revision ${revision}`);
    }
    return revision + 1;
  }

  async dropTable(name: string, id: string): Promise<void> {
    this.drop(name, id);
  }

  async getItem(tableId: string, key: string): Promise<StoredItem | undefined> {
    const row = this.stmts.getItem.get(tableId, key);
    return row && { key, doc: row.doc, revision: row.revision };
  }

  putItemIf(tableId: string, key: string, doc: string, revision: number): Promise<number> {
    return this.write(() => {
      if (revision === 0) {
        if (this.stmts.insertItem.run(tableId, key, doc).changes === 0) throw new TableConflictError('item exists');
        return 1;
      }
      if (this.stmts.updateItem.run(doc, tableId, key, revision).changes === 0) {
        throw new TableConflictError(`item is not at revision ${revision}`);
      }
      return revision + 1;
    });
  }

  deleteItemIf(tableId: string, key: string, revision: number): Promise<void> {
    return this.write(() => {
      if (this.stmts.deleteItem.run(tableId, key, revision).changes === 0) {
        throw new TableConflictError(`item is not at revision ${revision}`);
      }
    });
  }

  async items(tableId: string, range: ItemRange = {}): Promise<StoredItem[]> {
    let sql = 'SELECT key, doc, revision FROM ddb_items WHERE table_id = ?';
    const params: (string | number)[] = [tableId];
    if (range.prefix !== undefined && range.prefix !== '') {
      // Keys are lower-case hex, so every key with the prefix sorts below prefix + 'g'.
      sql += ' AND key >= ? AND key < ?';
      params.push(range.prefix, `${range.prefix}g`);
    }
    if (range.after !== undefined) {
      sql += ' AND key > ?';
      params.push(range.after);
    }
    sql += ' ORDER BY key';
    if (range.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(range.limit);
    }
    let stmt = this.rangeStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.rangeStatements.set(sql, stmt);
    }
    return stmt.all(...params) as StoredItem[];
  }

  async countItems(tableId: string): Promise<number> {
    return this.stmts.countItems.get(tableId)?.n ?? 0;
  }

  async close(): Promise<void> {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
