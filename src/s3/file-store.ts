import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, openSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import type { FsyncMode } from '../storage/types.js';
import { createPrivateFileSync, mkdirPrivateSync, PRIVATE_FILE_MODE } from '../util/private-files.js';
import type { BlobSink, BucketRecord, ListEntry, ObjectRecord, ObjectStore, PartRecord, UploadRecord, WriteCondition } from './store.js';

/**
 * The embedded object store: each object's bytes are one file under `<dir>/<bucket>/`, named by
 * a random blob id, and everything else is in `<dir>/buckets.sqlite` (WAL). A blob is written
 * under `<dir>/.incoming/`, fsynced, renamed into its bucket's directory and that directory
 * fsynced before the transaction that publishes it commits; a replaced or deleted object's file
 * is removed after its transaction. On open, incoming files and files no row refers to (left
 * by a crash between those steps) are removed. Files are 0600, directories 0700.
 *
 * With fsync `always` blobs and the database are made durable before a write is acknowledged;
 * otherwise durability is left to the OS.
 */
export class FileObjectStore implements ObjectStore {
  private readonly db: Database.Database;
  private readonly incoming: string;
  private readonly sync: boolean;
  private readonly q;
  private readonly tx;

  constructor(private readonly dir: string, fsync: FsyncMode) {
    this.sync = fsync === 'always';
    mkdirPrivateSync(dir);
    this.incoming = path.join(dir, '.incoming');
    rmSync(this.incoming, { recursive: true, force: true });
    mkdirPrivateSync(this.incoming);
    const dbFile = path.join(dir, 'buckets.sqlite');
    // Made 0600 first: SQLite gives its -wal and -shm files the database file's mode.
    createPrivateFileSync(dbFile);
    this.db = new Database(dbFile);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.sync ? 'FULL' : 'NORMAL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS s3_buckets (
        name TEXT PRIMARY KEY, region TEXT NOT NULL, created INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS s3_objects (
        bucket TEXT NOT NULL, key BLOB NOT NULL, blob TEXT NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (bucket, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS s3_uploads (
        upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS s3_uploads_by_key ON s3_uploads (bucket, key);
      CREATE TABLE IF NOT EXISTS s3_parts (
        upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob TEXT NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)
      ) WITHOUT ROWID;`);
    const db = this.db;
    this.q = {
      insertBucket: db.prepare<[string, string, number]>('INSERT OR IGNORE INTO s3_buckets (name, region, created) VALUES (?, ?, ?)'),
      bucket: db.prepare<[string], { name: string; region: string; created: number }>('SELECT * FROM s3_buckets WHERE name = ?'),
      buckets: db.prepare<[], { name: string; region: string; created: number }>('SELECT * FROM s3_buckets ORDER BY name'),
      deleteBucket: db.prepare<[string]>('DELETE FROM s3_buckets WHERE name = ?'),
      anyObject: db.prepare<[string], { n: number }>('SELECT 1 AS n FROM s3_objects WHERE bucket = ? LIMIT 1'),
      anyUpload: db.prepare<[string], { n: number }>('SELECT 1 AS n FROM s3_uploads WHERE bucket = ? LIMIT 1'),
      object: db.prepare<[string, Buffer], { blob: string; doc: string }>('SELECT blob, doc FROM s3_objects WHERE bucket = ? AND key = ?'),
      putObject: db.prepare<[string, Buffer, string, string]>('INSERT OR REPLACE INTO s3_objects (bucket, key, blob, doc) VALUES (?, ?, ?, ?)'),
      deleteObject: db.prepare<[string, Buffer]>('DELETE FROM s3_objects WHERE bucket = ? AND key = ?'),
      listFrom: db.prepare<[string, Buffer, Buffer, Buffer, number], { key: Buffer; doc: string }>(
        'SELECT key, doc FROM s3_objects WHERE bucket = ? AND key > ? AND key >= ? AND key < ? ORDER BY key LIMIT ?',
      ),
      insertUpload: db.prepare<[string, string, Buffer, string]>('INSERT INTO s3_uploads (upload_id, bucket, key, doc) VALUES (?, ?, ?, ?)'),
      upload: db.prepare<[string], { doc: string }>('SELECT doc FROM s3_uploads WHERE upload_id = ?'),
      uploads: db.prepare<[string], { doc: string }>('SELECT doc FROM s3_uploads WHERE bucket = ? ORDER BY key, upload_id'),
      deleteUpload: db.prepare<[string]>('DELETE FROM s3_uploads WHERE upload_id = ?'),
      part: db.prepare<[string, number], { blob: string }>('SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?'),
      putPart: db.prepare<[string, number, string, string]>('INSERT OR REPLACE INTO s3_parts (upload_id, part_number, blob, doc) VALUES (?, ?, ?, ?)'),
      parts: db.prepare<[string], { blob: string; doc: string }>('SELECT blob, doc FROM s3_parts WHERE upload_id = ? ORDER BY part_number'),
      deleteParts: db.prepare<[string]>('DELETE FROM s3_parts WHERE upload_id = ?'),
      allBlobs: db.prepare<[], { blob: string }>('SELECT blob FROM s3_objects UNION ALL SELECT blob FROM s3_parts'),
    };
    this.tx = {
      put: db.transaction((r: ObjectRecord, blob: string, cond: WriteCondition | undefined): { ok: boolean; old?: string } => {
        const key = Buffer.from(r.key, 'utf8');
        const old = this.q.object.get(r.bucket, key);
        if (cond?.ifNoneMatch && old) return { ok: false };
        if (cond?.ifMatch !== undefined && (!old || (JSON.parse(old.doc) as ObjectRecord).etag !== cond.ifMatch)) return { ok: false };
        this.q.putObject.run(r.bucket, key, blob, JSON.stringify(r));
        return { ok: true, old: old?.blob };
      }),
      putPart: db.transaction((uploadId: string, part: PartRecord, blob: string): { ok: boolean; old?: string } => {
        if (!this.q.upload.get(uploadId)) return { ok: false };
        const old = this.q.part.get(uploadId, part.partNumber);
        this.q.putPart.run(uploadId, part.partNumber, blob, JSON.stringify(part));
        return { ok: true, old: old?.blob };
      }),
      complete: db.transaction((uploadId: string, r: ObjectRecord, blob: string): { ok: boolean; drop: string[] } => {
        if (!this.q.upload.get(uploadId)) return { ok: false, drop: [] };
        const drop = this.q.parts.all(uploadId).map((p) => p.blob);
        const key = Buffer.from(r.key, 'utf8');
        const old = this.q.object.get(r.bucket, key);
        if (old) drop.push(old.blob);
        this.q.putObject.run(r.bucket, key, blob, JSON.stringify(r));
        this.q.deleteParts.run(uploadId);
        this.q.deleteUpload.run(uploadId);
        return { ok: true, drop };
      }),
      abort: db.transaction((uploadId: string): { ok: boolean; drop: string[] } => {
        if (!this.q.upload.get(uploadId)) return { ok: false, drop: [] };
        const drop = this.q.parts.all(uploadId).map((p) => p.blob);
        this.q.deleteParts.run(uploadId);
        this.q.deleteUpload.run(uploadId);
        return { ok: true, drop };
      }),
      deleteBucket: db.transaction((name: string): 'deleted' | 'missing' | 'not-empty' => {
        if (!this.q.bucket.get(name)) return 'missing';
        if (this.q.anyObject.get(name) || this.q.anyUpload.get(name)) return 'not-empty';
        this.q.deleteBucket.run(name);
        return 'deleted';
      }),
    };
    this.removeOrphans();
  }

  /** Files a crash left between writing a blob and publishing (or after unpublishing) it. */
  private removeOrphans(): void {
    const known = new Set(this.q.allBlobs.all().map((r) => r.blob));
    for (const b of this.q.buckets.all()) {
      const d = path.join(this.dir, b.name);
      mkdirPrivateSync(d);
      for (const f of readdirSync(d)) if (!known.has(f)) rmSync(path.join(d, f), { force: true });
    }
  }

  private blobPath(bucket: string, blob: string): string {
    return path.join(this.dir, bucket, blob);
  }

  private async syncDir(dir: string): Promise<void> {
    if (!this.sync) return;
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private dropBlobs(bucket: string, blobs: readonly (string | undefined)[]): void {
    for (const b of blobs) if (b) unlink(this.blobPath(bucket, b)).catch(() => {});
  }

  async createBucket(name: string, region: string, now: number): Promise<'created' | 'exists'> {
    mkdirPrivateSync(path.join(this.dir, name));
    return this.q.insertBucket.run(name, region, now).changes === 1 ? 'created' : 'exists';
  }

  async bucket(name: string): Promise<BucketRecord | undefined> {
    const r = this.q.bucket.get(name);
    return r && { name: r.name, region: r.region, createdAt: r.created };
  }

  async buckets(): Promise<BucketRecord[]> {
    return this.q.buckets.all().map((r) => ({ name: r.name, region: r.region, createdAt: r.created }));
  }

  async deleteBucket(name: string): Promise<'deleted' | 'missing' | 'not-empty'> {
    const result = this.tx.deleteBucket(name);
    if (result === 'deleted') rm(path.join(this.dir, name), { recursive: true, force: true }).catch(() => {});
    return result;
  }

  blob(bucket: string): BlobSink {
    const id = randomBytes(16).toString('hex');
    const tmp = path.join(this.incoming, id);
    const stream = createWriteStream(tmp, { flags: 'wx', mode: PRIVATE_FILE_MODE });
    let settled = false;
    return {
      stream,
      commit: async () => {
        settled = true;
        if (this.sync) {
          const fh = await open(tmp, 'r+');
          try {
            await fh.sync();
          } finally {
            await fh.close();
          }
        }
        const dir = path.join(this.dir, bucket);
        await rename(tmp, path.join(dir, id));
        await this.syncDir(dir);
        return id;
      },
      discard: async () => {
        if (settled) return;
        settled = true;
        stream.destroy();
        await rm(tmp, { force: true });
      },
    };
  }

  async concat(bucket: string, sources: readonly { bucket: string; blob: string; start?: number; end?: number }[]): Promise<string> {
    const sink = this.blob(bucket);
    try {
      for (let i = 0; i < sources.length; i++) {
        const s = sources[i]!;
        const read = createReadStream(this.blobPath(s.bucket, s.blob), { start: s.start, end: s.end });
        await pipeline(read, sink.stream, { end: i === sources.length - 1 });
      }
      if (sources.length === 0) sink.stream.end();
      if (!sink.stream.writableFinished) await new Promise<void>((resolve, reject) => {
        sink.stream.once('finish', resolve);
        sink.stream.once('error', reject);
      });
      return await sink.commit();
    } catch (err) {
      await sink.discard();
      throw err;
    }
  }

  async object(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const r = this.q.object.get(bucket, Buffer.from(key, 'utf8'));
    return r && (JSON.parse(r.doc) as ObjectRecord);
  }

  async read(bucket: string, key: string, range?: { start: number; end: number }) {
    const r = this.q.object.get(bucket, Buffer.from(key, 'utf8'));
    if (!r) return undefined;
    // Opened in the same step as the row is read: a later overwrite unlinks the file, not this read.
    const fd = openSync(this.blobPath(bucket, r.blob), 'r');
    const record = JSON.parse(r.doc) as ObjectRecord;
    return { record, body: createReadStream('', { fd, start: range?.start, end: range?.end }) };
  }

  async putObject(record: ObjectRecord, blob: string, condition?: WriteCondition): Promise<boolean> {
    const { ok, old } = this.tx.put(record, blob, condition);
    this.dropBlobs(record.bucket, ok ? [old] : [blob]);
    return ok;
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const k = Buffer.from(key, 'utf8');
    const old = this.q.object.get(bucket, k);
    if (!old) return;
    this.q.deleteObject.run(bucket, k);
    this.dropBlobs(bucket, [old.blob]);
  }

  async list(bucket: string, after: Buffer | undefined, prefix: Buffer, limit: number): Promise<ListEntry[]> {
    // Valid UTF-8 never holds 0xFF: every key under the prefix is below prefix‖FF.
    const upper = Buffer.concat([prefix, Buffer.from([0xff])]);
    return this.q.listFrom
      .all(bucket, after ?? Buffer.alloc(0), prefix, upper, limit)
      .map((r) => ({ key: r.key, record: JSON.parse(r.doc) as ObjectRecord }));
  }

  async createUpload(u: UploadRecord): Promise<void> {
    this.q.insertUpload.run(u.uploadId, u.bucket, Buffer.from(u.key, 'utf8'), JSON.stringify(u));
  }

  async upload(uploadId: string): Promise<UploadRecord | undefined> {
    return this.uploadNow(uploadId);
  }

  private uploadNow(uploadId: string): UploadRecord | undefined {
    const r = this.q.upload.get(uploadId);
    return r && (JSON.parse(r.doc) as UploadRecord);
  }

  async uploads(bucket: string): Promise<UploadRecord[]> {
    return this.q.uploads.all(bucket).map((r) => JSON.parse(r.doc) as UploadRecord);
  }

  async putPart(uploadId: string, part: PartRecord, blob: string): Promise<boolean> {
    const u = this.uploadNow(uploadId);
    const { ok, old } = this.tx.putPart(uploadId, part, blob);
    if (u) this.dropBlobs(u.bucket, ok ? [old] : [blob]);
    return ok;
  }

  async parts(uploadId: string): Promise<(PartRecord & { blob: string })[]> {
    return this.q.parts.all(uploadId).map((r) => ({ ...(JSON.parse(r.doc) as PartRecord), blob: r.blob }));
  }

  async completeUpload(uploadId: string, record: ObjectRecord, blob: string): Promise<boolean> {
    const { ok, drop } = this.tx.complete(uploadId, record, blob);
    this.dropBlobs(record.bucket, ok ? drop : [blob]);
    return ok;
  }

  async abortUpload(uploadId: string): Promise<boolean> {
    const u = this.uploadNow(uploadId);
    const { ok, drop } = this.tx.abort(uploadId);
    if (u) this.dropBlobs(u.bucket, drop);
    return ok;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
