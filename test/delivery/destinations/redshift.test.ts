/**
 * The Redshift destination and its PostgreSQL loader against a real PostgreSQL: the COPY formats
 * as Redshift reads them, one transaction per manifest, records that join a batch being retried,
 * and the journal that keeps a load from repeating after a restart (txid_status).
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { PostgresLoader, RedshiftDestination, REDSHIFT_SKIPPED, type IntermediateStore, type JournalEntry, type LoadJournal } from '../../../src/delivery/destinations/redshift.js';
import { quoteColumnList, quoteTableName, translateCopyOptions } from '../../../src/delivery/destinations/redshift-copy.js';
import type { DeliveryBatch } from '../../../src/delivery/pipeline.js';
import type { DeliveryRecord, FailedRecord } from '../../../src/delivery/records.js';
import { postgresMissing, startPostgres, type PostgresCluster } from '../../helpers/postgres.js';

const missing = postgresMissing();

function record(offset: number, data: string): DeliveryRecord {
  return { id: `id-${offset}`, offset, data: Buffer.from(data), arrival: 1_700_000_000_000 + offset };
}

function batchOf(records: DeliveryRecord[]): DeliveryBatch {
  return { records, bytes: records.reduce((n, r) => n + r.data.length, 0), oldestArrival: records[0]!.arrival };
}

/** An intermediate bucket kept in memory: what was written, in order. */
function memoryStore(): IntermediateStore & { objects: Map<string, Buffer>; manifests: { kind: string; body: Buffer }[]; failures: FailedRecord[] } {
  const objects = new Map<string, Buffer>();
  const manifests: { kind: string; body: Buffer }[] = [];
  const failures: FailedRecord[] = [];
  return {
    objects,
    manifests,
    failures,
    async writeObject(records) {
      const url = `s3://bucket/object-${objects.size + 1}`;
      const body = Buffer.concat(records.map((r) => r.data));
      objects.set(url, body);
      return { url, body };
    },
    async writeManifest(kind, body) {
      manifests.push({ kind, body });
      return `s3://bucket/${kind}/manifest-${manifests.length}`;
    },
    async writeFailures(failed) {
      failures.push(...failed);
    },
  };
}

function memoryJournal(entries: JournalEntry[] = [], delivered = 0): LoadJournal & { entries: JournalEntry[] } {
  const journal = {
    entries,
    async read() {
      return journal.entries.map((e) => ({ ...e }));
    },
    async write(next: readonly JournalEntry[]) {
      journal.entries = next.map((e) => ({ ...e }));
    },
    async deliveredOffset() {
      return delivered;
    },
  };
  return journal;
}

