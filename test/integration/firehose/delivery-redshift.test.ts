/**
 * Direct PUT to a Redshift destination through @aws-sdk/client-firehose, loaded into a real
 * PostgreSQL (a private cluster, test/helpers/postgres.ts) that --redshift-hosts points the
 * cluster name at; intermediate objects and manifests read back with @aws-sdk/client-s3; buffer
 * intervals and retry durations driven on an injected clock (spec firehose.md §10–§11, AWS's
 * "Handle data delivery failures" for Amazon Redshift).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  PutRecordBatchCommand,
  UpdateDestinationCommand,
  type FirehoseClient,
  type RedshiftDestinationConfiguration,
} from '@aws-sdk/client-firehose';
import { SqliteCatalog } from '../../../src/storage/embedded/catalog.js';
import { ManualClock } from '../../../src/util/clock.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { postgresMissing, startPostgres, type PostgresCluster } from '../../helpers/postgres.js';
import { ROLE, readBucket, rejection, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

const START = Date.UTC(2026, 2, 1, 10, 15, 0);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const JDBC = 'jdbc:redshift://examplecluster.abc123xyz789.us-east-1.redshift.amazonaws.com:5439/analytics';

/** `yyyy/MM/dd/HH` and `yyyy-MM-dd-HH-mm-ss` of an instant, as keys name it (UTC). */
function keyTimes(ms: number): { hour: string; second: string } {
  const [date, time] = new Date(ms).toISOString().split('T') as [string, string];
  const [h, m, sec] = time.slice(0, 8).split(':');
  return { hour: `${date.replaceAll('-', '/')}/${h}`, second: `${date}-${h}-${m}-${sec}` };
}

async function putAll(firehose: FirehoseClient, stream: string, records: Buffer[]): Promise<void> {
  for (let start = 0; start < records.length; start += 500) {
    const out = await firehose.send(
      new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records.slice(start, start + 500).map((Data) => ({ Data })) }),
    );
    assert.equal(out.FailedPutCount, 0);
  }
}

const missing = postgresMissing();

