import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { removeDir, tempDir } from '../../helpers/server.js';
import { DUMMY_ENV, multipartEtag, startS3TestServer, type S3TestServer } from './helpers.js';

const run = promisify(execFile);
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('S3 endpoint with the AWS CLI and boto3', () => {
  let server: S3TestServer;
  let dir: string;
  const env = () => ({ ...process.env, ...DUMMY_ENV, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' });
  const aws = async (...args: string[]) => (await run('aws', ['--endpoint-url', server.s3, ...args], { env: env(), maxBuffer: 1 << 24 })).stdout;

  before(async () => {
    server = await startS3TestServer();
    dir = tempDir('tributary-s3-cli-');
  });
  after(async () => {
    await server.destroy();
    removeDir(dir);
  });

  it('mb, cp up and down (single and multipart), ls, sync, rm, rb', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    const small = Buffer.from('small file\n');
    const big = randomBytes(20 * 1024 * 1024);
    writeFileSync(path.join(dir, 'small.txt'), small);
    writeFileSync(path.join(dir, 'big.bin'), big);
    await aws('s3', 'cp', path.join(dir, 'small.txt'), 's3://cli-bucket/docs/small.txt');
    await aws('s3', 'cp', path.join(dir, 'big.bin'), 's3://cli-bucket/data/big.bin');
    const s3 = server.s3Client();
    const headSmall = await s3.send(new HeadObjectCommand({ Bucket: 'cli-bucket', Key: 'docs/small.txt' }));
    assert.equal(headSmall.ETag, `"${md5(small).toString('hex')}"`);
    assert.equal(headSmall.ContentType, 'text/plain');
    const mib8 = 8 * 1024 * 1024;
    const headBig = await s3.send(new HeadObjectCommand({ Bucket: 'cli-bucket', Key: 'data/big.bin' }));
    assert.equal(headBig.ETag, multipartEtag([big.subarray(0, mib8), big.subarray(mib8, 2 * mib8), big.subarray(2 * mib8)], md5));

    const top = await aws('s3', 'ls', 's3://cli-bucket/');
    assert.match(top, /PRE data\//);
    assert.match(top, /PRE docs\//);
    const rec = await aws('s3', 'ls', '--recursive', 's3://cli-bucket');
    assert.match(rec, /11 docs\/small\.txt/);
    assert.match(rec, /20971520 data\/big\.bin/);
    assert.match(await aws('s3', 'ls'), /cli-bucket/);

    await aws('s3', 'cp', 's3://cli-bucket/data/big.bin', path.join(dir, 'big.back'));
    assert.ok(readFileSync(path.join(dir, 'big.back')).equals(big));
    await aws('s3', 'cp', 's3://cli-bucket/docs/small.txt', path.join(dir, 'small.back'));
    assert.ok(readFileSync(path.join(dir, 'small.back')).equals(small));
    // Bucket to bucket, large: HeadObject, GetObjectTagging, ranged UploadPartCopy.
    await aws('s3', 'cp', 's3://cli-bucket/data/big.bin', 's3://cli-bucket/copy/big.bin');
    await aws('s3', 'cp', 's3://cli-bucket/copy/big.bin', path.join(dir, 'copy.back'));
    assert.ok(readFileSync(path.join(dir, 'copy.back')).equals(big));

    const tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'sub'), { recursive: true });
    writeFileSync(path.join(tree, 'one.txt'), 'one');
    writeFileSync(path.join(tree, 'sub', 'two + three.txt'), 'two');
    await aws('s3', 'sync', tree, 's3://cli-bucket/tree/');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'cli-bucket', Prefix: 'tree/' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['tree/one.txt', 'tree/sub/two + three.txt']);
    // A second sync has nothing to send; after a change it sends that file only.
    writeFileSync(path.join(tree, 'one.txt'), 'one, longer');
    await aws('s3', 'sync', tree, 's3://cli-bucket/tree/');
    assert.match(await aws('s3', 'ls', '--recursive', 's3://cli-bucket/tree/'), /11 tree\/one\.txt/);

    await aws('s3', 'rm', 's3://cli-bucket/docs/small.txt');
    await aws('s3', 'rm', '--recursive', 's3://cli-bucket/tree/');
    assert.doesNotMatch(await aws('s3', 'ls', '--recursive', 's3://cli-bucket'), /tree\/|small\.txt/);
    await assert.rejects(aws('s3', 'rb', 's3://cli-bucket'), /BucketNotEmpty/);
    await aws('s3', 'rb', '--force', 's3://cli-bucket');
    assert.doesNotMatch(await aws('s3', 'ls'), /cli-bucket/);
    const api = JSON.parse(await aws('s3api', 'list-buckets'));
    assert.ok(Array.isArray(api.Buckets));
  });

  it('boto3: put, get, list with encoding-type=url, multipart upload_file, delete_objects, errors', async () => {
    const script = `
import boto3, hashlib, json, os, sys
from botocore.exceptions import ClientError
from boto3.s3.transfer import TransferConfig
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')
s3.create_bucket(Bucket='boto')
out = {}
r = s3.put_object(Bucket='boto', Key='a+b %/c.txt', Body=b'hello world', Metadata={'k': 'v'})
out['etag'] = r['ETag']
g = s3.get_object(Bucket='boto', Key='a+b %/c.txt')
out['body'] = g['Body'].read().decode()
out['meta'] = g['Metadata']
out['keys'] = [o['Key'] for o in s3.list_objects_v2(Bucket='boto')['Contents']]
out['prefixes'] = [p['Prefix'] for p in s3.list_objects_v2(Bucket='boto', Delimiter='/')['CommonPrefixes']]
path = os.path.join(sys.argv[2], 'nine.bin')
data = os.urandom(9 * 1024 * 1024)
open(path, 'wb').write(data)
s3.upload_file(path, 'boto', 'nine.bin', Config=TransferConfig(multipart_threshold=8*1024*1024, multipart_chunksize=8*1024*1024))
h = s3.head_object(Bucket='boto', Key='nine.bin')
out['nine_etag'] = h['ETag']
out['nine_expected'] = '"' + hashlib.md5(hashlib.md5(data[:8388608]).digest() + hashlib.md5(data[8388608:]).digest()).hexdigest() + '-2"'
back = os.path.join(sys.argv[2], 'nine.back')
s3.download_file('boto', 'nine.bin', back)
out['nine_same'] = open(back, 'rb').read() == data
d = s3.delete_objects(Bucket='boto', Delete={'Objects': [{'Key': 'nine.bin'}, {'Key': 'a+b %/c.txt'}]})
out['deleted'] = sorted(x['Key'] for x in d['Deleted'])
try:
    s3.get_object(Bucket='boto', Key='nine.bin')
except ClientError as e:
    out['missing'] = e.response['Error']['Code']
try:
    s3.create_bucket(Bucket='Bad_Name')
except ClientError as e:
    out['badname'] = e.response['Error']['Code']
except Exception as e:
    out['badname'] = type(e).__name__
out['request_id'] = bool(d['ResponseMetadata']['RequestId'])
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script, server.s3, dir], { env: env(), maxBuffer: 1 << 24 });
    const out = JSON.parse(stdout);
    assert.equal(out.etag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    assert.equal(out.body, 'hello world');
    assert.deepEqual(out.meta, { k: 'v' });
    assert.deepEqual(out.keys, ['a+b %/c.txt']);
    assert.deepEqual(out.prefixes, ['a+b %/']);
    assert.equal(out.nine_etag, out.nine_expected);
    assert.equal(out.nine_same, true);
    assert.deepEqual(out.deleted, ['a+b %/c.txt', 'nine.bin']);
    assert.equal(out.missing, 'NoSuchKey');
    assert.ok(['InvalidBucketName', 'ParamValidationError'].includes(out.badname), out.badname);
    assert.equal(out.request_id, true);
  });
});
