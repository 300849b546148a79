/**
 * The Iceberg table writer against a real server's S3 endpoint and catalog: two writers that race
 * for the same version both commit (the loser re-plans on the winner's snapshot), a metadata file
 * left by a commit that never moved the pointer is skipped over, and icebird reads every row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { icebergMetadata, icebergRead } from 'icebird';
import { IcebergTable, type IcebergRow, type TableOptions } from '../../../src/delivery/iceberg/table.js';
import { CHANNEL_TABLE_FIELDS } from '../../../src/kinesis/channel-table.js';
import { ObjectWriter } from '../../../src/s3/writer.js';
import { startS3TestServer, type S3TestServer } from '../s3/helpers.js';

const row = (i: number): IcebergRow => ({
  shard_id: 'shardId-000000000000',
  sequence_number: String(1000 + i),
  partition_key: `pk-${i}`,
  approximate_arrival_timestamp: BigInt(Date.UTC(2026, 0, 1)) * 1000n + BigInt(i),
  data: JSON.stringify({ id: i }),
});

describe('Iceberg table writer', () => {
  let server: S3TestServer;
  let writer: ObjectWriter;
  let s3: S3Client;
  const originalFetch = globalThis.fetch;
  before(async () => {
    server = await startS3TestServer();
    s3 = server.s3Client();
    writer = new ObjectWriter({ endpoint: server.s3, region: 'us-east-1', credentials: { accessKeyId: 'AKIDS3TEST', secretAccessKey: 's3-test-secret' } });
    await writer.ensureBucket('whouse');
    // icebird fetches s3://b/k as https://b.s3.amazonaws.com/k: served from the test server.
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const m = /^([^.]+)\.s3\.amazonaws\.com$/.exec(url.hostname);
      if (!m) return originalFetch(input, init);
      const range = new Headers(init?.headers).get('range') ?? undefined;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: decodeURIComponent(url.pathname.slice(1)), Range: range }));
        return new Response(await out.Body!.transformToByteArray(), { status: range ? 206 : 200 });
      } catch {
        return new Response('missing', { status: 404 });
      }
    }) as typeof fetch;
  });
  after(async () => {
    globalThis.fetch = originalFetch;
    writer.close();
    await server.destroy();
  });

  /** `beforeVersion` runs before each metadata file is created. */
  const table = (name: string, beforeVersion?: () => Promise<void>) => {
    const options: TableOptions = {
      bucket: 'whouse',
      namespace: 'ns',
      name,
      fields: CHANNEL_TABLE_FIELDS,
      compression: 'SNAPPY',
      objects: { get: (b, k) => writer.getIfExists(b, k), put: (b, k, body) => writer.put(b, k, body), putIfAbsent: async (b, k, body) => {
          if (k.endsWith('.metadata.json')) await beforeVersion?.();
          return writer.putIfAbsent(b, k, body);
        },
      },
      pointers: server.kinesis.catalog,
      pointerName: `test/iceberg/${name}`,
      now: () => Date.now(),
    };
    return new IcebergTable(options);
  };

  it('a commit that loses the race is planned again on the winning snapshot', async () => {
    let hold: (() => Promise<unknown>) | undefined;
    const a = table('race', async () => {
      const before = hold;
      hold = undefined;
      await before?.();
    });
    const b = table('race');
    await a.current();
    const seen: (string | undefined)[] = [];
    // a plans on the empty table; before it writes its metadata, b commits.
    hold = () => b.append(() => ({ rows: [row(2)], summary: { 'test.writer': 'b' } }));
    const committed = await a.append((summary) => {
      seen.push(summary?.['test.writer']);
      return { rows: [row(1)], summary: { 'test.writer': 'a' } };
    });
    assert.equal(committed, 1);
    assert.deepEqual(seen, [undefined, 'b'], 'planned again on b\'s snapshot');
    const metadata = await icebergMetadata({ tableUrl: 's3://whouse/ns/race' });
    assert.equal(metadata.snapshots?.length, 2);
    assert.equal((metadata.snapshots?.[1]?.summary as Record<string, string> | undefined)?.['test.writer'], 'a');
    const rows = (await icebergRead({ tableUrl: 's3://whouse/ns/race', metadata })) as { data: string }[];
    assert.deepEqual(rows.map((r) => (JSON.parse(r.data) as { id: number }).id).sort(), [1, 2]);
  });

  it('two writers racing for the same version: both commit, the loser on top of the winner', async () => {
    const a = table('both');
    const b = table('both');
    await a.current();
    const [x, y] = await Promise.all([
      a.append(() => ({ rows: [row(10)], summary: {} })),
      b.append(() => ({ rows: [row(11), row(12)], summary: {} })),
    ]);
    assert.equal(x + y, 3);
    const { metadata, pointer } = await a.current();
    assert.equal(metadata.snapshots.length, 2);
    assert.equal(metadata['last-sequence-number'], 2);
    assert.equal(metadata.snapshots[1]!['parent-snapshot-id'], metadata.snapshots[0]!['snapshot-id']);
    assert.equal(metadata.snapshots[1]!.summary['total-records'], '3');
    // v2 is the winner's; the loser may have left one version behind before it moved on.
    assert.ok(pointer.version === 3 || pointer.version === 4, `version ${pointer.version}`);
    const rows = (await icebergRead({ tableUrl: 's3://whouse/ns/both' })) as { data: string }[];
    assert.deepEqual(rows.map((r) => (JSON.parse(r.data) as { id: number }).id).sort(), [10, 11, 12]);
  });

  it('skips a metadata file left by a commit that never moved the pointer', async () => {
    const t = table('orphan');
    await t.current();
    assert.ok(await writer.putIfAbsent('whouse', 'ns/orphan/metadata/v2.metadata.json', Buffer.from('{"left":"over"}')));
    assert.equal(await t.append(() => ({ rows: [row(20)], summary: {} })), 1);
    const { pointer } = await t.current();
    assert.equal(pointer.version, 3);
    assert.equal(pointer.location, 's3://whouse/ns/orphan/metadata/v3.metadata.json');
    assert.equal((await writer.get('whouse', 'ns/orphan/metadata/version-hint.text')).toString(), '3');
    const rows = (await icebergRead({ tableUrl: 's3://whouse/ns/orphan' })) as { data: string }[];
    assert.deepEqual(rows.map((r) => r.data), [JSON.stringify({ id: 20 })]);
  });
});