describe('Firehose delivery to Redshift, loaded into PostgreSQL', { skip: missing }, () => {
  const clock = new ManualClock(START);
  let pg: PostgresCluster;
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;
  /** A port nothing listens on (a cluster that is down). */
  let closedPort: number;

  before(async () => {
    pg = await startPostgres({ user: 'firehose', password: 'firehose-secret', database: 'analytics' });
    closedPort = pg.port === 65535 ? 65534 : pg.port + 1;
    server = await startFirehoseServer({ redshiftHosts: `examplecluster=127.0.0.1:${pg.port},downcluster=127.0.0.1:${closedPort}` }, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
    await pg.query('CREATE TABLE events (id integer PRIMARY KEY, username text NOT NULL, amount numeric(10,2), tags text, seen_at timestamptz)');
    await pg.query('CREATE TABLE clicks (page text, visitor text, loaded_at timestamptz DEFAULT now())');
  });
  after(async () => {
    await server?.destroy();
    await pg?.stop();
  });

  async function create(name: string, config: Partial<RedshiftDestinationConfiguration>): Promise<void> {
    const full: RedshiftDestinationConfiguration = {
      RoleARN: ROLE,
      ClusterJDBCURL: JDBC,
      Username: 'firehose',
      Password: 'firehose-secret',
      CopyCommand: { DataTableName: 'events', CopyOptions: "JSON 'auto'" },
      S3Configuration: { RoleARN: ROLE, BucketARN: `arn:aws:s3:::${name}-intermediate`, BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 60 } },
      ...config,
    };
    await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, RedshiftDestinationConfiguration: full }));
    await waitFor(async () => {
      const d = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
      return d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE' ? true : undefined;
    }, `${name} to become ACTIVE`);
  }

  async function objectsOf(bucket: string, prefix = '') {
    return readBucket(s3, bucket, prefix).catch(() => []);
  }

  it('describes the Redshift destination as AWS does, with its defaults and without the password', async () => {
    await create('described', { S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::described-intermediate', Prefix: 'load/' } });
    const d = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'described' }));
    const destination = d.DeliveryStreamDescription!.Destinations![0]!;
    assert.equal(destination.DestinationId, 'destinationId-000000000001');
    assert.deepEqual(destination.RedshiftDestinationDescription, {
      RoleARN: ROLE,
      ClusterJDBCURL: JDBC,
      CopyCommand: { DataTableName: 'events', CopyOptions: "JSON 'auto'" },
      Username: 'firehose',
      RetryOptions: { DurationInSeconds: 3600 },
      S3DestinationDescription: {
        RoleARN: ROLE,
        BucketARN: 'arn:aws:s3:::described-intermediate',
        Prefix: 'load/',
        BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 300 },
        CompressionFormat: 'UNCOMPRESSED',
        EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
        CloudWatchLoggingOptions: { Enabled: false },
      },
      S3BackupMode: 'Disabled',
      CloudWatchLoggingOptions: { Enabled: false },
    });
    assert.ok(!JSON.stringify(d).includes('firehose-secret'), 'the password is never returned');

    // An update of the same type merges: members not given keep their values.
    await firehose.send(
      new UpdateDestinationCommand({
        DeliveryStreamName: 'described',
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: 'destinationId-000000000001',
        RedshiftDestinationUpdate: { Password: 'another-secret', CopyCommand: { DataTableName: 'clicks', CopyOptions: 'CSV' }, S3Update: { Prefix: 'other/' }, RetryOptions: { DurationInSeconds: 0 } },
      }),
    );
    const updated = (await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'described' }))).DeliveryStreamDescription!;
    assert.equal(updated.VersionId, '2');
    const r = updated.Destinations![0]!.RedshiftDestinationDescription!;
    assert.deepEqual(r.CopyCommand, { DataTableName: 'clicks', CopyOptions: 'CSV' });
    assert.deepEqual(r.RetryOptions, { DurationInSeconds: 0 });
    assert.equal(r.S3DestinationDescription!.Prefix, 'other/');
    assert.equal(r.S3DestinationDescription!.BucketARN, 'arn:aws:s3:::described-intermediate');
    assert.equal(r.Username, 'firehose');
    assert.ok(!JSON.stringify(updated).includes('another-secret'), 'the password is never returned');
  });

  it('refuses intermediate objects COPY cannot read and prefixes with expressions, as AWS does', async () => {
    for (const [what, s3] of [
      ['ZIP', { CompressionFormat: 'ZIP' }],
      ['Snappy', { CompressionFormat: 'Snappy' }],
      ['HADOOP_SNAPPY', { CompressionFormat: 'HADOOP_SNAPPY' }],
      ['an expression', { Prefix: 'p/!{timestamp:yyyy}/' }],
    ] as const) {
      const err = await rejection(() => create(`refused-${what.replace(/\W/g, '')}`, { S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::refused', ...s3 } }));
      assert.equal(err.name, 'InvalidArgumentException', what);
      assert.equal(err.$metadata?.httpStatusCode, 400, what);
    }
  });

  it("loads 1,000 records with JSON 'auto' once each, after an intermediate object and a manifest in S3", async () => {
    await create('orders', { S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::orders-intermediate', Prefix: 'orders/', BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 60 } } });
    const putAt = clock.now();
    const records = Array.from({ length: 1000 }, (_, i) =>
      Buffer.from(`${JSON.stringify({ id: i, username: `user-${i % 17}`, amount: (i * 1.25).toFixed(2), tags: i % 3 === 0 ? ['a', 'b'] : null, seen_at: new Date(START + i * 1000).toISOString(), ignored: 'x' })}\n`),
    );
    await putAll(firehose, 'orders', records);
    // Nothing is loaded before the buffer interval has passed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM events')).rows[0].n, 0);
    assert.deepEqual(await objectsOf('orders-intermediate'), []);

    clock.advance(60_000);
    await waitFor(async () => ((await pg.query('SELECT count(*)::int AS n FROM events')).rows[0].n >= 1000 ? true : undefined), 'the COPY');
    const counts = await pg.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, min(id) AS lo, max(id) AS hi FROM events');
    assert.deepEqual(counts.rows[0], { n: 1000, ids: 1000, lo: 0, hi: 999 });
    const rows = (await pg.query('SELECT id, username, amount::text, tags, seen_at FROM events WHERE id IN (0, 1, 999) ORDER BY id')).rows;
    assert.deepEqual(rows, [
      { id: 0, username: 'user-0', amount: '0.00', tags: '["a","b"]', seen_at: new Date(START) },
      { id: 1, username: 'user-1', amount: '1.25', tags: null, seen_at: new Date(START + 1000) },
      { id: 999, username: 'user-13', amount: '1248.75', tags: '["a","b"]', seen_at: new Date(START + 999_000) },
    ]);

    const all = await objectsOf('orders-intermediate');
    const at = keyTimes(putAt);
    const data = all.filter((o) => !o.key.startsWith('orders/manifests/'));
    const manifests = all.filter((o) => o.key.startsWith('orders/manifests/'));
    assert.equal(data.length, 1, 'one intermediate object for the buffer');
    assert.match(data[0]!.key, new RegExp(`^orders/${at.hour}/orders-1-${keyTimes(putAt + 60_000).second}-${UUID}$`));
    assert.deepEqual(data[0]!.body, Buffer.concat(records), 'the object is the records concatenated');
    assert.equal(manifests.length, 1);
    assert.match(manifests[0]!.key, new RegExp(`^orders/manifests/${at.hour}/orders-1-${keyTimes(putAt + 60_000).second}-${UUID}$`));
    assert.deepEqual(JSON.parse(manifests[0]!.body.toString()), { entries: [{ url: `s3://orders-intermediate/${data[0]!.key}`, mandatory: true }] });
    assert.deepEqual(await objectsOf('orders-intermediate', 'orders/errors/'), []);
  });

  it('loads GZIP objects as CSV into the listed columns, and backs up the source records when S3BackupMode is Enabled', async () => {
    await create('clicks', {
      CopyCommand: { DataTableName: 'public.clicks', DataTableColumns: 'page, visitor', CopyOptions: 'CSV GZIP IGNOREHEADER 0 TIMEFORMAT \'auto\'' },
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::clicks-intermediate', CompressionFormat: 'GZIP', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
      S3BackupMode: 'Enabled',
      S3BackupConfiguration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::clicks-backup', Prefix: 'source/' },
    });
    const records = Array.from({ length: 40 }, (_, i) => Buffer.from(`/page/${i % 4},"visitor, ${i}"\n`));
    await putAll(firehose, 'clicks', records);
    await waitFor(async () => ((await pg.query('SELECT count(*)::int AS n FROM clicks')).rows[0].n >= 40 ? true : undefined), 'the COPY');
    const rows = (await pg.query<{ page: string; visitor: string; loaded: boolean }>('SELECT page, visitor, loaded_at IS NOT NULL AS loaded FROM clicks')).rows;
    assert.equal(rows.length, 40);
    assert.deepEqual(rows.map((r) => r.visitor).sort(), records.map((_, i) => `visitor, ${i}`).sort());
    assert.ok(rows.every((r) => r.loaded), 'columns not listed get their default');
    const intermediate = (await objectsOf('clicks-intermediate')).filter((o) => !o.key.startsWith('manifests/'));
    assert.ok(intermediate.length >= 1);
    for (const o of intermediate) assert.match(o.key, /\.gz$/);
    assert.deepEqual(Buffer.concat(intermediate.map((o) => gunzipSync(o.body))).toString().split('\n').filter(Boolean).sort(), records.map((r) => r.toString().trimEnd()).sort());
    const backup = await waitFor(async () => {
      const found = await objectsOf('clicks-backup');
      const lines = found.flatMap((o) => o.body.toString().split('\n').filter(Boolean));
      return lines.length >= 40 ? { found, lines } : undefined;
    }, 'the backup');
    for (const o of backup.found) assert.match(o.key, /^source\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/clicks-1-/);
    assert.deepEqual(backup.lines.sort(), records.map((r) => r.toString().trimEnd()).sort());
  });

  /** Puts records to a stream whose COPY fails, and returns the manifest that ends under errors/manifests after `retrySeconds`. */
  async function failedManifest(stream: string, records: Buffer[], retrySeconds: number): Promise<{ manifest: unknown; errorManifest: unknown; errorKey: string; putAt: number }> {
    const bucket = `${stream}-intermediate`;
    const putAt = clock.now();
    await putAll(firehose, stream, records);
    clock.advance(60_000);
    const [manifest] = await waitFor(async () => {
      const found = await objectsOf(bucket, 'manifests/');
      return found.length > 0 ? found : undefined;
    }, 'the manifest of the first attempt');
    // The first attempt fails; within the retry duration nothing is given up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await objectsOf(bucket, 'errors/'), [], 'nothing is given up within the retry duration');
    clock.advance(retrySeconds * 1000);
    const [error] = await waitFor(async () => {
      const found = await objectsOf(bucket, 'errors/');
      return found.length > 0 ? found : undefined;
    }, 'the manifest under errors/manifests');
    return { manifest: JSON.parse(manifest!.body.toString()), errorManifest: JSON.parse(error!.body.toString()), errorKey: error!.key, putAt };
  }

  it('retries a COPY into a table that does not exist for the retry duration, then writes its manifest under errors/manifests', async () => {
    await create('wrongtable', { CopyCommand: { DataTableName: 'no_such_table', CopyOptions: "JSON 'auto'" }, RetryOptions: { DurationInSeconds: 120 } });
    const records = Array.from({ length: 10 }, (_, i) => Buffer.from(`{"id":${5000 + i},"username":"u"}`));
    const { manifest, errorManifest, errorKey, putAt } = await failedManifest('wrongtable', records, 120);
    assert.deepEqual(errorManifest, manifest, 'the manifest given up names the same objects');
    assert.match(errorKey, new RegExp(`^errors/manifests/${keyTimes(putAt).hour}/wrongtable-1-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-${UUID}$`));
    const urls = (manifest as { entries: { url: string }[] }).entries.map((e) => e.url);
    assert.equal(urls.length, 1);
    const [object] = await objectsOf('wrongtable-intermediate', urls[0]!.replace('s3://wrongtable-intermediate/', ''));
    assert.deepEqual(object!.body, Buffer.concat(records), 'the intermediate object stays for a manual backfill');
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM events WHERE id >= 5000')).rows[0].n, 0);
  });

  it('loads a batch whole or not at all: one row of the wrong type fails the COPY, and none of its rows are loaded', async () => {
    await create('badrow', { RetryOptions: { DurationInSeconds: 30 } });
    const records = [
      ...Array.from({ length: 20 }, (_, i) => Buffer.from(`{"id":${6000 + i},"username":"ok"}`)),
      Buffer.from('{"id":"not a number","username":"bad"}'),
      ...Array.from({ length: 20 }, (_, i) => Buffer.from(`{"id":${7000 + i},"username":"ok"}`)),
    ];
    const { manifest, errorManifest } = await failedManifest('badrow', records, 30);
    assert.deepEqual(errorManifest, manifest);
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM events WHERE id >= 6000')).rows[0].n, 0, 'no row of the batch was loaded');
  });

  it('retries when the cluster cannot be reached, then writes the manifest under errors/manifests', async () => {
    await create('unreachable', { ClusterJDBCURL: 'jdbc:redshift://downcluster.abc123xyz789.us-east-1.redshift.amazonaws.com:5439/analytics', RetryOptions: { DurationInSeconds: 60 } });
    const { manifest, errorManifest } = await failedManifest('unreachable', [Buffer.from('{"id":8000,"username":"u"}')], 60);
    assert.deepEqual(errorManifest, manifest);
  });

  it('after a restart that lost the saved progress, does not load again the rows a committed COPY loaded', async () => {
    await pg.query('CREATE TABLE restarted (id integer)');
    const dataDir = tempDir('tributary-redshift-restart-');
    const restartClock = new ManualClock(START);
    const hosts = { redshiftHosts: `examplecluster=127.0.0.1:${pg.port}` };
    const config: RedshiftDestinationConfiguration = {
      RoleARN: ROLE,
      ClusterJDBCURL: JDBC,
      Username: 'firehose',
      Password: 'firehose-secret',
      CopyCommand: { DataTableName: 'restarted', CopyOptions: "JSON 'auto'" },
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::restarted-intermediate', BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 60 } },
    };
    const count = async () => (await pg.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM restarted')).rows[0] as { n: number; ids: number };
    try {
      let srv = await startFirehoseServer(hosts, { clock: restartClock, dataDir });
      let client = srv.firehose();
      await client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'restarted', RedshiftDestinationConfiguration: config }));
      await waitFor(async () => {
        const d = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'restarted' }));
        return d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE' ? true : undefined;
      }, 'restarted to become ACTIVE');
      await putAll(client, 'restarted', Array.from({ length: 100 }, (_, i) => Buffer.from(`{"id":${i}}`)));
      restartClock.advance(60_000);
      await waitFor(async () => ((await count()).n >= 100 ? true : undefined), 'the first COPY');
      await srv.destroy();

      // The state a crash between the COMMIT and the saving of the progress leaves: the rows are
      // in the table, the load in the journal, the progress where it was before the batch.
      const catalog = new SqliteCatalog(path.join(dataDir, 'catalog.sqlite'));
      const [stream] = JSON.parse((await catalog.getSetting('firehose/delivery-streams'))!) as { id: string }[];
      assert.deepEqual(JSON.parse((await catalog.getSetting(`firehose/progress/${stream!.id}`))!), { deliveredOffset: 100 });
      const journal = JSON.parse((await catalog.getSetting(`firehose/redshift-loads/${stream!.id}`))!) as { first: number; last: number }[];
      assert.deepEqual(journal.map((e) => [e.first, e.last]), [[0, 99]]);
      await catalog.putSetting(`firehose/progress/${stream!.id}`, JSON.stringify({ deliveredOffset: 0 }));
      await catalog.close();

      srv = await startFirehoseServer(hosts, { clock: restartClock, dataDir });
      client = srv.firehose();
      await putAll(client, 'restarted', Array.from({ length: 50 }, (_, i) => Buffer.from(`{"id":${100 + i}}`)));
      restartClock.advance(60_000);
      await waitFor(async () => ((await count()).n >= 150 ? true : undefined), 'the COPY after the restart');
      assert.deepEqual(await count(), { n: 150, ids: 150 }, 'every record once: the 100 loaded before are not loaded again');
      await srv.destroy();
    } finally {
      removeDir(dataDir);
    }
  });
});
