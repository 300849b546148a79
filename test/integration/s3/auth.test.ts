import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { ManualClock } from '../../../src/util/clock.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { NodeSha256 } from '../../helpers/sigv4.js';
import { startS3TestServer, type S3TestServer } from './helpers.js';

// AWS's documented example key and the aws-chunked worked example (66,560 × 'a' as 65,536 + 1,024 + 0).
const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EXAMPLE_TIME = Date.UTC(2013, 4, 24, 0, 0, 0);

function send(endpoint: string, method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer) {
  const u = new URL(endpoint);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: pathAndQuery, headers, setHost: headers.host === undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];

describe('S3 signatures and authorization with a credentials file', () => {
  let server: S3TestServer;
  let dir: string;
  const clock = new ManualClock(EXAMPLE_TIME);
  const client = (accessKeyId: string, secretAccessKey: string) =>
    server.s3Client({ credentials: { accessKeyId, secretAccessKey }, systemClockOffset: clock.now() - Date.now() });

  before(async () => {
    dir = tempDir('tributary-s3-auth-');
    const file = path.join(dir, 'credentials.json');
    writeFileSync(
      file,
      JSON.stringify([
        { accessKeyId: AKID, secretAccessKey: SECRET, principal: 'admin', policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }] },
        {
          accessKeyId: 'AKIDLIMITED',
          secretAccessKey: 'limited-secret',
          principal: 'limited',
          policies: [
            {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::examplebucket/public/*' },
                { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::examplebucket' },
              ],
            },
          ],
        },
      ]),
    );
    // The server's clock stands at the worked example's date, so its signatures are current.
    server = await startS3TestServer({ credentials: file }, { clock });
    await client(AKID, SECRET).send(new CreateBucketCommand({ Bucket: 'examplebucket' }));
  });
  after(async () => {
    await server.destroy();
    removeDir(dir);
  });

  it('accepts SDK requests signed with a known key and refuses a wrong secret, an unknown key and anonymous requests', async () => {
    const admin = client(AKID, SECRET);
    await admin.send(new PutObjectCommand({ Bucket: 'examplebucket', Key: 'public/a.txt', Body: 'signed' }));
    const got = await admin.send(new GetObjectCommand({ Bucket: 'examplebucket', Key: 'public/a.txt' }));
    assert.equal(await got.Body!.transformToString(), 'signed');
    await assert.rejects(client(AKID, 'wrong').send(new GetObjectCommand({ Bucket: 'examplebucket', Key: 'public/a.txt' })), { name: 'SignatureDoesNotMatch' });
    await assert.rejects(client('AKIDUNKNOWN', 'x').send(new ListObjectsV2Command({ Bucket: 'examplebucket' })), { name: 'InvalidAccessKeyId' });
    const anon = await send(server.s3, 'GET', '/examplebucket/public/a.txt', {});
    assert.equal(anon.status, 403);
    assert.equal(code(anon.body), 'AccessDenied');
    // A request dated an hour away from the server's clock.
    const skewed = server.s3Client({ credentials: { accessKeyId: AKID, secretAccessKey: SECRET }, systemClockOffset: clock.now() - Date.now() + 3_600_000 });
    await assert.rejects(skewed.send(new ListObjectsV2Command({ Bucket: 'examplebucket' })), { name: 'RequestTimeTooSkewed' });
  });

  it("authorizes s3:* actions on bucket and object ARNs by the caller's policies", async () => {
    const limited = client('AKIDLIMITED', 'limited-secret');
    await limited.send(new PutObjectCommand({ Bucket: 'examplebucket', Key: 'public/b.txt', Body: 'ok' }));
    assert.equal(await (await limited.send(new GetObjectCommand({ Bucket: 'examplebucket', Key: 'public/b.txt' }))).Body!.transformToString(), 'ok');
    await limited.send(new ListObjectsV2Command({ Bucket: 'examplebucket' }));
    await assert.rejects(limited.send(new PutObjectCommand({ Bucket: 'examplebucket', Key: 'private/c.txt', Body: 'no' })), (e: Error) => {
      assert.equal(e.name, 'AccessDenied');
      assert.match(e.message, /arn:aws:iam::000000000000:user\/limited is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::examplebucket\/private\/c.txt/);
      return true;
    });
    await assert.rejects(limited.send(new DeleteObjectCommand({ Bucket: 'examplebucket', Key: 'public/b.txt' })), { name: 'AccessDenied' });
    await assert.rejects(limited.send(new CreateBucketCommand({ Bucket: 'not-allowed' })), { name: 'AccessDenied' });
  });

  it('serves presigned URLs until they expire', async () => {
    const port = new URL(server.s3).port;
    const signer = new SignatureV4({ credentials: { accessKeyId: AKID, secretAccessKey: SECRET }, region: 'eu-west-1', service: 's3', sha256: NodeSha256, uriEscapePath: false });
    const presigned = await signer.presign(
      // As S3 presigners do: the payload is unsigned.
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: Number(port),
        path: '/examplebucket/public/a.txt',
        query: {},
        headers: { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { signingDate: new Date(clock.now()), expiresIn: 60 },
    );
    const q = Object.entries(presigned.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const ok = await send(server.s3, 'GET', `/examplebucket/public/a.txt?${q}`, {});
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, 'signed');
    const tampered = await send(server.s3, 'GET', `/examplebucket/public/b.txt?${q}`, {});
    assert.equal(code(tampered.body), 'SignatureDoesNotMatch');
    clock.advance(61_000);
    try {
      const late = await send(server.s3, 'GET', `/examplebucket/public/a.txt?${q}`, {});
      assert.equal(late.status, 403);
      assert.equal(code(late.body), 'AccessDenied');
      assert.match(late.body, /Request has expired/);
    } finally {
      clock.set(EXAMPLE_TIME);
    }
  });

  function chunk(size: number, signature: string, data: Buffer): Buffer {
    return Buffer.concat([Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`), data, Buffer.from('\r\n')]);
  }
  const example = {
    'content-encoding': 'aws-chunked',
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-decoded-content-length': '66560',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
  };

  it("checks each chunk's signature of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body (AWS's worked example)", async () => {
    const signed = 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class';
    const headers = {
      ...example,
      'content-length': '66824',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
    };
    const body = (last: string) =>
      Buffer.concat([
        chunk(65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', Buffer.alloc(65536, 'a')),
        chunk(1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497', Buffer.alloc(1024, 'a')),
        Buffer.from(`0;chunk-signature=${last}\r\n\r\n`),
      ]);
    const good = body('b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
    assert.equal(good.length, 66824);
    const res = await send(server.s3, 'PUT', '/examplebucket/chunkObject.txt', headers, good);
    assert.equal(res.status, 200, res.body);
    const got = await client(AKID, SECRET).send(new GetObjectCommand({ Bucket: 'examplebucket', Key: 'chunkObject.txt' }));
    assert.equal(await got.Body!.transformToString(), 'a'.repeat(66560));
    const bad = body('b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df0');
    const refused = await send(server.s3, 'PUT', '/examplebucket/chunkObject2.txt', headers, bad);
    assert.equal(refused.status, 403);
    assert.equal(code(refused.body), 'SignatureDoesNotMatch');
    await assert.rejects(client(AKID, SECRET).send(new GetObjectCommand({ Bucket: 'examplebucket', Key: 'chunkObject2.txt' })), { name: 'NoSuchKey' });
  });

  it('checks the signed trailer and its CRC32C of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body', async () => {
    const signed = 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer';
    const headers = {
      ...example,
      'content-length': '66946',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32c',
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=4ee8080240a7fe90e91706fcff6113242cb3aba3fd9a80c564b139bb29f39db3`,
    };
    const body = (crc: string) =>
      Buffer.concat([
        chunk(65536, '2220eb187526a800d346e0cb021c0cc8087ed2c74b2b4984ec761ee8cc578b8e', Buffer.alloc(65536, 'a')),
        chunk(1024, '0542a83b9bf5556f7bd3d75a3fd6d81ed86979929cf2895ae8b5af2b33d4d839', Buffer.alloc(1024, 'a')),
        Buffer.from(
          '0;chunk-signature=9079449209b899d0a1dd4a7996f3ce3488c9c201dfd64e7f6b82408bc8eba701\r\n' +
            `x-amz-checksum-crc32c:${crc}\r\n` +
            'x-amz-trailer-signature:77973366fe6cc7c388054d9d5b261e31c5090f681f43dda0e2abec98e9c02f72\r\n\r\n',
        ),
      ]);
    const good = body('sOO8/Q==');
    assert.equal(good.length, 66946);
    // The vector signs this path; the object is the first test's, written again.
    const res = await send(server.s3, 'PUT', '/examplebucket/chunkObject.txt', headers, good);
    assert.equal(res.status, 200, res.body);
    const got = await client(AKID, SECRET).send(new GetObjectCommand({ Bucket: 'examplebucket', Key: 'chunkObject.txt', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC32C, 'sOO8/Q==');
    assert.equal((await got.Body!.transformToString()).length, 66560);
    // Another trailer value breaks the trailer's signature.
    const refused = await send(server.s3, 'PUT', '/examplebucket/chunkObject.txt', headers, body('AAAAAA=='));
    assert.equal(code(refused.body), 'SignatureDoesNotMatch');
  });
});
