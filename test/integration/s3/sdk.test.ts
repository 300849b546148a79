import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { multipartEtag, startS3TestServer, type S3TestServer } from './helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const md5Etag = (b: Buffer) => `"${md5(b).toString('hex')}"`;
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};

async function bytesOf(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

function raw(endpoint: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  const u = new URL(endpoint);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('S3 endpoint with @aws-sdk/client-s3 and lib-storage', () => {
  let server: S3TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startS3TestServer();
    s3 = server.s3Client();
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk' }));
  });
  after(() => server.destroy());

  it('creates, heads, lists and deletes buckets with S3 errors for the wrong cases', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'temp-bucket' }));
    await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'temp-bucket' })), { name: 'BucketAlreadyOwnedByYou' });
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'temp-bucket' }));
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(list.Buckets?.map((b) => b.Name).sort(), ['sdk', 'temp-bucket']);
    await s3.send(new PutObjectCommand({ Bucket: 'temp-bucket', Key: 'x', Body: 'x' }));
    await assert.rejects(s3.send(new DeleteBucketCommand({ Bucket: 'temp-bucket' })), { name: 'BucketNotEmpty' });
    await s3.send(new DeleteObjectCommand({ Bucket: 'temp-bucket', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'temp-bucket' }));
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'temp-bucket' })), { name: 'NotFound' });
    await assert.rejects(s3.send(new DeleteBucketCommand({ Bucket: 'temp-bucket' })), { name: 'NoSuchBucket' });
    for (const bad of ['ab', 'Upper', 'a..b', '192.168.1.1', 'xn--abc', 'bucket-s3alias', '-lead']) {
      const res = await raw(server.s3, 'PUT', `/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(res.body, /<Code>InvalidBucketName<\/Code>/, bad);
    }
  });

  it('puts and gets objects byte for byte with MD5 ETags, CRC32 checksums, metadata and content headers', async () => {
    const body = Buffer.from('hello world');
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'sdk',
        Key: 'dir/hello.txt',
        Body: body,
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment',
        ContentLanguage: 'en',
        Metadata: { Colour: 'blue' },
      }),
    );
    assert.equal(put.ETag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    assert.equal(put.ChecksumCRC32, 'DUoRhQ==');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'dir/hello.txt' }));
    assert.deepEqual(await bytesOf(got.Body), body);
    assert.equal(got.ETag, md5Etag(body));
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ContentDisposition, 'attachment');
    assert.equal(got.ContentLanguage, 'en');
    assert.deepEqual(got.Metadata, { colour: 'blue' });
    assert.equal(got.ChecksumCRC32, crc32b64(body));
    assert.ok(got.$metadata.requestId);
    assert.ok(got.$metadata.extendedRequestId);

    const empty = await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'empty', Body: Buffer.alloc(0) }));
    assert.equal(empty.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    assert.equal((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'empty' }))).Body)).length, 0);
  });

  it('takes stream bodies (aws-chunked with a CRC32 trailer) and keys that need encoding', async () => {
    const data = randomBytes(300_000);
    const key = "odd keys/a+b c!*'()%&=ü/../x//y";
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'sdk', Key: key, Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length }),
    );
    assert.equal(put.ETag, md5Etag(data));
    assert.equal(put.ChecksumCRC32, crc32b64(data));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: key }));
    assert.deepEqual(await bytesOf(got.Body), data);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', Prefix: 'odd keys/' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), [key]);
  });

  it('serves ranges and evaluates conditional headers', async () => {
    const body = Buffer.from('0123456789');
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'range', Body: body }));
    const part = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=2-4' }));
    assert.equal(part.ContentRange, 'bytes 2-4/10');
    assert.equal((await bytesOf(part.Body)).toString(), '234');
    assert.equal(part.ChecksumCRC32, undefined);
    assert.equal((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=-3' }))).Body)).toString(), '789');
    assert.equal((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=7-100' }))).Body)).toString(), '789');
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', Range: 'bytes=10-' })), { name: 'InvalidRange' });
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfMatch: '"nope"' })), { name: 'PreconditionFailed' });
    const ok = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfMatch: ETag }));
    assert.equal((await bytesOf(ok.Body)).toString(), '0123456789');
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfNoneMatch: ETag })), (e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode === 304);
    const past = new Date(Date.now() - 3_600_000);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'range', IfModifiedSince: new Date() })), (e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode === 304);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfUnmodifiedSince: past })), { name: 'PreconditionFailed' });
    // If-Match true beats If-Unmodified-Since false.
    const both = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'range', IfMatch: ETag, IfUnmodifiedSince: past }));
    assert.equal(both.$metadata.httpStatusCode, 200);
    await bytesOf(both.Body);
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'range', Body: 'x', IfNoneMatch: '*' })), { name: 'PreconditionFailed' });
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'missing' })), { name: 'NoSuchKey' });
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'missing' })), { name: 'NotFound' });
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })), { name: 'NoSuchBucket' });
  });

  it('copies objects with the COPY and REPLACE metadata directives', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'src', Body: 'copy me', ContentType: 'text/x-src', Metadata: { a: '1' } }));
    const c1 = await s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'dst 1', CopySource: 'sdk/src', Metadata: { ignored: 'yes' } }));
    assert.equal(c1.CopyObjectResult?.ETag, md5Etag(Buffer.from('copy me')));
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dst 1' }));
    assert.deepEqual(h1.Metadata, { a: '1' });
    assert.equal(h1.ContentType, 'text/x-src');
    await s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'dst2', CopySource: '/sdk/dst%201', MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'text/new' }));
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dst2' }));
    assert.deepEqual(h2.Metadata, { b: '2' });
    assert.equal(h2.ContentType, 'text/new');
    await assert.rejects(s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'src', CopySource: 'sdk/src' })), { name: 'InvalidRequest' });
    await assert.rejects(s3.send(new CopyObjectCommand({ Bucket: 'sdk', Key: 'x', CopySource: 'sdk/nothing' })), { name: 'NoSuchKey' });
  });

  it('lists with prefix, delimiter, pages, start-after and v1 markers', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    // UTF-8 byte order: 'é' (C3 A9) sorts after 'z'.
    const keys = ['a/1', 'a/2', 'a/b/3', 'b', 'c/4', 'c/5', 'd', 'z/6', 'é'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key: k, Body: k }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
    assert.deepEqual(all.Contents?.map((c) => c.Key), keys);
    assert.equal(all.KeyCount, keys.length);
    assert.equal(all.Contents?.[0]?.Owner, undefined);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
    assert.deepEqual(top.Contents?.map((c) => c.Key), ['b', 'd', 'é']);
    assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'c/', 'z/']);
    const under = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/', Delimiter: '/', FetchOwner: true }));
    assert.deepEqual(under.Contents?.map((c) => c.Key), ['a/1', 'a/2']);
    assert.deepEqual(under.CommonPrefixes?.map((p) => p.Prefix), ['a/b/']);
    assert.ok(under.Contents?.[0]?.Owner?.ID);
    // Pages of two, with the delimiter: every entry once, prefixes counted once each.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      pages++;
      assert.ok((page.KeyCount ?? 0) <= 2);
      const entries = [...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!)];
      seen.push(...entries.sort());
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    assert.deepEqual(seen.sort(), ['a/', 'b', 'c/', 'd', 'z/', 'é'].sort());
    assert.equal(pages, 3);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'c/4' }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['c/5', 'd', 'z/6', 'é']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2 }));
    assert.equal(v1.IsTruncated, true);
    assert.equal(v1.NextMarker, 'b');
    const v1b = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', Marker: 'b', MaxKeys: 2 }));
    assert.deepEqual(v1b.CommonPrefixes?.map((p) => p.Prefix), ['c/']);
    assert.deepEqual(v1b.Contents?.map((c) => c.Key), ['d']);
    assert.equal(v1b.NextMarker, 'd');
    const v1c = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', Marker: 'c/' }));
    assert.deepEqual(v1c.Contents?.map((c) => c.Key), ['d', 'é']);
    const enc = await raw(server.s3, 'GET', '/listing?list-type=2&prefix=c%2F&encoding-type=url');
    assert.match(enc.body, /<EncodingType>url<\/EncodingType>/);
    assert.match(enc.body, /<Key>c\/4<\/Key>/);
  });

  it('deletes many objects at once, quietly or not', async () => {
    for (const k of ['d1', 'd2', 'd3']) await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: k, Body: k }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: 'sdk', Delete: { Objects: [{ Key: 'd1' }, { Key: 'd2' }, { Key: 'never-there' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ['d1', 'd2', 'never-there']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'sdk', Delete: { Objects: [{ Key: 'd3' }], Quiet: true } }));
    assert.equal(quiet.Deleted, undefined);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'd3' })), { name: 'NotFound' });
  });

  it('uploads a 64 MiB object with lib-storage: multipart ETag, composite CRC32, bytes back intact', async () => {
    const size = 64 * 1024 * 1024;
    const data = randomBytes(size);
    const partSize = 5 * 1024 * 1024;
    const upload = new Upload({ client: s3, params: { Bucket: 'sdk', Key: 'big/object.bin', Body: data }, partSize, queueSize: 4 });
    const done = await upload.done();
    const parts: Buffer[] = [];
    for (let at = 0; at < size; at += partSize) parts.push(data.subarray(at, Math.min(size, at + partSize)));
    const expected = multipartEtag(parts, md5);
    assert.equal(done.ETag, expected);
    const composite = `${crc32b64(Buffer.concat(parts.map((p) => Buffer.from(crc32b64(p), 'base64'))))}-${parts.length}`;
    assert.equal((done as { ChecksumCRC32?: string }).ChecksumCRC32, composite);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'big/object.bin' }));
    assert.equal(head.ContentLength, size);
    assert.equal(head.ETag, expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'big/object.bin' }));
    const back = await bytesOf(got.Body);
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
    const second = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'big/object.bin', PartNumber: 2 }));
    assert.equal(second.PartsCount, parts.length);
    assert.deepEqual(await bytesOf(second.Body), parts[1]);
  });

  it('runs the multipart calls one by one, with their errors', async () => {
    const Bucket = 'sdk';
    const Key = 'mp/manual';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/x-test', Metadata: { m: 'v' } }));
    assert.ok(UploadId);
    const a = Buffer.alloc(5_242_880, 'a');
    const b = Buffer.from('b');
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: a }));
    const p3 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 3, Body: b }));
    assert.equal(p1.ETag, '"79b281060d337b9b2b84ccf390adcf74"');
    assert.equal(p3.ETag, '"92eb5ffee6ae2fec3ad71c777531578f"');
    await assert.rejects(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 10_001, Body: b })), { name: 'InvalidArgument' });
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 5_242_880], [3, 1]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === Key));
    await assert.rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 3, ETag: p3.ETag }, { PartNumber: 1, ETag: p1.ETag }] } })),
      { name: 'InvalidPartOrder' },
    );
    await assert.rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })),
      { name: 'InvalidPart' },
    );
    await assert.rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 3, ETag: p3.ETag }, { PartNumber: 4, ETag: p3.ETag }] } })),
      { name: 'InvalidPart' },
    );
    // A part copied from another object (here the small one) before the last part is too small.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'mp/small', Body: 'tiny' }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 2, CopySource: `${Bucket}/mp/small`, CopySourceRange: 'bytes=0-1' }));
    assert.equal(p2.CopyPartResult?.ETag, md5Etag(Buffer.from('ti')));
    await assert.rejects(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket, Key, UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }, { PartNumber: 3, ETag: p3.ETag }] },
        }),
      ),
      { name: 'EntityTooSmall' },
    );
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 3, ETag: p3.ETag }] } }));
    assert.equal(done.ETag, '"e5a8c5272b26fc10581a21089559b006-2"');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(got.ContentType, 'application/x-test');
    assert.deepEqual(got.Metadata, { m: 'v' });
    assert.deepEqual(await bytesOf(got.Body), Buffer.concat([a, b]));
    await assert.rejects(s3.send(new ListPartsCommand({ Bucket, Key, UploadId })), { name: 'NoSuchUpload' });
    const { UploadId: second } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp/aborted' }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'mp/aborted', UploadId: second, PartNumber: 1, Body: b }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mp/aborted', UploadId: second }));
    await assert.rejects(s3.send(new UploadPartCommand({ Bucket, Key: 'mp/aborted', UploadId: second, PartNumber: 1, Body: b })), { name: 'NoSuchUpload' });
  });

  it('answers virtual-hosted-style requests by Host', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'vhost/key.txt', Body: 'by host' }));
    const port = new URL(server.s3).port;
    for (const host of [`sdk.localhost:${port}`, `sdk.s3.localhost:${port}`]) {
      const res = await raw(server.s3, 'GET', '/vhost/key.txt', { host });
      assert.equal(res.status, 200, host);
      assert.equal(res.body, 'by host');
      const list = await raw(server.s3, 'GET', '/?list-type=2&prefix=vhost/', { host });
      assert.match(list.body, /<Name>sdk<\/Name>.*<Key>vhost\/key.txt<\/Key>/s);
    }
  });

  it('answers malformed and wrong requests with S3 error codes', async () => {
    const e = (res: { status: number; body: string }, status: number, code: string) => {
      assert.equal(res.status, status, res.body);
      assert.match(res.body, new RegExp(`<Code>${code}</Code>`));
      assert.match(res.body, /<RequestId>[0-9A-F]+<\/RequestId>/);
    };
    e(await raw(server.s3, 'PUT', `/sdk/${'k'.repeat(1025)}`, {}, Buffer.from('x')), 400, 'KeyTooLongError');
    e(await raw(server.s3, 'PUT', '/sdk/md5', { 'content-md5': md5(Buffer.from('other')).toString('base64') }, Buffer.from('x')), 400, 'BadDigest');
    e(await raw(server.s3, 'PUT', '/sdk/md5', { 'content-md5': 'not-md5' }, Buffer.from('x')), 400, 'InvalidDigest');
    e(await raw(server.s3, 'PUT', '/sdk/crc', { 'x-amz-checksum-crc32': crc32b64(Buffer.from('other')) }, Buffer.from('x')), 400, 'BadDigest');
    e(await raw(server.s3, 'PUT', '/sdk/sha', { 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') }, Buffer.from('x')), 400, 'XAmzContentSHA256Mismatch');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'md5' })), { name: 'NotFound' });
    const deleteBody = Buffer.from('<Delete><Object><Key>a</Key></Object>');
    e(await raw(server.s3, 'POST', '/sdk?delete', { 'content-md5': md5(deleteBody).toString('base64') }, deleteBody), 400, 'MalformedXML');
    const many = Buffer.from(`<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`);
    e(await raw(server.s3, 'POST', '/sdk?delete', { 'content-md5': md5(many).toString('base64') }, many), 400, 'MalformedXML');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'sdk', Key: 'mp/bad-xml' }));
    e(await raw(server.s3, 'POST', `/sdk/mp/bad-xml?uploadId=${UploadId}`, {}, Buffer.from('<CompleteMultipartUpload><Part>')), 400, 'MalformedXML');
    e(await raw(server.s3, 'POST', `/sdk/mp/bad-xml?uploadId=${UploadId}`, {}, Buffer.from('<CompleteMultipartUpload></CompleteMultipartUpload>')), 400, 'MalformedXML');
    e(await raw(server.s3, 'POST', '/sdk/mp/bad-xml?uploadId=nope', {}, Buffer.from('<CompleteMultipartUpload/>')), 404, 'NoSuchUpload');
    e(await raw(server.s3, 'GET', '/sdk/range', { range: 'bytes=50-60' }), 416, 'InvalidRange');
    e(await raw(server.s3, 'GET', '/sdk/nothing-here'), 404, 'NoSuchKey');
    e(await raw(server.s3, 'GET', '/no-such-bucket?list-type=2'), 404, 'NoSuchBucket');
    e(await raw(server.s3, 'PATCH', '/sdk/x'), 405, 'MethodNotAllowed');
    const head = await raw(server.s3, 'HEAD', '/sdk/nothing-here');
    assert.equal(head.status, 404);
    assert.equal(head.body, '');
  });

  it('answers requests its HTTP layer refuses (malformed, headers too large) with 400 and S3 XML errors', async () => {
    const port = Number(new URL(server.s3).port);
    const exchange = (data: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(data));
        let reply = '';
        socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
        socket.on('close', () => resolve(reply));
        socket.on('error', reject);
      });
    const expectXml = (reply: string, code: string, message: RegExp) => {
      const [head = '', body = ''] = reply.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/, reply);
      assert.match(head, /\r\nContent-Type: application\/xml\r\n/i);
      assert.match(head, /\r\nx-amz-request-id: [0-9A-F]{16}\r\n/i);
      assert.match(head, new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\\r\\n`, 'i'));
      assert.match(body, new RegExp(`^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\n<Error><Code>${code}</Code><Message>`));
      assert.match(body, message);
    };
    expectXml(await exchange('NOT HTTP AT ALL\r\n\r\n'), 'BadRequest', /error occurred when parsing the HTTP request/);
    // Over --max-header-bytes (64 KiB by default).
    expectXml(await exchange(`GET /sdk HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(70_000)}\r\n\r\n`), 'RequestHeaderSectionTooLarge', /exceed the maximum allowed size/);
  });
});
