/**
 * The Amazon Redshift destination, loading into PostgreSQL (spec firehose.md §10, §11; AWS's
 * "Handle data delivery failures" for Redshift).
 *
 * As Firehose does, a buffer is first written as an intermediate object to the bucket of
 * S3Configuration (under its prefix and `yyyy/MM/dd/HH/`, compressed as configured), then a
 * manifest naming the objects (`{"entries":[{"url":"s3://…","mandatory":true}]}`) under
 * `<prefix>manifests/yyyy/MM/dd/HH/`, then the objects are copied into the table with COPY
 * (redshift-copy.ts translates the options), all objects of a manifest in one transaction: a
 * batch loads whole or not at all. A failed COPY (or connection) is retried with the same
 * manifest; when the retry duration has passed since the first attempt, the manifest is written
 * under `<prefix>errors/manifests/yyyy/MM/dd/HH/` and delivery moves on. Records that arrive
 * while a batch is being retried join it as one more object of its manifest.
 *
 * Delivery is at least once, as AWS documents for every destination (Redshift included). Loads
 * are kept from repeating where that is cheap: before a COPY's transaction commits, its
 * transaction id and the offsets of its records are written to a journal (the catalog). After a
 * restart, or a COMMIT whose answer was lost, the journal's transactions are looked up with
 * `txid_status()`; records of a committed one are not loaded again, so a crash between the COMMIT
 * and the saving of the stream's progress does not duplicate rows. Entries below the saved
 * progress are dropped from the journal.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
// The PostgreSQL client loads with the first load, not with the server.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { BatchDestination, DeliveryBatch } from '../pipeline.js';
import type { DeliveryRecord, FailedRecord } from '../records.js';
import { copyStatement, jsonRows, manifestBody, unquote, withoutHeader, type CopyPlan, type JdbcTarget } from './redshift-copy.js';

const gunzip = promisify(gunzipCallback);

/** The error output type of a batch whose COPY was given up (its manifest goes to errors/manifests). */
export const REDSHIFT_SKIPPED = 'redshift-copy-failed';
/** How long a connection attempt may take. */
const CONNECT_TIMEOUT_MS = 30_000;

/** A batch's objects and manifest in the intermediate bucket. */
export interface IntermediateStore {
  /** Writes an intermediate object of these records; resolves with its s3:// URL and body (compressed as configured). */
  writeObject(records: DeliveryRecord[], oldestArrival: number, now: number): Promise<{ url: string; body: Buffer }>;
  /** Writes a manifest under `manifests/` or, for a batch given up, `errors/manifests/`; resolves with its s3:// URL. */
  writeManifest(kind: 'manifests' | 'errors/manifests', body: Buffer, oldestArrival: number, now: number): Promise<string>;
  /** Writes records that failed before loading (processing) under the error output prefix. */
  writeFailures(failed: FailedRecord[], now: number): Promise<void>;
}

/** What loads a manifest's objects: all of them in one transaction, or none. */
export interface TableLoader {
  /** The database loaded into (`host:port/database`): journal entries of another one are not looked up there. */
  readonly identity: string;
  /** Loads the objects; `beforeCommit` is given the transaction's id and must resolve before it commits. */
  load(objects: readonly Buffer[], beforeCommit?: (xid: string) => Promise<void>): Promise<{ rows: number }>;
  /** The outcome of earlier transactions: `committed`, `aborted`, `in progress`, or null when too old to tell. */
  status(xids: readonly string[]): Promise<Map<string, string | null>>;
  close(): Promise<void>;
}

/** A load whose transaction was about to commit: its id and the offsets of its first and last record. */
export interface JournalEntry {
  /** The loader's identity. */
  target: string;
  xid: string;
  first: number;
  last: number;
}

/** Where the journal of loads is kept (the catalog), and the stream's saved progress. */
export interface LoadJournal {
  read(): Promise<JournalEntry[]>;
  write(entries: readonly JournalEntry[]): Promise<void>;
  /** Records below this offset will not be delivered again. */
  deliveredOffset(): Promise<number>;
}

