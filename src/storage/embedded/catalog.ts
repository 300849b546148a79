import Database from 'better-sqlite3';
import { createPrivateFileSync } from '../../util/private-files.js';
import { CatalogConflictError, type Catalog, type MetricRow, type Revisioned, type StreamMeta } from '../catalog.js';

/**
 * The embedded catalog: one SQLite database in the data directory. Each row has a revision that
 * every write raises by one, for the compare-and-set writes.
 */
export class SqliteCatalog implements Catalog {
  private readonly db: Database.Database;
  private readonly stmts: {
    load: Database.Statement<[], { doc: string }>;
    get: Database.Statement<[string], { doc: string; revision: number }>;
    put: Database.Statement<[string, string, string]>;
    insert: Database.Statement<[string, string, string]>;
    replace: Database.Statement<[string, string, string, number]>;
    del: Database.Statement<[string]>;
    getSetting: Database.Statement<[string], { value: string; revision: number }>;
    putSetting: Database.Statement<[string, string]>;
    insertSetting: Database.Statement<[string, string]>;
    replaceSetting: Database.Statement<[string, string, number]>;
    appendMetric: Database.Statement<[string, number, number, string, number, number, number]>;
    readMetrics: Database.Statement<[string, number, number], MetricRow>;
    deleteMetrics: Database.Statement<[number]>;
  };
  private readonly appendMetricRows: (rows: readonly MetricRow[]) => void;

  constructor(file: string) {
    // Made 0600 first: SQLite gives the -wal and -shm files the database file's mode.
    createPrivateFileSync(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS streams (
        key      TEXT PRIMARY KEY,
        name     TEXT NOT NULL,
        doc      TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE IF NOT EXISTS settings (
        name     TEXT PRIMARY KEY,
        value    TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE IF NOT EXISTS metrics (
        stream TEXT    NOT NULL,
        shard  INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        name   TEXT    NOT NULL,
        sum    REAL    NOT NULL,
        count  REAL    NOT NULL,
        max    REAL    NOT NULL,
        PRIMARY KEY (stream, minute, shard, name)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS metrics_by_minute ON metrics (minute);`);
    // Databases written before revisions existed.
    for (const table of ['streams', 'settings']) {
      const columns = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!columns.some((c) => c.name === 'revision')) {
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 1`);
      }
    }
    this.stmts = {
      load: this.db.prepare('SELECT doc FROM streams ORDER BY name'),
      get: this.db.prepare('SELECT doc, revision FROM streams WHERE key = ?'),
      put: this.db.prepare(
        `INSERT INTO streams (key, name, doc) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET name = excluded.name, doc = excluded.doc, revision = revision + 1`,
      ),
      insert: this.db.prepare('INSERT OR IGNORE INTO streams (key, name, doc) VALUES (?, ?, ?)'),
      replace: this.db.prepare('UPDATE streams SET name = ?, doc = ?, revision = revision + 1 WHERE key = ? AND revision = ?'),
      del: this.db.prepare('DELETE FROM streams WHERE key = ?'),
      getSetting: this.db.prepare('SELECT value, revision FROM settings WHERE name = ?'),
      putSetting: this.db.prepare(
        `INSERT INTO settings (name, value) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, revision = revision + 1`,
      ),
      insertSetting: this.db.prepare('INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)'),
      replaceSetting: this.db.prepare('UPDATE settings SET value = ?, revision = revision + 1 WHERE name = ? AND revision = ?'),
      appendMetric: this.db.prepare(
        `INSERT INTO metrics (stream, shard, minute, name, sum, count, max) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (stream, minute, shard, name) DO UPDATE SET
           sum = sum + excluded.sum, count = count + excluded.count, max = MAX(max, excluded.max)`,
      ),
      readMetrics: this.db.prepare(
        'SELECT stream, shard, minute, name, sum, count, max FROM metrics WHERE stream = ? AND minute BETWEEN ? AND ? ORDER BY minute, shard, name',
      ),
      deleteMetrics: this.db.prepare('DELETE FROM metrics WHERE minute < ?'),
    };
    this.appendMetricRows = this.db.transaction((rows: readonly MetricRow[]) => {
      for (const r of rows) this.stmts.appendMetric.run(r.stream, r.shard, r.minute, r.name, r.sum, r.count, r.max);
    });
  }

  async loadStreams(): Promise<StreamMeta[]> {
    return this.stmts.load.all().map((row) => JSON.parse(row.doc) as StreamMeta);
  }

  async putStream(stream: StreamMeta): Promise<void> {
    this.stmts.put.run(stream.key, stream.name, JSON.stringify(stream));
  }

  async deleteStream(key: string): Promise<void> {
    this.stmts.del.run(key);
  }

  async getSetting(name: string): Promise<string | undefined> {
    return this.stmts.getSetting.get(name)?.value;
  }

  async putSetting(name: string, value: string): Promise<void> {
    this.stmts.putSetting.run(name, value);
  }

  async getStream(key: string): Promise<Revisioned<StreamMeta> | undefined> {
    const row = this.stmts.get.get(key);
    return row && { value: JSON.parse(row.doc) as StreamMeta, revision: row.revision };
  }

  async putStreamIf(stream: StreamMeta, revision: number): Promise<number> {
    const doc = JSON.stringify(stream);
    const changed =
      revision === 0
        ? this.stmts.insert.run(stream.key, stream.name, doc).changes
        : this.stmts.replace.run(stream.name, doc, stream.key, revision).changes;
    if (changed === 0) throw new CatalogConflictError(`stream ${stream.key} is not at revision ${revision}`);
    return revision + 1;
  }

  async getSettingRevisioned(name: string): Promise<Revisioned<string> | undefined> {
    const row = this.stmts.getSetting.get(name);
    return row && { value: row.value, revision: row.revision };
  }

  async putSettingIf(name: string, value: string, revision: number): Promise<number> {
    const changed =
      revision === 0 ? this.stmts.insertSetting.run(name, value).changes : this.stmts.replaceSetting.run(value, name, revision).changes;
    if (changed === 0) throw new CatalogConflictError(`setting ${name} is not at revision ${revision}`);
    return revision + 1;
  }

  async appendMetrics(rows: readonly MetricRow[]): Promise<void> {
    if (rows.length > 0) this.appendMetricRows(rows);
  }

  async readMetrics(stream: string, fromMinute: number, toMinute: number): Promise<MetricRow[]> {
    return this.stmts.readMetrics.all(stream, fromMinute, toMinute);
  }

  async deleteMetricsBefore(minute: number): Promise<void> {
    this.stmts.deleteMetrics.run(minute);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
