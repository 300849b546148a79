/**
 * The lock a server holds on its data directory while it runs, so that a second server, or
 * `tributary check`, does not work on files a live server is writing.
 *
 * It is an operating-system lock (SQLite's, on the file `tributary.lock`, taken exclusive and
 * kept until closed): it goes with the process, so a killed server leaves no stale lock behind.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createPrivateFileSync } from '../../util/private-files.js';

export const LOCK_FILE = 'tributary.lock';

/** The data directory is held by another server (or check) that is running. */
export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

export class DataDirLock {
  private constructor(
    readonly path: string,
    private db: Database.Database | null,
  ) {}

  /** Takes the lock on `dir` (which must exist), or throws DataDirBusyError at once. */
  static acquire(dir: string): DataDirLock {
    const path = join(dir, LOCK_FILE);
    createPrivateFileSync(path);
    const db = new Database(path, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
        throw new DataDirBusyError(`the data directory ${dir} is in use by a running server (${path} is locked)`);
      }
      throw err;
    }
    return new DataDirLock(path, db);
  }

  release(): void {
    const db = this.db;
    this.db = null;
    db?.close();
  }
}
