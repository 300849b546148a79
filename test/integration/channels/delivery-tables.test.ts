/**
 * Channels deliver an ON_DEMAND stream's records to an S3 Tables (Apache Iceberg) table, read
 * back by independent readers: icebird (with hyparquet) opens the table from its location and
 * scans exactly the records put; the REST catalog's LoadTable names the same metadata; DuckDB reads
 * the Parquet data files, whose columns carry the Iceberg field ids. An hourly partitioned table
 * gets one data file per hour with its partition value. A restart mid-way commits no record twice
 * and loses none.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeChannelCommand, ListChannelsCommand, PutRecordsCommand, UpdateChannelCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergManifests, icebergMetadata, icebergRead } from 'icebird';
import { ManualClock } from '../../../src/util/clock.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { readBucket } from '../firehose/helpers.js';
import { startS3TestServer, type S3TestServer } from '../s3/helpers.js';
import { ACCOUNT, channelArn, createChannel, createStream, ROLE, s3Fetch, streamArn } from './helpers.js';

const START = Date.UTC(2026, 2, 1, 10, 15, 0);
const FRESHNESS_S = 300;
const TABLE_BUCKET_ARN = `arn:aws:s3tables:us-east-1:${ACCOUNT}:bucket/lake`;

function tablesRequest(name: string, stream: string, table: string, extra: Record<string, unknown> = {}) {
  return {
    ChannelName: name,
    ServiceExecutionRoleARN: ROLE,
    StreamConfigurationList: [{ StreamARN: streamArn(stream), RecordConfiguration: { RecordFormatType: 'JSON' as const } }],
    S3TablesDestinationConfiguration: {
      DataFreshnessInSeconds: FRESHNESS_S,
      DeadLetterQueueS3Configuration: { BucketARN: 'arn:aws:s3:::lake-dlq', ExpectedBucketOwner: ACCOUNT, ErrorOutputPrefix: 'failed/' },
      S3TablesConfigurationList: [{ TableBucketARN: TABLE_BUCKET_ARN, Namespace: 'streams', TableName: table, CompressionType: 'SNAPPY' as const, ...extra }],
    },
  };
}

async function put(kinesis: KinesisClient, stream: string, records: Buffer[]): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    const out = await kinesis.send(
      new PutRecordsCommand({ StreamName: stream, Records: records.slice(i, i + 500).map((Data, j) => ({ Data, PartitionKey: `pk-${i + j}` })) }),
    );
    assert.equal(out.FailedRecordCount, 0);
  }
}

const jsonRecord = (i: number) => Buffer.from(JSON.stringify({ id: i, note: `record ${i}` }));


/** Advances the clock past the freshness interval once a second until `done` holds. */
async function when<T>(clock: ManualClock, read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  let lastAdvance = Date.now();
  clock.advance((FRESHNESS_S + 1) * 1000);
  let last: unknown;
  for (;;) {
    const value = await read().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String((last as Error)?.stack ?? last)})`);
    if (Date.now() - lastAdvance > 1000) {
      clock.advance((FRESHNESS_S + 1) * 1000);
      lastAdvance = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const TABLE_URL = (table: string) => `s3://lake/streams/${table}`;

interface Scanned {
  rows: Record<string, unknown>[];
  snapshots: number;
}

async function scan(table: string): Promise<Scanned> {
  const metadata = await icebergMetadata({ tableUrl: TABLE_URL(table) });
  const rows = (await icebergRead({ tableUrl: TABLE_URL(table), metadata })) as Record<string, unknown>[];
  return { rows, snapshots: metadata.snapshots?.length ?? 0 };
}