export interface RedshiftDestinationOptions {
  store: IntermediateStore;
  loader: TableLoader;
  /** RetryOptions.DurationInSeconds in ms (default 3600 s). */
  retryForMs: number;
  /** S3BackupMode Enabled: the source records also go here. */
  backup?: BatchDestination | undefined;
  /** Without it, a load repeated after a crash duplicates its rows (at least once). */
  journal?: LoadJournal | undefined;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

interface PendingLoad {
  objects: { url: string; body: Buffer }[];
  /** Records of the batch written to objects so far. */
  covered: number;
  oldestArrival: number;
  manifest?: { url: string; body: Buffer; objects: number };
}

/** At most this many batches are kept pending (the Redshift destination has one buffer; this bounds a misuse). */
const MAX_PENDING = 64;

export class RedshiftDestination implements BatchDestination {
  readonly retryForMs: number;
  /** Batches written to S3 but not loaded yet, by their first record's id. */
  private readonly pending = new Map<string, PendingLoad>();
  /** Journal entries known committed, and those whose outcome is to be looked up (read at the first delivery). */
  private committed: JournalEntry[] = [];
  private unsettled: JournalEntry[] | undefined;

  constructor(private readonly o: RedshiftDestinationOptions) {
    this.retryForMs = o.retryForMs;
  }

  async deliver(batch: DeliveryBatch, now: number): Promise<{ failed: FailedRecord[] }> {
    if (this.o.journal) await this.settle();
    const fresh = this.notLoaded(batch.records);
    if (fresh.length === 0) {
      this.o.logger?.info({ records: batch.records.length }, 'these records were loaded before a restart: not loaded again');
      return { failed: [] };
    }
    const toLoad = fresh.length === batch.records.length ? batch : { ...batch, records: fresh, bytes: fresh.reduce((n, r) => n + r.data.length, 0) };
    // Pending loads are known by their first record to load (the same in every attempt at the batch).
    const key = fresh[0]!.id;
    const load = await this.prepare(toLoad, now);
    const entry: JournalEntry = { target: this.o.loader.identity, xid: '', first: fresh[0]!.offset, last: fresh[fresh.length - 1]!.offset };
    const journal = this.o.journal;
    const beforeCommit = journal
      ? async (xid: string) => {
          entry.xid = xid;
          await this.writeJournal(journal, [...this.committed, ...(this.unsettled ?? []), entry]);
        }
      : undefined;
    let rows: number;
    try {
      ({ rows } = await this.o.loader.load(load.objects.map((o) => o.body), beforeCommit));
    } catch (err) {
      // A COMMIT whose answer was lost may have committed: its outcome is looked up before the next load.
      if (entry.xid !== '') (this.unsettled ??= []).push(entry);
      throw err;
    }
    if (entry.xid !== '') this.committed.push(entry);
    this.pending.delete(key);
    this.o.logger?.info({ manifest: load.manifest?.url, objects: load.objects.length, rows }, 'COPY committed');
    return { failed: [] };
  }

  /** The records no committed load of the journal holds (offsets only grow: usually all of them, found without a search). */
  private notLoaded(records: DeliveryRecord[]): DeliveryRecord[] {
    let highest = -1;
    for (const e of this.committed) highest = Math.max(highest, e.last);
    if (records.length === 0 || records[0]!.offset > highest) return records;
    return records.filter((r) => !this.committed.some((e) => r.offset >= e.first && r.offset <= e.last));
  }

  /** Reads the journal (once), looks up the outcome of loads not known, and keeps the committed ones. */
  private async settle(): Promise<void> {
    // Entries of another database (the destination was changed) cannot be looked up: they are dropped.
    this.unsettled ??= (await this.o.journal!.read()).filter((e) => e.target === this.o.loader.identity);
    if (this.unsettled.length === 0) return;
    const status = await this.o.loader.status(this.unsettled.map((e) => e.xid));
    const still: JournalEntry[] = [];
    for (const entry of this.unsettled) {
      const s = status.get(entry.xid);
      if (s === 'committed') this.committed.push(entry);
      else if (s === 'in progress') still.push(entry);
    }
    this.unsettled = still;
    if (still.length > 0) throw new Error(`an earlier COPY (transaction ${still[0]!.xid}) is still in progress`);
  }