describe('Redshift destination with PostgreSQL', { skip: missing }, () => {
  let pg: PostgresCluster;

  before(async () => {
    pg = await startPostgres({ database: 'dev' });
  });
  after(async () => {
    await pg?.stop();
  });

  function loader(table: string, options: string, columns?: string, compressed = false): PostgresLoader {
    const t = translateCopyOptions(options, compressed);
    assert.ok(t.ok);
    return new PostgresLoader({
      target: { host: pg.host, port: pg.port, database: pg.database },
      user: pg.user,
      password: pg.password,
      table: quoteTableName(table)!,
      columns: quoteColumnList(columns)!,
      plan: t.plan,
    });
  }

  it("loads Redshift's plain format with backslashes literal, and with ESCAPE as escapes", async () => {
    await pg.query('CREATE TABLE plain (a text, b text, c integer)');
    await loader('plain', '').load([Buffer.from('x\\y|"quoted"|1\n\\N|z|\\N\n')]);
    await loader('plain', "DELIMITER '\\t' ESCAPE").load([Buffer.from('tab\\tin\tq\\\\b\t2\n')]);
    assert.deepEqual((await pg.query('SELECT a, b, c FROM plain ORDER BY c NULLS LAST')).rows, [
      { a: 'x\\y', b: '"quoted"', c: 1 },
      { a: 'tab\tin', b: 'q\\b', c: 2 },
      { a: null, b: 'z', c: null },
    ]);
  });

  it('loads CSV with NULL AS and IGNOREHEADER per object, GZIP decompressed, into listed columns', async () => {
    await pg.query("CREATE TABLE csvt (name text, city text, n integer DEFAULT 7, note text DEFAULT 'none')");
    const l = loader('csvt', "CSV GZIP NULL AS 'nil' IGNOREHEADER 1", 'name, city', true);
    await l.load([gzipSync('name,city\n"Doe, J",Zürich\nnil,Bern\n'), gzipSync('name,city\nRoe,"Basel ""BS"""\n')]);
    assert.deepEqual((await pg.query('SELECT name, city, n, note FROM csvt ORDER BY city')).rows, [
      { name: 'Roe', city: 'Basel "BS"', n: 7, note: 'none' },
      { name: null, city: 'Bern', n: 7, note: 'none' },
      { name: 'Doe, J', city: 'Zürich', n: 7, note: 'none' },
    ]);
  });

  it("loads JSON 'auto ignorecase' into every column of a schema-qualified table", async () => {
    await pg.query('CREATE SCHEMA app');
    await pg.query('CREATE TABLE app.users (userid text, score double precision, meta jsonb)');
    await loader('app.users', "json 'auto ignorecase'").load([Buffer.from('{"UserId":"u1","Score":1.5,"Meta":{"k":[1,2]}}{"userid":"u2"}')]);
    assert.deepEqual((await pg.query('SELECT userid, score, meta FROM app.users ORDER BY userid')).rows, [
      { userid: 'u1', score: 1.5, meta: { k: [1, 2] } },
      { userid: 'u2', score: null, meta: null },
    ]);
  });

  it('loads all objects of a manifest in one transaction: a bad second object leaves none loaded', async () => {
    await pg.query('CREATE TABLE whole (id integer)');
    const l = loader('whole', "JSON 'auto'");
    await assert.rejects(l.load([Buffer.from('{"id":1}{"id":2}'), Buffer.from('{"id":"three"}')]), /invalid input syntax for type integer/);
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM whole')).rows[0].n, 0);
  });

  it('adds records that arrive while a batch is retried as another object of its manifest', async () => {
    const store = memoryStore();
    const destination = new RedshiftDestination({ store, loader: loader('late', "JSON 'auto'"), retryForMs: 60_000 });
    const first = [record(0, '{"id":0}'), record(1, '{"id":1}')];
    await assert.rejects(destination.deliver(batchOf(first), 1000), /relation "late" does not exist/);
    await pg.query('CREATE TABLE late (id integer)');
    await destination.deliver(batchOf([...first, record(2, '{"id":2}')]), 2000);
    assert.deepEqual([...store.objects.values()].map(String), ['{"id":0}{"id":1}', '{"id":2}']);
    assert.deepEqual(store.manifests.map((m) => [m.kind, JSON.parse(m.body.toString())]), [
      ['manifests', { entries: [{ url: 's3://bucket/object-1', mandatory: true }] }],
      ['manifests', { entries: [{ url: 's3://bucket/object-1', mandatory: true }, { url: 's3://bucket/object-2', mandatory: true }] }],
    ]);
    assert.deepEqual((await pg.query('SELECT id FROM late ORDER BY id')).rows, [{ id: 0 }, { id: 1 }, { id: 2 }]);
  });

  it('writes the manifest of a batch given up under errors/manifests', async () => {
    const store = memoryStore();
    const destination = new RedshiftDestination({ store, loader: loader('missing_table', "JSON 'auto'"), retryForMs: 0 });
    const batch = batchOf([record(0, '{"id":0}')]);
    const error = await destination.deliver(batch, 1000).catch((err: Error) => err);
    const failed = destination.failuresAfterRetries(batch, error, 1);
    assert.deepEqual(failed.map((f) => [f.errorOutputType, f.errorCode]), [[REDSHIFT_SKIPPED, 'Redshift.TableNotFound']]);
    await destination.deliverFailures(failed, 2000);
    assert.deepEqual(store.manifests.map((m) => m.kind), ['manifests', 'errors/manifests']);
    assert.deepEqual(store.manifests[1]!.body, store.manifests[0]!.body);
    assert.deepEqual(store.failures, [], 'a skipped batch is a manifest, not error records');
  });

  it('does not load again after a restart the records of a load the journal shows committed', async () => {
    await pg.query('CREATE TABLE once (id integer)');
    const journal = memoryJournal();
    const records = Array.from({ length: 10 }, (_, i) => record(100 + i, `{"id":${100 + i}}`));
    const before = new RedshiftDestination({ store: memoryStore(), loader: loader('once', "JSON 'auto'"), retryForMs: 60_000, journal });
    await before.deliver(batchOf(records), 1000);
    assert.equal(journal.entries.length, 1);
    assert.deepEqual({ ...journal.entries[0], xid: undefined }, { target: `${pg.host}:${pg.port}/dev`, xid: undefined, first: 100, last: 109 });
    // A crash before the stream's progress was saved: the same records, and more, come again.
    const afterRestart = new RedshiftDestination({ store: memoryStore(), loader: loader('once', "JSON 'auto'"), retryForMs: 60_000, journal });
    await afterRestart.deliver(batchOf(records), 2000);
    await afterRestart.deliver(batchOf([...records, record(110, '{"id":110}')]), 3000);
    const rows = (await pg.query('SELECT id, count(*)::int AS n FROM once GROUP BY id ORDER BY id')).rows;
    assert.deepEqual(rows, Array.from({ length: 11 }, (_, i) => ({ id: 100 + i, n: 1 })));
  });

  it('gives up only the records not loaded before a restart when the COPY after it fails', async () => {
    await pg.query('CREATE TABLE partial (id integer)');
    const journal = memoryJournal();
    const first = [record(0, '{"id":0}'), record(1, '{"id":1}')];
    await new RedshiftDestination({ store: memoryStore(), loader: loader('partial', "JSON 'auto'"), retryForMs: 0, journal }).deliver(batchOf(first), 1000);
    const store = memoryStore();
    const afterRestart = new RedshiftDestination({ store, loader: loader('partial_gone', "JSON 'auto'"), retryForMs: 0, journal });
    const batch = batchOf([...first, record(2, '{"id":2}')]);
    const error = await afterRestart.deliver(batch, 2000).catch((err: Error) => err);
    assert.match(String(error), /relation "partial_gone" does not exist/);
    const failed = afterRestart.failuresAfterRetries(batch, error, 1);
    assert.deepEqual(failed.map((f) => f.record.offset), [2]);
    await afterRestart.deliverFailures(failed, 3000);
    assert.deepEqual([...store.objects.values()].map(String), ['{"id":2}'], 'one object, of the record not loaded');
    assert.deepEqual(store.manifests.map((m) => m.kind), ['manifests', 'errors/manifests']);
    assert.deepEqual(JSON.parse(store.manifests[1]!.body.toString()), { entries: [{ url: 's3://bucket/object-1', mandatory: true }] });
  });

  it('loads records whose journal entry belongs to a transaction that rolled back, or to another database', async () => {
    await pg.query('CREATE TABLE redo (id integer)');
    await pg.query('BEGIN');
    const { rows } = await pg.query<{ xid: string }>('SELECT txid_current()::text AS xid');
    await pg.query('ROLLBACK');
    const committedElsewhere = (await pg.query<{ xid: string }>('SELECT txid_current()::text AS xid')).rows[0]!.xid;
    const target = `${pg.host}:${pg.port}/dev`;
    const journal = memoryJournal([
      { target, xid: rows[0]!.xid, first: 0, last: 1 },
      { target: 'other.host:5439/dev', xid: committedElsewhere, first: 2, last: 2 },
    ]);
    const destination = new RedshiftDestination({ store: memoryStore(), loader: loader('redo', "JSON 'auto'"), retryForMs: 60_000, journal });
    await destination.deliver(batchOf([record(0, '{"id":0}'), record(1, '{"id":1}'), record(2, '{"id":2}')]), 1000);
    assert.deepEqual((await pg.query('SELECT id FROM redo ORDER BY id')).rows, [{ id: 0 }, { id: 1 }, { id: 2 }]);
    assert.deepEqual(journal.entries.map((e) => [e.first, e.last]), [[0, 2]], 'only the new load stays in the journal');
  });

  it('drops journal entries below the saved progress', async () => {
    await pg.query('CREATE TABLE pruned (id integer)');
    const journal = memoryJournal([], 50);
    const destination = new RedshiftDestination({ store: memoryStore(), loader: loader('pruned', "JSON 'auto'"), retryForMs: 60_000, journal });
    await destination.deliver(batchOf([record(10, '{"id":10}')]), 1000);
    await destination.deliver(batchOf([record(60, '{"id":60}')]), 2000);
    assert.deepEqual(journal.entries.map((e) => [e.first, e.last]), [[60, 60]]);
  });
});