const idsOf = (rows: Record<string, unknown>[]) => rows.map((r) => (JSON.parse(r.data as string) as { id: number }).id).sort((a, b) => a - b);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('channels deliver to S3 Tables', () => {
  let server: S3TestServer;
  let kinesis: KinesisClient;
  let s3: S3Client;
  const clock = new ManualClock(START);
  const originalFetch = globalThis.fetch;
  before(async () => {
    server = await startS3TestServer({}, { clock });
    kinesis = server.client();
    s3 = server.s3Client();
    globalThis.fetch = s3Fetch(() => s3);
  });
  after(async () => {
    globalThis.fetch = originalFetch;
    await server.destroy();
  });

  it('refuses what this server cannot deliver to a table', async () => {
    await createStream(kinesis, 'refused');
    await assert.rejects(createChannel(kinesis, tablesRequest('zstd', 'refused', 'z', { CompressionType: 'ZSTD' })), {
      name: 'InvalidArgumentException',
      message: /ZSTD is not supported/,
    });
    await assert.rejects(
      createChannel(kinesis, tablesRequest('partitioned', 'refused', 'p', { PartitionSpec: { PartitionFields: [{ Transform: 'TIME_HOUR', SourceName: 'data' }] } })),
      { name: 'InvalidArgumentException', message: /PartitionSpec is not supported/ },
    );
    const underscored = { ...tablesRequest('underscored', 'refused', 'u') };
    underscored.S3TablesDestinationConfiguration.S3TablesConfigurationList[0]!.TableBucketARN = `arn:aws:s3tables:us-east-1:${ACCOUNT}:bucket/my_lake`;
    await assert.rejects(createChannel(kinesis, underscored), { name: 'InvalidArgumentException', message: /^Table bucket name my_lake is not valid/ });
    await createChannel(kinesis, tablesRequest('tuning', 'refused', 'tuning'));
    await assert.rejects(createChannel(kinesis, tablesRequest('tuning-2', 'refused', 'tuning')), { name: 'ResourceInUseException', message: /already the destination of channel tuning/ });
    await assert.rejects(kinesis.send(new UpdateChannelCommand({ ChannelARN: channelArn('tuning'), S3DestinationConfiguration: { DataFreshnessInSeconds: 600 } })), {
      name: 'InvalidArgumentException',
      message: /delivers to S3 Tables: S3DestinationConfiguration cannot be updated/,
    });
    const updated = await kinesis.send(new UpdateChannelCommand({ ChannelARN: channelArn('tuning'), S3TablesDestinationConfiguration: { DataFreshnessInSeconds: 600 } }));
    assert.equal(updated.ChannelDescription?.S3TablesDestinationConfiguration?.DataFreshnessInSeconds, 600);
  });

  it('JSON records land in the Iceberg table: icebird scans exactly them, the REST catalog loads the same metadata, DuckDB reads the data files', async () => {
    await createStream(kinesis, 'orders');
    const channel = await createChannel(kinesis, tablesRequest('orders-to-table', 'orders', 'orders'));
    assert.equal(channel.ChannelStatus, 'ACTIVE');
    assert.equal(channel.S3TablesDestinationConfiguration?.S3TablesConfigurationList?.[0]?.TableName, 'orders');
    assert.equal(channel.S3DestinationConfiguration, undefined);
    const described = await kinesis.send(new DescribeChannelCommand({ ChannelARN: channelArn('orders-to-table') }));
    assert.equal(described.ChannelDescription?.S3TablesDestinationConfiguration?.DataFreshnessInSeconds, FRESHNESS_S);
    const listed = await kinesis.send(new ListChannelsCommand({}));
    assert.equal(listed.ChannelSummaries?.find((c) => c.ChannelName === 'orders-to-table')?.ChannelDestinationType, 'S3_TABLES');

    const n = 700;
    await put(kinesis, 'orders', [...Array.from({ length: n }, (_, i) => jsonRecord(i)), Buffer.from('{"id": oops')]);
    const first = await when(clock, () => scan('orders'), (s) => s.rows.length >= n, 'the first snapshot');
    assert.deepEqual(idsOf(first.rows), range(0, n), 'every record exactly once');
    const row = first.rows.find((r) => idsOf([r])[0] === 0)!;
    assert.match(row.shard_id as string, /^shardId-\d{12}$/);
    assert.match(row.sequence_number as string, /^\d+$/);
    assert.match(row.partition_key as string, /^pk-\d+$/);
    assert.ok(row.approximate_arrival_timestamp instanceof Date);
    assert.ok((row.approximate_arrival_timestamp as Date).getTime() >= START);

    // The invalid record is in the dead-letter bucket, not the table.
    const dlq = await when(clock, () => readBucket(s3, 'lake-dlq'), (v) => v.length >= 1, 'the dead-letter object');
    assert.match(dlq[0]!.key, /^failed\//);
    assert.match(dlq[0]!.body.toString('utf8'), /InvalidRecordFormat/);

    // A second flush is a second snapshot over both.
    await put(kinesis, 'orders', Array.from({ length: 50 }, (_, i) => jsonRecord(n + i)));
    const second = await when(clock, () => scan('orders'), (s) => s.rows.length >= n + 50, 'the second snapshot');
    assert.deepEqual(idsOf(second.rows), range(0, n + 50));
    assert.ok(second.snapshots >= 2);

    // The REST catalog leads to the same metadata.
    const base = `${server.endpoint}/iceberg`;
    const config = (await (await originalFetch(`${base}/v1/config?warehouse=${encodeURIComponent(TABLE_BUCKET_ARN)}`)).json()) as { overrides: { prefix: string }; defaults: object };
    assert.equal(config.overrides.prefix, 'lake');
    const namespaces = (await (await originalFetch(`${base}/v1/lake/namespaces`)).json()) as { namespaces: string[][] };
    assert.deepEqual(namespaces.namespaces, [['streams']]);
    const tables = (await (await originalFetch(`${base}/v1/lake/namespaces/streams/tables`)).json()) as { identifiers: unknown[] };
    assert.deepEqual(tables.identifiers, [{ namespace: ['streams'], name: 'orders' }]);
    const loaded = (await (await originalFetch(`${base}/v1/lake/namespaces/streams/tables/orders`)).json()) as {
      'metadata-location': string;
      metadata: { 'current-snapshot-id': number; 'format-version': number; schemas: { fields: { id: number; name: string; type: string }[] }[] };
    };
    const hinted = await icebergMetadata({ tableUrl: TABLE_URL('orders') });
    assert.equal(loaded.metadata['format-version'], 2);
    assert.equal(BigInt(loaded.metadata['current-snapshot-id']), BigInt(hinted['current-snapshot-id']!));
    const version = (await (await globalThis.fetch('https://lake.s3.amazonaws.com/streams/orders/metadata/version-hint.text')).text()).trim();
    assert.equal(loaded['metadata-location'], `s3://lake/streams/orders/metadata/v${version}.metadata.json`);
    assert.deepEqual(
      loaded.metadata.schemas[0]!.fields.map((f) => [f.id, f.name, f.type]),
      [
        [1, 'shard_id', 'string'],
        [2, 'sequence_number', 'string'],
        [3, 'partition_key', 'string'],
        [4, 'approximate_arrival_timestamp', 'timestamptz'],
        [5, 'data', 'string'],
      ],
    );
    const head = await originalFetch(`${base}/v1/lake/namespaces/streams/tables/orders`, { method: 'HEAD' });
    assert.equal(head.status, 204);
    const plain = (await (await originalFetch(`${base}/v1/config`)).json()) as { overrides: object; defaults: object; endpoints: string[] };
    assert.deepEqual(plain.overrides, {});
    assert.ok(plain.endpoints.includes('GET /v1/{prefix}/namespaces/{namespace}/tables/{table}'));
    const everywhere = (await (await originalFetch(`${base}/v1/namespaces`)).json()) as { namespaces: string[][] };
    assert.deepEqual(everywhere.namespaces, [['streams']]);
    const noWarehouse = await originalFetch(`${base}/v1/config?warehouse=${encodeURIComponent(`arn:aws:s3tables:us-east-1:${ACCOUNT}:bucket/elsewhere`)}`);
    assert.equal(noWarehouse.status, 404);
    const noNamespace = await originalFetch(`${base}/v1/lake/namespaces/nowhere/tables`);
    assert.equal(((await noNamespace.json()) as { error: { type: string; code: number } }).error.type, 'NoSuchNamespaceException');
    const missing = await originalFetch(`${base}/v1/lake/namespaces/streams/tables/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'NoSuchTableException');

    // DuckDB reads the data files; their columns carry the Iceberg field ids.
    const objects = await readBucket(s3, 'lake');
    const data = objects.filter((o) => o.key.startsWith('streams/orders/data/') && o.key.endsWith('.parquet'));
    assert.equal(data.length, (await scan('orders')).snapshots, 'one data file per snapshot');
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-iceberg-'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const files = data.map((o, i) => {
        const file = path.join(dir, `f${i}.parquet`);
        writeFileSync(file, o.body);
        return file;
      });
      const list = files.map((f) => `'${f}'`).join(',');
      const read = (await connection.runAndReadAll(`select data from read_parquet([${list}])`)).getRowObjectsJson() as { data: string }[];
      assert.deepEqual(read.map((r) => (JSON.parse(r.data) as { id: number }).id).sort((a, b) => a - b), range(0, n + 50));
      const types = (await connection.runAndReadAll(`describe select * from read_parquet('${files[0]}')`)).getRowObjectsJson() as { column_name: string; column_type: string }[];
      assert.deepEqual(
        types.map((t) => [t.column_name, t.column_type]),
        [
          ['shard_id', 'VARCHAR'],
          ['sequence_number', 'VARCHAR'],
          ['partition_key', 'VARCHAR'],
          ['approximate_arrival_timestamp', 'TIMESTAMP WITH TIME ZONE'],
          ['data', 'VARCHAR'],
        ],
      );
      const schema = (await connection.runAndReadAll(`select name, field_id from parquet_schema('${files[0]}')`)).getRowObjectsJson() as { name: string; field_id: unknown }[];
      assert.deepEqual(
        schema.filter((s) => s.name !== 'table').map((s) => [s.name, Number(s.field_id)]),
        [
          ['shard_id', 1],
          ['sequence_number', 2],
          ['partition_key', 3],
          ['approximate_arrival_timestamp', 4],
          ['data', 5],
        ],
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('S3 Tables delivery to an hourly partitioned table', () => {
  it('writes one data file per hour of arrival, with its partition value in the manifest', async () => {
    const clock = new ManualClock(START);
    const originalFetch = globalThis.fetch;
    const server = await startS3TestServer({}, { clock });
    const s3 = server.s3Client();
    globalThis.fetch = s3Fetch(() => s3);
    try {
      const kinesis = server.client();
      await createStream(kinesis, 'clicks');
      const channel = await createChannel(
        kinesis,
        tablesRequest('clicks-hourly', 'clicks', 'clicks', { PartitionSpec: { PartitionFields: [{ Transform: 'TIME_HOUR', SourceName: 'approximate_arrival_timestamp' }] } }),
      );
      assert.deepEqual(channel.S3TablesDestinationConfiguration?.S3TablesConfigurationList?.[0]?.PartitionSpec, {
        PartitionFields: [{ Transform: 'TIME_HOUR', SourceName: 'approximate_arrival_timestamp' }],
      });
      const firstHour = Math.floor(clock.now() / 3_600_000);
      await put(kinesis, 'clicks', range(0, 100).map(jsonRecord));
      // The next records arrive an hour later (their arrival time is the stream's, whenever the channel reads them).
      clock.advance(3_600_000);
      await put(kinesis, 'clicks', range(100, 150).map(jsonRecord));
      const all = await when(clock, () => scan('clicks'), (s) => s.rows.length >= 150, 'both hours');
      assert.deepEqual(idsOf(all.rows), range(0, 150));
      for (const r of all.rows) {
        const id = idsOf([r])[0]!;
        const hour = Math.floor((r.approximate_arrival_timestamp as Date).getTime() / 3_600_000);
        assert.equal(hour, id < 100 ? firstHour : firstHour + 1, `record ${id}`);
      }
      const metadata = await icebergMetadata({ tableUrl: TABLE_URL('clicks') });
      assert.deepEqual(metadata['partition-specs'], [
        { 'spec-id': 0, fields: [{ 'source-id': 4, 'field-id': 1000, name: 'approximate_arrival_timestamp_hour', transform: 'hour' }] },
      ]);
      assert.equal(metadata['last-partition-id'], 1000);
      const manifests = await icebergManifests(metadata);
      const files = manifests.flatMap((m) => m.entries).map((e) => ({ path: e.data_file.file_path, partition: e.data_file.partition, count: Number(e.data_file.record_count) }));
      const byHour = new Map<number, number>();
      for (const f of files) {
        const hour = Number((f.partition as Record<string, unknown>).approximate_arrival_timestamp_hour);
        assert.ok(f.path.includes(`/data/approximate_arrival_timestamp_hour=${hour}/`), f.path);
        byHour.set(hour, (byHour.get(hour) ?? 0) + f.count);
      }
      assert.deepEqual([...byHour].sort((a, b) => a[0] - b[0]), [
        [firstHour, 100],
        [firstHour + 1, 50],
      ]);
    } finally {
      globalThis.fetch = originalFetch;
      await server.destroy();
    }
  });
});

describe('S3 Tables delivery across a restart', () => {
  it('commits no record twice and loses none', async () => {
    const dataDir = tempDir();
    const clock = new ManualClock(START);
    const originalFetch = globalThis.fetch;
    let server = await startS3TestServer({}, { clock, dataDir });
    let s3 = server.s3Client();
    globalThis.fetch = s3Fetch(() => s3);
    try {
      let kinesis = server.client();
      await createStream(kinesis, 'events');
      const channelId = (await createChannel(kinesis, tablesRequest('events-channel', 'events', 'events'))).ChannelId!;
      await put(kinesis, 'events', Array.from({ length: 300 }, (_, i) => jsonRecord(i)));
      const first = await when(clock, () => scan('events'), (s) => s.rows.length >= 300, 'the first snapshot');
      assert.deepEqual(idsOf(first.rows), range(0, 300));
      await put(kinesis, 'events', Array.from({ length: 200 }, (_, i) => jsonRecord(300 + i)));
      // Give the channel time to read what is there (its buffer is younger than the freshness interval).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await server.close();
      server = await startS3TestServer({}, { clock, dataDir });
      s3 = server.s3Client();
      kinesis = server.client();
      await put(kinesis, 'events', Array.from({ length: 200 }, (_, i) => jsonRecord(500 + i)));
      const all = await when(clock, () => scan('events'), (s) => s.rows.length >= 700, 'the records of both runs');
      // One more interval: anything delivered twice would show up now.
      clock.advance((FRESHNESS_S + 1) * 1000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const settled = await scan('events');
      assert.deepEqual(idsOf(all.rows), range(0, 700), 'exactly once across the restart');
      assert.deepEqual(idsOf(settled.rows), range(0, 700));

      // A crash after a commit but before the channel saved its progress: the progress is put back
      // to the start, so the next run delivers every record of the channel's log again.
      const progressName = `kinesis/channel-progress/${channelId}`;
      const delivered = Number(await server.kinesis.catalog.getSetting(progressName));
      assert.ok(delivered >= 700);
      await server.kinesis.catalog.putSetting(progressName, '0');
      await server.close();
      server = await startS3TestServer({}, { clock, dataDir });
      s3 = server.s3Client();
      const restarted = server;
      await when(clock, async () => Number(await restarted.kinesis.catalog.getSetting(progressName)), (v) => v >= delivered, 'the second delivery of the log');
      const again = await scan('events');
      assert.deepEqual(idsOf(again.rows), range(0, 700), 'a batch delivered again commits nothing twice');
      assert.equal(again.snapshots, settled.snapshots, 'and makes no snapshot');
    } finally {
      globalThis.fetch = originalFetch;
      await server.destroy().catch(() => {});
      removeDir(dataDir);
    }
  });
});

describe('the Iceberg REST catalog with --credentials', () => {
  it('is not served: it would answer without a signature', async () => {
    const dir = tempDir('tributary-iceberg-auth-');
    const credentials = path.join(dir, 'credentials.json');
    writeFileSync(credentials, JSON.stringify([{ accessKeyId: 'AKIDICEBERG', secretAccessKey: 'iceberg-secret', principal: `arn:aws:iam::${ACCOUNT}:user/reader` }]), { mode: 0o600 });
    const server = await startS3TestServer({ credentials });
    try {
      const dev = await fetch(`${server.endpoint}/iceberg/v1/config`);
      const body = await dev.text();
      assert.notEqual(dev.status, 200, body);
      assert.doesNotMatch(body, /overrides|defaults/);
    } finally {
      await server.destroy();
      removeDir(dir);
    }
  });
});
