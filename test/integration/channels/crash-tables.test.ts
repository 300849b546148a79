/**
 * A channel to an S3 Tables (Iceberg) table across SIGKILLs: every record the stream acknowledged
 * is in the table exactly once after the restarts, whether the kill came while records were being
 * put or while the table was being written. The child servers run on the system clock; each
 * restart runs further ahead (`--clock-offset-ms`) so that what was buffered is due at once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { icebergMetadata, icebergRead } from 'icebird';
import { removeDir, spawnServer, tempDir, type ChildServer } from '../../helpers/server.js';
import { ACCOUNT, createChannel, createStream, ROLE, s3Fetch, streamArn } from './helpers.js';

const ARGS = ['--fsync', 'always'];
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const FRESHNESS_S = 300;
const TABLE_URL = 's3://lake/streams/events';

function clients(srv: ChildServer): { kinesis: KinesisClient; s3: S3Client } {
  assert.ok(srv.s3Endpoint, 'the server announced its S3 endpoint');
  return {
    kinesis: new KinesisClient({ endpoint: srv.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    s3: new S3Client({ endpoint: srv.s3Endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 }),
  };
}


/** Writers putting numbered JSON records until stopped; `acked` holds the ids the stream acknowledged. */
function load(kinesis: () => KinesisClient, sent: Set<number>, acked: Set<number>, next: { n: number }) {
  let stop = false;
  let failure: unknown;
  const writer = async () => {
    while (!stop) {
      const ids = Array.from({ length: 100 }, () => next.n++);
      for (const id of ids) sent.add(id);
      try {
        const out = await kinesis().send(
          new PutRecordsCommand({
            StreamName: 'events',
            Records: ids.map((id) => ({ Data: Buffer.from(JSON.stringify({ id, pad: 'p'.repeat(id % 64) })), PartitionKey: `pk-${id}` })),
          }),
        );
        out.Records!.forEach((r, i) => {
          if (r.SequenceNumber) acked.add(ids[i]!);
        });
      } catch (err) {
        if (!stop) failure = err; // failed before the kill
        return; // the server is gone
      }
    }
  };
  const writers = [writer(), writer()];
  return {
    failure: () => failure,
    async stop() {
      stop = true;
      await Promise.all(writers);
    },
  };
}

async function until<T>(read: () => Promise<T | undefined>, what: string, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const value = await read().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String((last as Error)?.stack ?? last)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a table channel across SIGKILLs', () => {
  const dirs: string[] = [];
  const children: ChildServer[] = [];
  const originalFetch = globalThis.fetch;
  after(() => {
    globalThis.fetch = originalFetch;
    for (const c of children) c.child.kill('SIGKILL');
    dirs.forEach(removeDir);
  });

  it('has every acknowledged record in the table exactly once after kills while putting and while delivering', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const sent = new Set<number>();
    const acked = new Set<number>();
    const next = { n: 0 };
    let srv = await spawnServer(dataDir, ARGS);
    children.push(srv);
    let c = clients(srv);
    globalThis.fetch = s3Fetch(() => c.s3, originalFetch);

    await createStream(c.kinesis, 'events');
    await createChannel(c.kinesis, {
      ChannelName: 'events-to-lake',
      ServiceExecutionRoleARN: ROLE,
      StreamConfigurationList: [{ StreamARN: streamArn('events'), RecordConfiguration: { RecordFormatType: 'JSON' } }],
      S3TablesDestinationConfiguration: {
        DataFreshnessInSeconds: FRESHNESS_S,
        DeadLetterQueueS3Configuration: { BucketARN: 'arn:aws:s3:::lake-dlq', ExpectedBucketOwner: ACCOUNT },
        S3TablesConfigurationList: [{ TableBucketARN: `arn:aws:s3tables:us-east-1:${ACCOUNT}:bucket/lake`, Namespace: 'streams', TableName: 'events', CompressionType: 'SNAPPY' }],
      },
    });

    // 1. Killed while records are being put: nothing is due yet (the freshness is 300 s).
    let writers = load(() => c.kinesis, sent, acked, next);
    await until(async () => (acked.size >= 2000 || writers.failure() ? true : undefined), 'the first records');
    assert.equal(writers.failure(), undefined);
    srv.child.kill('SIGKILL');
    await srv.exited;
    await writers.stop();
    c.kinesis.destroy();
    c.s3.destroy();
    const firstAcked = acked.size;

    // 2. Restarted 400 s ahead: what was buffered is due at once. Killed as soon as the table's
    // first object is written, while that delivery is under way, with records still being put.
    srv = await spawnServer(dataDir, [...ARGS, '--clock-offset-ms', String((FRESHNESS_S + 100) * 1000)]);
    children.push(srv);
    c = clients(srv);
    writers = load(() => c.kinesis, sent, acked, next);
    await until(async () => {
      const out = await c.s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'streams/events/' }));
      return (out.KeyCount ?? 0) > 0 ? true : undefined;
    }, 'the first table object');
    assert.equal(writers.failure(), undefined);
    srv.child.kill('SIGKILL');
    await srv.exited;
    await writers.stop();
    c.kinesis.destroy();
    c.s3.destroy();
    assert.ok(acked.size > firstAcked, 'records were acknowledged between the two kills');

    // 3. Restarted 1000 s ahead: everything acknowledged is due; delivery finishes.
    srv = await spawnServer(dataDir, [...ARGS, '--clock-offset-ms', String((2 * FRESHNESS_S + 400) * 1000)]);
    children.push(srv);
    c = clients(srv);
    try {
      const ids = await until(async () => {
        const metadata = await icebergMetadata({ tableUrl: TABLE_URL });
        const rows = (await icebergRead({ tableUrl: TABLE_URL, metadata })) as Record<string, unknown>[];
        const seen = rows.map((r) => (JSON.parse(r.data as string) as { id: number }).id);
        const present = new Set(seen);
        return [...acked].every((id) => present.has(id)) ? seen : undefined;
      }, 'every acknowledged record in the table');
      assert.equal(new Set(ids).size, ids.length, 'no record twice');
      for (const id of ids) assert.ok(sent.has(id), `only records that were put: ${id}`);
      assert.ok(acked.size >= 2000);
    } finally {
      c.kinesis.destroy();
      c.s3.destroy();
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });
});