  private async writeJournal(journal: LoadJournal, entries: JournalEntry[]): Promise<void> {
    const delivered = await journal.deliveredOffset();
    this.committed = this.committed.filter((e) => e.last >= delivered);
    await journal.write(entries.filter((e) => e.last >= delivered));
  }

  async deliverFailures(failed: FailedRecord[], now: number): Promise<void> {
    const skipped = failed.filter((f) => f.errorOutputType === REDSHIFT_SKIPPED);
    const others = failed.filter((f) => f.errorOutputType !== REDSHIFT_SKIPPED);
    if (others.length > 0) await this.o.store.writeFailures(others, now);
    if (skipped.length === 0) return;
    // A batch given up: its manifest (objects written first if they were not) goes to errors/manifests.
    const records = skipped.map((f) => f.record);
    const batch: DeliveryBatch = { records, bytes: records.reduce((n, r) => n + r.data.length, 0), oldestArrival: records.reduce((min, r) => Math.min(min, r.arrival), Infinity) };
    const load = await this.prepare(batch, now, false);
    const url = await this.o.store.writeManifest('errors/manifests', load.manifest!.body, load.oldestArrival, now);
    this.pending.delete(records[0]!.id);
    this.o.logger?.error({ manifest: url, objects: load.objects.length, records: records.length, error: skipped[0]!.errorMessage }, 'COPY failed for the whole retry duration: the manifest is under errors/manifests');
  }

  failuresAfterRetries(batch: DeliveryBatch, error: unknown, attemptsMade: number): FailedRecord[] {
    const errorMessage = error instanceof Error ? error.message : String(error);
    const errorCode = redshiftErrorCode(error);
    return this.notLoaded(batch.records).map((record) => ({ record, errorCode, errorMessage, errorOutputType: REDSHIFT_SKIPPED, attemptsMade }));
  }

  async close(): Promise<void> {
    await this.o.loader.close();
  }

  /** Writes the batch's records not yet in an object, and its manifest when the objects changed. */
  private async prepare(batch: DeliveryBatch, now: number, writeManifest = true): Promise<PendingLoad & { manifest: NonNullable<PendingLoad['manifest']> }> {
    const key = batch.records[0]!.id;
    let load = this.pending.get(key);
    if (!load) {
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      load = { objects: [], covered: 0, oldestArrival: batch.oldestArrival };
      this.pending.set(key, load);
    }
    if (load.covered < batch.records.length) {
      const records = batch.records.slice(load.covered);
      const oldest = records.reduce((min, r) => Math.min(min, r.arrival), Infinity);
      load.objects.push(await this.o.store.writeObject(records, oldest, now));
      load.covered = batch.records.length;
      load.oldestArrival = Math.min(load.oldestArrival, oldest);
      if (this.o.backup) {
        const { failed } = await this.o.backup.deliver({ records, bytes: records.reduce((n, r) => n + r.data.length, 0), oldestArrival: oldest }, now);
        if (failed.length > 0) await this.o.backup.deliverFailures(failed, now);
      }
    }
    if (!load.manifest || load.manifest.objects !== load.objects.length) {
      const body = manifestBody(load.objects.map((o) => o.url));
      const url = writeManifest ? await this.o.store.writeManifest('manifests', body, load.oldestArrival, now) : '';
      load.manifest = { url, body, objects: load.objects.length };
    }
    return load as PendingLoad & { manifest: NonNullable<PendingLoad['manifest']> };
  }
}

/** The error code a given-up batch is logged with, after the kind of failure. */
function redshiftErrorCode(error: unknown): string {
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  if (code === '42P01') return 'Redshift.TableNotFound';
  if (code === '42703') return 'Redshift.ColumnNotFound';
  if (code === '28P01' || code === '28000') return 'Redshift.AuthenticationFailed';
  if (code === '3D000') return 'Redshift.DatabaseNotFound';
  if (/^(22|23)/.test(code)) return 'Redshift.DataLoadFailed';
  if (/^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)/.test(code) || /timeout|terminated/i.test(String((error as Error)?.message))) return 'Redshift.ConnectionFailed';
  return 'Redshift.CopyFailed';
}

