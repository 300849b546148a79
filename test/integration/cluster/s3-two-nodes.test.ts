/**
 * Two Tributary nodes on one three-server JetStream cluster serve the same buckets: an object put
 * through node A's S3 endpoint is listed and read byte for byte through node B's, and a multipart
 * upload begun on A is completed on B.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { TestServer } from '../../helpers/server.js';
import { skipWithoutNats, startCluster, type TestCluster } from './cluster.js';

const MiB = 1024 * 1024;

/** Binary, with every byte value, different for every seed. */
function bytes(seed: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

async function body(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

describe('two nodes serving S3 from one JetStream cluster', { skip: skipWithoutNats() }, () => {
  let cluster: TestCluster;
  let a: TestServer;
  let b: TestServer;
  let sa: S3Client;
  let sb: S3Client;

  const client = (server: TestServer) =>
    new S3Client({
      endpoint: server.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDCLUSTER', secretAccessKey: 'cluster' },
      maxAttempts: 1,
    });

  before(async () => {
    cluster = await startCluster();
    a = await cluster.node({ s3Port: 0 });
    b = await cluster.node({ s3Port: 0 });
    sa = client(a);
    sb = client(b);
  });
  after(async () => {
    sa?.destroy();
    sb?.destroy();
    await cluster?.destroy();
  });

  it('lists and reads through B, byte for byte, the objects put through A', async () => {
    await sa.send(new CreateBucketCommand({ Bucket: 'shared.bucket' }));
    await sb.send(new HeadBucketCommand({ Bucket: 'shared.bucket' }));
    const listed = await sb.send(new ListBucketsCommand({}));
    assert.deepEqual(listed.Buckets!.map((x) => x.Name), ['shared.bucket']);

    const objects = new Map<string, Buffer>([
      ['a/one.bin', bytes(1, 300 * 1024)],
      ['a/two.bin', bytes(2, 17)],
      ['b/é-ü.bin', bytes(3, 128 * 1024)],
      ['empty', Buffer.alloc(0)],
      ['z', bytes(4, 1)],
    ]);
    for (const [key, data] of objects) {
      await sa.send(
        new PutObjectCommand({ Bucket: 'shared.bucket', Key: key, Body: data, ContentType: 'application/x-test', Metadata: { origin: 'node-a' } }),
      );
    }

    const all = await sb.send(new ListObjectsV2Command({ Bucket: 'shared.bucket' }));
    assert.deepEqual(
      all.Contents!.map((c) => [c.Key, c.Size, c.ETag]),
      [...objects].sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y))).map(([k, d]) => [k, d.length, `"${md5(d).toString('hex')}"`]),
    );
    const rolled = await sb.send(new ListObjectsV2Command({ Bucket: 'shared.bucket', Delimiter: '/', MaxKeys: 2 }));
    assert.deepEqual(rolled.CommonPrefixes!.map((p) => p.Prefix), ['a/', 'b/']);
    assert.equal(rolled.IsTruncated, true);
    const rest = await sb.send(
      new ListObjectsV2Command({ Bucket: 'shared.bucket', Delimiter: '/', MaxKeys: 2, ContinuationToken: rolled.NextContinuationToken }),
    );
    assert.deepEqual(rest.Contents!.map((c) => c.Key), ['empty', 'z']);

    for (const [key, data] of objects) assert.ok((await body(sb, 'shared.bucket', key)).equals(data), key);
    const head = await sb.send(new HeadObjectCommand({ Bucket: 'shared.bucket', Key: 'a/one.bin' }));
    assert.equal(head.ContentType, 'application/x-test');
    assert.deepEqual(head.Metadata, { origin: 'node-a' });

    // An overwrite and a delete through B are what A serves next.
    const replaced = bytes(5, 200 * 1024);
    await sb.send(new PutObjectCommand({ Bucket: 'shared.bucket', Key: 'a/one.bin', Body: replaced }));
    assert.ok((await body(sa, 'shared.bucket', 'a/one.bin')).equals(replaced));
    await sb.send(new DeleteObjectCommand({ Bucket: 'shared.bucket', Key: 'z' }));
    const afterDelete = await sa.send(new ListObjectsV2Command({ Bucket: 'shared.bucket', Prefix: 'z' }));
    assert.equal(afterDelete.KeyCount, 0);
  });

  it('completes on B a multipart upload begun on A, and A reads the whole object', async () => {
    await sb.send(new CreateBucketCommand({ Bucket: 'multipart' }));
    const parts = [bytes(10, 5 * MiB), bytes(11, 5 * MiB + 3), bytes(12, 1234)];
    const { UploadId } = await sa.send(new CreateMultipartUploadCommand({ Bucket: 'multipart', Key: 'big/object', ContentType: 'video/x-test' }));
    const etags: string[] = [];
    // Parts through both nodes.
    for (let i = 0; i < parts.length; i++) {
      const s3 = i === 1 ? sb : sa;
      const r = await s3.send(new UploadPartCommand({ Bucket: 'multipart', Key: 'big/object', UploadId, PartNumber: i + 1, Body: parts[i] }));
      etags.push(r.ETag!);
    }
    const uploads = await sb.send(new ListMultipartUploadsCommand({ Bucket: 'multipart' }));
    assert.deepEqual(uploads.Uploads!.map((u) => [u.Key, u.UploadId]), [['big/object', UploadId]]);
    const listedParts = await sb.send(new ListPartsCommand({ Bucket: 'multipart', Key: 'big/object', UploadId }));
    assert.deepEqual(listedParts.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag]), parts.map((p, i) => [i + 1, p.length, etags[i]]));

    const done = await sb.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'multipart',
        Key: 'big/object',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    assert.equal(done.ETag, `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-3"`);
    const whole = Buffer.concat(parts);
    const got = await body(sa, 'multipart', 'big/object');
    assert.equal(got.length, whole.length);
    assert.ok(got.equals(whole));
    const head = await sa.send(new HeadObjectCommand({ Bucket: 'multipart', Key: 'big/object' }));
    assert.equal(head.ContentType, 'video/x-test');
    assert.equal(head.ETag, done.ETag);
    const second = await sa.send(new GetObjectCommand({ Bucket: 'multipart', Key: 'big/object', PartNumber: 2 }));
    assert.ok(Buffer.from(await second.Body!.transformToByteArray()).equals(parts[1]!));
    assert.equal((await sa.send(new ListMultipartUploadsCommand({ Bucket: 'multipart' }))).Uploads, undefined);

    // Emptied through A, the bucket is deleted through B.
    await sa.send(new DeleteObjectCommand({ Bucket: 'multipart', Key: 'big/object' }));
    await sb.send(new DeleteBucketCommand({ Bucket: 'multipart' }));
    await assert.rejects(sa.send(new HeadBucketCommand({ Bucket: 'multipart' })), (err: Error) => err.name === 'NotFound');
  });
});
