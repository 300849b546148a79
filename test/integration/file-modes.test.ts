import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateDeliveryStreamCommand, DescribeDeliveryStreamCommand, FirehoseClient, PutRecordCommand as FirehosePutRecord } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { kinesisClient, removeDir, spawnCli, tempDir } from '../helpers/server.js';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

/** Every file and directory under `dir` (itself included), with its permission bits. */
function walk(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: dir, dir: true, mode: lstatSync(dir).mode & 0o777 }];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push({ path: p, dir: false, mode: lstatSync(p).mode & 0o777 });
  }
  return out;
}

function assertPrivate(dataDir: string, when: string): string[] {
  const entries = walk(dataDir);
  const wrong = entries
    .filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))
    .map((e) => `${path.relative(dataDir, e.path) || '.'} ${e.mode.toString(8)}`);
  assert.deepEqual(wrong, [], `${when}: every directory is 0700 and every file 0600`);
  return entries.map((e) => path.relative(dataDir, e.path));
}

async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 2_000; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * Starts a server under `umask` on a data directory it creates, with a self-signed certificate,
 * writes through every service that keeps files, and checks the modes of everything it made,
 * while it runs (the SQLite -wal and -shm files exist then) and after it has stopped.
 */
async function exercise(umask: string): Promise<void> {
  const root = tempDir();
  const dataDir = path.join(root, 'data', 'tributary');
  const server = await spawnCli(
    ['--port', '0', '--s3-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--tls', 'self-signed', '--log-level', 'warn',
      '--create-stream-ms', '0', '--create-delivery-stream-ms', '0', '--limits', 'off', '--segment-bytes', '2048'],
    { umask },
  );
  try {
    const ca = readFileSync(path.join(dataDir, 'tls', 'self-signed.crt'));
    const requestHandler = () => new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) });
    const endpoint = `https://127.0.0.1:${server.port}`;
    const kinesis = kinesisClient(endpoint, { requestHandler: requestHandler() });
    const dynamodb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: requestHandler() });
    const firehose = new FirehoseClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: requestHandler() });
    const s3 = new S3Client({
      endpoint: `https://127.0.0.1:${server.s3Port}`,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
      requestHandler: requestHandler(),
    });
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName: 'modes', ShardCount: 2 }));
      await until(async () => {
        const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'modes' }));
        return d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE' ? true : undefined;
      }, 'the stream to be ACTIVE');
      // Small segments, so that they roll and their index files are written.
      for (let batch = 0; batch < 4; batch++) {
        const put = await kinesis.send(
          new PutRecordsCommand({
            StreamName: 'modes',
            Records: Array.from({ length: 20 }, (_, i) => ({ Data: Buffer.alloc(300, `record ${batch}.${i} `), PartitionKey: `k${i}` })),
          }),
        );
        assert.equal(put.FailedRecordCount, 0);
      }

      await s3.send(new CreateBucketCommand({ Bucket: 'modes-bucket' }));
      await s3.send(new PutObjectCommand({ Bucket: 'modes-bucket', Key: 'a/b.txt', Body: 'hello' }));
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'modes-bucket', Key: 'big' }));
      await s3.send(new UploadPartCommand({ Bucket: 'modes-bucket', Key: 'big', UploadId: upload.UploadId, PartNumber: 1, Body: 'part' }));

      await dynamodb.send(
        new CreateTableCommand({
          TableName: 'leases',
          KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await dynamodb.send(new PutItemCommand({ TableName: 'leases', Item: { leaseKey: { S: 'shardId-000000000000' } } }));

      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'modes-delivery',
          ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::000000000000:role/r', BucketARN: 'arn:aws:s3:::modes-bucket' },
        }),
      );
      await until(async () => {
        const d = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'modes-delivery' }));
        return d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE' ? true : undefined;
      }, 'the delivery stream to be ACTIVE');
      await firehose.send(new FirehosePutRecord({ DeliveryStreamName: 'modes-delivery', Record: { Data: Buffer.from('{"a":1}\n') } }));
    } finally {
      kinesis.destroy();
      dynamodb.destroy();
      firehose.destroy();
      s3.destroy();
    }

    const running = assertPrivate(dataDir, `umask ${umask}, running`);
    // What the walk covered: the kinds of files the brief names are all there.
    for (const expected of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm', 'tables.sqlite', 'tables.sqlite-wal', 'tributary.lock',
      'buckets/buckets.sqlite', 'buckets/buckets.sqlite-wal', 'buckets/modes-bucket', 'buckets/.incoming', 'keys/master.key', 'master-key.check',
      'tls/self-signed.crt', 'tls/self-signed.key', 'streams']) {
      assert.ok(running.includes(expected), `${expected} is in the data directory`);
    }
    assert.ok(running.filter((p) => p.startsWith('buckets/modes-bucket/')).length >= 2, 'object and part files are in the bucket directory');
    assert.ok(running.some((p) => p.startsWith('streams/') && p.endsWith('.log')), 'segment files are there');
    assert.ok(running.some((p) => p.startsWith('streams/') && p.endsWith('.idx')), 'segment index files are there');
    assert.equal(lstatSync(path.join(root, 'data')).mode & 0o777, 0o700, 'a parent the server made for the data directory is 0700 too');
  } finally {
    const code = await server.stop();
    assert.equal(code, 0);
  }
  assertPrivate(dataDir, `umask ${umask}, stopped`);
  removeDir(root);
}

describe('file modes', () => {
  it('everything the server makes is 0700 (directories) or 0600 (files) under umask 0022', async () => {
    await exercise('0022');
  });

  it('and under umask 0000', async () => {
    await exercise('0000');
  });
});