export interface PostgresLoaderOptions {
  target: JdbcTarget;
  user: string | undefined;
  password: string | undefined;
  /** The table, quoted (redshift-copy.ts quoteTableName). */
  table: string;
  /** DataTableColumns, quoted; [] for all columns of the table. */
  columns: readonly string[];
  plan: CopyPlan;
}

/** Loads objects into PostgreSQL with COPY … FROM STDIN, one connection and one transaction per manifest. */
export class PostgresLoader implements TableLoader {
  readonly identity: string;
  private readonly active = new Set<pg.Client>();
  private closed = false;

  constructor(private readonly o: PostgresLoaderOptions) {
    this.identity = `${o.target.host}:${o.target.port}/${o.target.database}`;
  }

  async load(objects: readonly Buffer[], beforeCommit?: (xid: string) => Promise<void>): Promise<{ rows: number }> {
    return this.session(async (client) => {
      let rows = 0;
      try {
        await client.query('BEGIN');
        const columns = this.o.plan.format === 'json' ? await this.jsonColumns(client) : this.o.columns;
        const statement = copyStatement(this.o.table, columns, this.o.plan);
        const names = columns.map(unquote);
        const { from: copyFrom } = await import('pg-copy-streams');
        for (const object of objects) {
          const data = this.o.plan.gzip ? await gunzip(object) : object;
          const payload = this.o.plan.format === 'json' ? jsonRows(data, names, this.o.plan.ignoreCase) : withoutHeader(data, this.o.plan.ignoreHeader);
          const copy = client.query(copyFrom(statement));
          await pipeline(Readable.from([payload]), copy);
          rows += copy.rowCount;
        }
        if (beforeCommit) {
          const { rows: xid } = await client.query<{ xid: string }>('SELECT txid_current()::text AS xid');
          await beforeCommit(xid[0]!.xid);
        }
        await client.query('COMMIT');
        return { rows };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  async status(xids: readonly string[]): Promise<Map<string, string | null>> {
    return this.session(async (client) => {
      const out = new Map<string, string | null>();
      for (const xid of xids) {
        const { rows } = await client.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [xid]);
        out.set(xid, rows[0]?.status ?? null);
      }
      return out;
    });
  }

  /** Runs `work` on a new connection, closed after. */
  private async session<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const { default: postgres } = await import('pg');
    if (this.closed) throw new Error('the loader is closed');
    const client = new postgres.Client({
      host: this.o.target.host,
      port: this.o.target.port,
      database: this.o.target.database,
      ...(this.o.user !== undefined ? { user: this.o.user } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'tributary-firehose',
    });
    // A connection lost between queries is reported by the next query; this keeps it from being unhandled.
    client.on('error', () => {});
    this.active.add(client);
    try {
      await client.connect();
      return await work(client);
    } finally {
      this.active.delete(client);
      await client.end().catch(() => {});
    }
  }

  /** JSON 'auto' without DataTableColumns loads every column of the table, in order. */
  private async jsonColumns(client: pg.Client): Promise<readonly string[]> {
    if (this.o.columns.length > 0) return this.o.columns;
    const result = await client.query<{ attname: string }>(
      'SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
      [this.o.table],
    );
    return result.rows.map((r) => `"${r.attname.replace(/"/g, '""')}"`);
  }

  /** Ends the connections in use: their transactions roll back, and the batch stays in the log. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.active].map((c) => c.end()));
  }
}
