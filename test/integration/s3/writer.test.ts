import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import { objectWriterOptions, ObjectWriter } from '../../../src/s3/writer.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { multipartEtag, startS3TestServer, type S3TestServer } from './helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

/** The same writes and reads, whichever endpoint the writer was pointed at. */
async function exercise(writer: ObjectWriter, bucket: string, s3Etags: boolean): Promise<void> {
  await writer.ensureBucket(bucket);
  await writer.ensureBucket(bucket);
  const small = Buffer.from('{"record":1}\n');
  const put = await writer.put(bucket, 'delivery/2026/12/07/part-0001.json', small, { contentType: 'application/json', metadata: { source: 'test' } });
  assert.equal(put.etag, `"${md5(small).toString('hex')}"`);
  assert.deepEqual(await writer.get(bucket, 'delivery/2026/12/07/part-0001.json'), small);
  const big = randomBytes(12 * 1024 * 1024);
  const mib8 = 8 * 1024 * 1024;
  const bigPut = await writer.put(bucket, 'delivery/big.bin', big);
  // s3rver computes its own kind of multipart ETag; Tributary computes S3's.
  if (s3Etags) assert.equal(bigPut.etag, multipartEtag([big.subarray(0, mib8), big.subarray(mib8)], md5));
  else assert.match(bigPut.etag, /^"[0-9a-f]{32}(-\d+)?"$/);
  assert.ok((await writer.get(bucket, 'delivery/big.bin')).equals(big));
  const listed = [];
  for await (const o of writer.list(bucket, 'delivery/')) listed.push([o.key, o.size]);
  assert.deepEqual(listed, [['delivery/2026/12/07/part-0001.json', small.length], ['delivery/big.bin', big.length]]);
  await writer.delete(bucket, 'delivery/big.bin');
  const after = [];
  for await (const o of writer.list(bucket, 'delivery/')) after.push(o.key);
  assert.deepEqual(after, ['delivery/2026/12/07/part-0001.json']);
}

describe('the object writer', () => {
  let external: S3rver;
  let externalUrl: string;
  let externalDir: string;
  let servers: S3TestServer[] = [];
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  before(async () => {
    externalDir = tempDir('tributary-s3rver-');
    external = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: externalDir });
    const address = await external.run();
    externalUrl = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    for (const s of servers) await s.destroy();
    servers = [];
    await external.close();
    removeDir(externalDir);
    if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
    if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
  });

  it('writes to Tributary\'s own S3 endpoint by default', async () => {
    const server = await startS3TestServer();
    servers.push(server);
    assert.equal(server.objectEndpoint, server.s3Endpoint);
    const writer = new ObjectWriter(objectWriterOptions({ s3Endpoint: '', region: 'us-east-1' }, server.s3Endpoint));
    try {
      await exercise(writer, 'own-bucket', true);
    } finally {
      writer.close();
    }
  });

  it('writes to an external S3-compatible server named by --s3-endpoint, with the AWS credentials of the environment', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const server = await startS3TestServer({ s3Endpoint: externalUrl });
    servers.push(server);
    assert.equal(server.objectEndpoint, externalUrl);
    const writer = new ObjectWriter(objectWriterOptions({ s3Endpoint: externalUrl, region: 'us-east-1' }, server.s3Endpoint));
    try {
      await exercise(writer, 'external-bucket', false);
    } finally {
      writer.close();
    }
    // The objects are in the external server, not in Tributary's own buckets.
    const own = new ObjectWriter(objectWriterOptions({ s3Endpoint: '', region: 'us-east-1' }, server.s3Endpoint));
    try {
      await assert.rejects(own.get('external-bucket', 'delivery/2026/12/07/part-0001.json'), { name: 'NoSuchBucket' });
    } finally {
      own.close();
    }
  });
});
