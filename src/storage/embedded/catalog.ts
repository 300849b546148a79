import Database from 'better-sqlite3';
import type { Catalog, StreamMeta } from '../catalog.js';

/** The embedded catalog: one SQLite database in the data directory. */
export class SqliteCatalog implements Catalog {
  private readonly db: Database.Database;
  private readonly stmts: {
    load: Database.Statement<[], { doc: string }>;
    put: Database.Statement<[string, string, string]>;
    del: Database.Statement<[string]>;
    getSetting: Database.Statement<[string], { value: string }>;
    putSetting: Database.Statement<[string, string]>;
  };

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS streams (
        key  TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        doc  TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );`);
    this.stmts = {
      load: this.db.prepare('SELECT doc FROM streams ORDER BY name'),
      put: this.db.prepare('INSERT OR REPLACE INTO streams (key, name, doc) VALUES (?, ?, ?)'),
      del: this.db.prepare('DELETE FROM streams WHERE key = ?'),
      getSetting: this.db.prepare('SELECT value FROM settings WHERE name = ?'),
      putSetting: this.db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)'),
    };
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

  async close(): Promise<void> {
    this.db.close();
  }
}
