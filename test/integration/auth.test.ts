import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CreateChannelCommand,
  CreateStreamCommand,
  DeleteChannelCommand,
  DeleteStreamCommand,
  DescribeChannelCommand,
  DescribeStreamConsumerCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListChannelsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutResourcePolicyCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { createAuth } from '../../src/auth/index.js';
import { shardId } from '../helpers/kinesis.js';
import { http1 } from '../helpers/raw.js';
import { CLI, kinesisClient, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { sendSigned, signPost } from '../helpers/sigv4.js';

const ACCOUNT = '123456789012';
const STREAM_ARN = (name: string) => `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/${name}`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;

const CREDENTIALS = [
  {
    accessKeyId: 'AKIDADMIN',
    secretAccessKey: 'admin-secret',
    principal: 'admin',
    policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kinesis:*', Resource: '*' }] }],
  },
  {
    accessKeyId: 'AKIDALICE',
    secretAccessKey: 'alice-secret',
    principal: 'alice',
    policies: [
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['kinesis:PutRecord', 'kinesis:Describe*', 'kinesis:GetShardIterator', 'kinesis:DeleteStream'],
            Resource: STREAM_ARN('orders'),
          },
          { Effect: 'Allow', Action: 'kinesis:ListStreams', Resource: '*' },
          { Effect: 'Deny', Action: 'kinesis:DeleteStream', Resource: '*' },
        ],
      },
    ],
  },
  { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret', principal: `arn:aws:iam::${ACCOUNT}:user/bob` },
  {
    accessKeyId: 'ASIATEMP',
    secretAccessKey: 'temp-secret',
    principal: 'admin',
    sessionTokens: ['session-1'],
    policies: [{ Statement: { Effect: 'Allow', Action: 'kinesis:List*', Resource: '*' } }],
  },
];

/** The error an SDK call failed with: its name, status and message. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('the call succeeded');
}

const MISMATCH =
  /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'POST\n\/\n/;

describe('authentication with a credentials file', () => {
  let server: TestServer;
  let dir: string;
  let admin: KinesisClient;
  let host: string;
  const as = (accessKeyId: string, secretAccessKey: string, sessionToken?: string) =>
    server.client({ credentials: { accessKeyId, secretAccessKey, sessionToken } });

  before(async () => {
    dir = tempDir('tributary-auth-');
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify(CREDENTIALS));
    server = await startTestServer({ credentials: path.join(dir, 'credentials.json'), accountId: ACCOUNT, consumerDelayMs: 0 });
    admin = as('AKIDADMIN', 'admin-secret');
    host = new URL(server.endpoint).host;
    await admin.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 1 }));
    await admin.send(new CreateStreamCommand({ StreamName: 'other', ShardCount: 1 }));
  });
  after(async () => {
    await server.destroy();
    removeDir(dir);
  });

  it('accepts requests the AWS SDK signed', async () => {
    const out = await admin.send(new ListStreamsCommand({}));
    assert.deepEqual(out.StreamNames, ['orders', 'other']);
    const put = await admin.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'k', Data: Buffer.from('x') }));
    assert.equal(put.ShardId, shardId(0));
  });

  it('accepts temporary credentials with their session token and refuses a wrong one', async () => {
    assert.ok((await as('ASIATEMP', 'temp-secret', 'session-1').send(new ListStreamsCommand({}))).StreamNames);
    const e = await failure(as('ASIATEMP', 'temp-secret', 'session-2').send(new ListStreamsCommand({})));
    assert.deepEqual(e, { name: 'UnrecognizedClientException', status: 400, message: 'The security token included in the request is invalid.' });
  });

  it('refuses a wrong secret with InvalidSignatureException and the canonical request', async () => {
    const e = await failure(as('AKIDADMIN', 'not-the-secret').send(new ListStreamsCommand({})));
    assert.equal(e.name, 'InvalidSignatureException');
    assert.equal(e.status, 400);
    assert.match(e.message, MISMATCH);
    assert.match(e.message, /\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/kinesis\/aws4_request\n[0-9a-f]{64}'\n$/);
  });

  it('refuses an unknown access key with UnrecognizedClientException', async () => {
    const e = await failure(as('AKIDNOBODY', 'whatever').send(new ListStreamsCommand({})));
    assert.deepEqual(e, { name: 'UnrecognizedClientException', status: 400, message: 'The security token included in the request is invalid.' });
  });

  const key = { accessKeyId: 'AKIDADMIN', secretAccessKey: 'admin-secret' };
  const LIST = 'Kinesis_20131202.ListStreams';

  it('accepts a raw signed request, and refuses it once the body is altered', async () => {
    const body = Buffer.from('{"Limit":5}');
    const parts = await signPost(host, LIST, body, key);
    assert.equal((await sendSigned(server.endpoint, parts, body)).status, 200);
    const res = await sendSigned(server.endpoint, parts, Buffer.from('{"Limit":6}'));
    assert.equal(res.status, 400);
    assert.equal(res.type, 'InvalidSignatureException');
    assert.equal(res.body.__type, 'InvalidSignatureException');
    assert.match(String(res.body.message), MISMATCH);
  });

  it('refuses a request whose signed header was altered', async () => {
    const body = Buffer.from('{}');
    const parts = await signPost(host, LIST, body, key);
    parts.headers['x-amz-target'] = 'Kinesis_20131202.DescribeLimits';
    const res = await sendSigned(server.endpoint, parts, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.__type, 'InvalidSignatureException');
  });

  it('refuses a stale date with AWS’s signature-expired message', async () => {
    const body = Buffer.from('{}');
    const parts = await signPost(host, LIST, body, { ...key, date: new Date(Date.now() - 6 * 60_000) });
    const res = await sendSigned(server.endpoint, parts, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.__type, 'InvalidSignatureException');
    assert.match(String(res.body.message), /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
  });

  it('accepts a presigned request within X-Amz-Expires and refuses one past it', async () => {
    const body = Buffer.from('{}');
    const ok = await signPost(host, LIST, body, { ...key, presignSeconds: 300 });
    assert.equal((await sendSigned(server.endpoint, ok, body)).status, 200);
    const late = await signPost(host, LIST, body, { ...key, presignSeconds: 60, date: new Date(Date.now() - 120_000) });
    const res = await sendSigned(server.endpoint, late, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.__type, 'InvalidSignatureException');
    assert.match(String(res.body.message), /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 1 min\.\)$/);
  });

  it('still refuses a request without any signature', async () => {
    const res = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': LIST },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });

  it('authorizes by identity policies: AccessDeniedException worded as AWS words it', async () => {
    const alice = as('AKIDALICE', 'alice-secret');
    await alice.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'k', Data: Buffer.from('a') }));
    const e = await failure(alice.send(new PutRecordCommand({ StreamName: 'other', PartitionKey: 'k', Data: Buffer.from('a') })));
    assert.deepEqual(e, {
      name: 'AccessDeniedException',
      status: 400,
      message:
        `User: ${ALICE} is not authorized to perform: kinesis:PutRecord on resource: ${STREAM_ARN('other')} ` +
        'because no identity-based policy allows the kinesis:PutRecord action',
    });
    const d = await failure(alice.send(new DeleteStreamCommand({ StreamName: 'orders' })));
    assert.equal(d.name, 'AccessDeniedException');
    assert.equal(
      d.message,
      `User: ${ALICE} is not authorized to perform: kinesis:DeleteStream on resource: ${STREAM_ARN('orders')} with an explicit deny in an identity-based policy`,
    );
    const s = await failure(alice.send(new CreateStreamCommand({ StreamName: 'mine', ShardCount: 1 })));
    assert.equal(s.message, `User: ${ALICE} is not authorized to perform: kinesis:CreateStream on resource: ${STREAM_ARN('mine')} because no identity-based policy allows the kinesis:CreateStream action`);
    assert.deepEqual((await alice.send(new ListStreamsCommand({}))).StreamNames, ['orders', 'other']);
  });

  it('authorizes GetRecords against the stream of its iterator', async () => {
    const alice = as('AKIDALICE', 'alice-secret');
    const { ShardIterator } = await alice.send(
      new GetShardIteratorCommand({ StreamName: 'orders', ShardId: shardId(0), ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const e = await failure(alice.send(new GetRecordsCommand({ ShardIterator })));
    assert.equal(
      e.message,
      `User: ${ALICE} is not authorized to perform: kinesis:GetRecords on resource: ${STREAM_ARN('orders')} because no identity-based policy allows the kinesis:GetRecords action`,
    );
    const got = await admin.send(new GetRecordsCommand({ ShardIterator }));
    assert.ok(got.Records!.length >= 1);
  });

  it('authorizes channel operations against the channel ARN', async () => {
    const alice = as('AKIDALICE', 'alice-secret');
    const channel = `arn:aws:kinesis:us-east-1:${ACCOUNT}:channel/alice-channel`;
    const c = await failure(
      alice.send(
        new CreateChannelCommand({
          ChannelName: 'alice-channel',
          ServiceExecutionRoleARN: `arn:aws:iam::${ACCOUNT}:role/delivery`,
          StreamConfigurationList: [{ StreamARN: STREAM_ARN('orders'), RecordConfiguration: { RecordFormatType: 'JSON' } }],
          S3DestinationConfiguration: { StorageConfiguration: { BucketARN: 'arn:aws:s3:::bkt', ExpectedBucketOwner: ACCOUNT, CompressionType: 'NONE' } },
        }),
      ),
    );
    assert.equal(c.name, 'AccessDeniedException');
    assert.equal(
      c.message,
      `User: ${ALICE} is not authorized to perform: kinesis:CreateChannel on resource: ${channel} because no identity-based policy allows the kinesis:CreateChannel action`,
    );
    const d = await failure(alice.send(new DescribeChannelCommand({ ChannelARN: channel })));
    assert.equal(
      d.message,
      `User: ${ALICE} is not authorized to perform: kinesis:DescribeChannel on resource: ${channel} because no identity-based policy allows the kinesis:DescribeChannel action`,
    );
    const l = await failure(alice.send(new ListChannelsCommand({})));
    assert.equal(l.message, `User: ${ALICE} is not authorized to perform: kinesis:ListChannels on resource: * because no identity-based policy allows the kinesis:ListChannels action`);
    const listed = await admin.send(new ListChannelsCommand({}));
    assert.deepEqual(listed.ChannelSummaries, []);
  });

  it("a channel's resource policy grants another principal the channel", async () => {
    await admin.send(new CreateStreamCommand({ StreamName: 'on-demand', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    const channel = `arn:aws:kinesis:us-east-1:${ACCOUNT}:channel/shared-channel`;
    await admin.send(
      new CreateChannelCommand({
        ChannelName: 'shared-channel',
        ServiceExecutionRoleARN: `arn:aws:iam::${ACCOUNT}:role/delivery`,
        StreamConfigurationList: [{ StreamARN: STREAM_ARN('on-demand'), RecordConfiguration: { RecordFormatType: 'JSON' } }],
        S3DestinationConfiguration: { StorageConfiguration: { BucketARN: 'arn:aws:s3:::bkt', ExpectedBucketOwner: ACCOUNT, CompressionType: 'NONE' } },
      }),
    );
    const bob = as('AKIDBOB', 'bob-secret');
    const describe = () => bob.send(new DescribeChannelCommand({ ChannelARN: channel }));
    const refused = await failure(describe());
    assert.equal(refused.name, 'AccessDeniedException');
    assert.equal(
      refused.message,
      `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: kinesis:DescribeChannel on resource: ${channel} because no identity-based policy allows the kinesis:DescribeChannel action`,
    );
    await admin.send(
      new PutResourcePolicyCommand({
        ResourceARN: channel,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 'kinesis:DescribeChannel', Resource: channel }],
        }),
      }),
    );
    assert.equal((await describe()).ChannelDescription!.ChannelARN, channel);
    await admin.send(new DeleteChannelCommand({ ChannelARN: channel }));
    await admin.send(new DeleteStreamCommand({ StreamName: 'on-demand' }));
  });

  it('authorizes consumer operations against the consumer ARN', async () => {
    const { Consumer } = await admin.send(new RegisterStreamConsumerCommand({ StreamARN: STREAM_ARN('orders'), ConsumerName: 'c1' }));
    const bob = as('AKIDBOB', 'bob-secret');
    const e = await failure(bob.send(new DescribeStreamConsumerCommand({ StreamARN: STREAM_ARN('orders'), ConsumerName: 'c1' })));
    assert.equal(
      e.message,
      `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: kinesis:DescribeStreamConsumer on resource: ${Consumer!.ConsumerARN} ` +
        'because no identity-based policy allows the kinesis:DescribeStreamConsumer action',
    );
    const sub = await failure(
      bob.send(
        new SubscribeToShardCommand({ ConsumerARN: Consumer!.ConsumerARN, ShardId: shardId(0), StartingPosition: { Type: 'LATEST' } }),
      ),
    );
    assert.equal(sub.name, 'AccessDeniedException');
    assert.equal(
      sub.message,
      `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: kinesis:SubscribeToShard on resource: ${Consumer!.ConsumerARN} ` +
        'because no identity-based policy allows the kinesis:SubscribeToShard action',
    );
    await admin.send(
      new PutResourcePolicyCommand({
        ResourceARN: Consumer!.ConsumerARN,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 'kinesis:DescribeStreamConsumer', Resource: Consumer!.ConsumerARN }],
        }),
      }),
    );
    const described = await bob.send(new DescribeStreamConsumerCommand({ StreamARN: STREAM_ARN('orders'), ConsumerName: 'c1' }));
    assert.equal(described.ConsumerDescription!.ConsumerARN, Consumer!.ConsumerARN);
  });

  it('a resource policy grants another principal; until then it is refused', async () => {
    const bob = as('AKIDBOB', 'bob-secret');
    const put = () => bob.send(new PutRecordCommand({ StreamName: 'other', PartitionKey: 'k', Data: Buffer.from('b') }));
    assert.equal((await failure(put())).name, 'AccessDeniedException');
    await admin.send(
      new PutResourcePolicyCommand({
        ResourceARN: STREAM_ARN('other'),
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` }, Action: 'kinesis:PutRecord', Resource: STREAM_ARN('other') },
            { Effect: 'Deny', Principal: { AWS: ALICE }, Action: 'kinesis:*', Resource: STREAM_ARN('other') },
          ],
        }),
      }),
    );
    assert.equal((await put()).ShardId, shardId(0));
    const e = await failure(bob.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'k', Data: Buffer.from('b') })));
    assert.equal(e.name, 'AccessDeniedException');
  });

  // Real clients of other languages: in CI nothing may be skipped, so a missing client fails there.
  const python = ['python3', '/usr/bin/python3'].find((exe) => spawnSync(exe, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0);
  const BOTO = 'python3 with boto3 is not installed (Debian: apt-get install python3-boto3)';
  const aws = ['aws', '/usr/bin/aws'].find((exe) => spawnSync(exe, ['--version'], { stdio: 'ignore' }).status === 0);
  const CLI = 'the AWS CLI is not installed (Debian: apt-get install awscli, /usr/bin/aws)';
  const ci = process.env.CI === 'true';
  const cleanEnv = { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PROFILE: '' };
  delete (cleanEnv as Record<string, string | undefined>).AWS_PROFILE;

  const run = (exe: string, args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(exe, args, { timeout: 60_000, env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  const BOTO_SCRIPT = `
import json, sys
import boto3, botocore
endpoint, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
c = boto3.client('kinesis', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id=key, aws_secret_access_key=secret,
                 config=botocore.config.Config(retries={'max_attempts': 1}))
try:
    c.put_record(StreamName='orders', PartitionKey='p', Data=b'from boto3')
    print(json.dumps({'streams': c.list_streams()['StreamNames']}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'error': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))
`;

  it('boto3 signs requests the server accepts; a wrong secret is refused', { skip: python === undefined && !ci ? BOTO : false }, async () => {
    const exe = python ?? assert.fail(BOTO);
    const ok = await run(exe, ['-c', BOTO_SCRIPT, server.endpoint, 'AKIDADMIN', 'admin-secret'], cleanEnv);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { streams: ['orders', 'other'] });
    const bad = await run(exe, ['-c', BOTO_SCRIPT, server.endpoint, 'AKIDADMIN', 'wrong'], cleanEnv);
    assert.deepEqual(JSON.parse(bad.stdout), { error: 'InvalidSignatureException', status: 400 });
  });

  it('the AWS CLI signs requests the server accepts; a wrong secret is refused', { skip: aws === undefined && !ci ? CLI : false }, async () => {
    const exe = aws ?? assert.fail(CLI);
    const env = (secret: string) => ({ ...cleanEnv, AWS_ACCESS_KEY_ID: 'AKIDADMIN', AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1' });
    const args = ['kinesis', 'list-streams', '--endpoint-url', server.endpoint, '--output', 'json'];
    const ok = await run(exe, args, env('admin-secret'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { StreamNames: string[] }).StreamNames, ['orders', 'other']);
    const bad = await run(exe, args, env('wrong'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidSignatureException/);
  });
});

describe('development mode', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.destroy());

  it('accepts any well-formed signature, whatever the key or secret', async () => {
    const res = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}');
    assert.equal(res.status, 200);
    const out = await server.client({ credentials: { accessKeyId: 'ANY', secretAccessKey: 'thing' } }).send(new ListStreamsCommand({}));
    assert.deepEqual(out.StreamNames, []);
  });

  it('still refuses an incomplete signature', async () => {
    const res = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}', {
      authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host',
    });
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body.toString()).__type, 'IncompleteSignatureException');
  });

  it('refuses a malformed signature: a short credential, another algorithm, a bad date', async () => {
    const send = (authorization: string, date = '20260101T000000Z') =>
      http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}', { authorization, 'x-amz-date': date }).then((r) => ({
        status: r.status,
        ...(JSON.parse(r.body.toString()) as { __type: string; message: string }),
      }));
    const tail = 'SignedHeaders=host;x-amz-date, Signature=abcd';
    assert.deepEqual(await send(`AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis, ${tail}`), {
      status: 400,
      __type: 'IncompleteSignatureException',
      message:
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20260101/us-east-1/kinesis'",
    });
    assert.deepEqual(await send(`AWS4-HMAC-SHA1 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, ${tail}`), {
      status: 400,
      __type: 'IncompleteSignatureException',
      message: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'",
    });
    const date = await send(`AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, ${tail}`, '2026-01-01');
    assert.equal(date.__type, 'IncompleteSignatureException');
  });
});

describe('the mode is logged at start, without secrets', () => {
  it('development and verified', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const dir = tempDir('tributary-auth-log-');
    try {
      const file = path.join(dir, 'c.json');
      writeFileSync(file, JSON.stringify(CREDENTIALS));
      assert.equal(createAuth({ credentials: '', region: 'us-east-1', accountId: ACCOUNT }, logger).mode, 'development');
      assert.equal(createAuth({ credentials: file, region: 'us-east-1', accountId: ACCOUNT }, logger).mode, 'verified');
    } finally {
      removeDir(dir);
    }
    const text = lines.join('');
    assert.match(text, /development mode/);
    assert.match(text, /SigV4 signatures are verified/);
    assert.ok(!text.includes('secret'), text);
  });
});

describe('tributary serve with a credentials file', () => {
  it('takes it from TRIBUTARY_CREDENTIALS or --credentials, says so, and verifies signatures', async () => {
    const dir = tempDir('tributary-auth-cli-');
    const file = path.join(dir, 'credentials.json');
    writeFileSync(file, JSON.stringify(CREDENTIALS));
    for (const how of ['env', 'flag'] as const) {
      const args = [CLI, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', path.join(dir, how), '--log-level', 'info', '--account-id', ACCOUNT];
      if (how === 'flag') args.push('--credentials', file);
      const env = { ...process.env, TRIBUTARY_ANNOUNCE: '1', ...(how === 'env' ? { TRIBUTARY_CREDENTIALS: file } : {}) };
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const out = await new Promise<string>((resolve, reject) => {
          let text = '';
          child.stdout!.on('data', (c: Buffer) => {
            text += c.toString();
            // Log lines are written asynchronously; the server's own "listening" line comes last.
            if (/TRIBUTARY_LISTENING \d+/.test(text) && /Tributary listening on/.test(text)) resolve(text);
          });
          child.once('exit', (code) => reject(new Error(`exited with ${code}: ${text}`)));
        });
        assert.match(out, /SigV4 signatures are verified and requests authorized by IAM policies/);
        assert.ok(!out.includes('-secret'), out);
        const endpoint = `http://127.0.0.1:${/TRIBUTARY_LISTENING (\d+)/.exec(out)![1]}`;
        const good = kinesisClient(endpoint, { credentials: { accessKeyId: 'AKIDADMIN', secretAccessKey: 'admin-secret' } });
        const bad = kinesisClient(endpoint, { credentials: { accessKeyId: 'AKIDADMIN', secretAccessKey: 'nope' } });
        assert.deepEqual((await good.send(new ListStreamsCommand({}))).StreamNames, []);
        assert.equal((await failure(bad.send(new ListStreamsCommand({})))).name, 'InvalidSignatureException');
        good.destroy();
        bad.destroy();
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    removeDir(dir);
  });
});
