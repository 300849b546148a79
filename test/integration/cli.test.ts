import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Shard } from '@aws-sdk/client-kinesis';
import { arnOf, HASH_KEY_MAX, shardId, streamNotFound } from '../helpers/kinesis.js';
import { assertTiles, assertUniform } from '../helpers/resharding.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

/** The first AWS CLI found: on PATH (pip, pyenv), or where Debian's awscli package puts it. */
const aws = ['aws', '/usr/bin/aws'].find((exe) => spawnSync(exe, ['--version'], { stdio: 'ignore' }).status === 0);
const MISSING = 'the AWS CLI is not installed (Debian: apt-get install awscli, /usr/bin/aws)';
// In CI nothing may be skipped: there a missing CLI fails the tests below instead.
const skip = aws === undefined && process.env.CI !== 'true' ? MISSING : false;

/** The CLI's major version: v1 sends a blob argument's text as is, v2 reads it as base64. */
function majorVersion(exe: string): number {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8' });
  const m = /aws-cli\/(\d+)\./.exec(`${r.stdout}${r.stderr}`);
  assert.ok(m, `aws --version printed ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

const env: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'AKIDCLI',
  AWS_SECRET_ACCESS_KEY: 'cli-secret',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_MAX_ATTEMPTS: '1',
  AWS_PAGER: '',
};
delete env.AWS_PROFILE;
delete env.AWS_SESSION_TOKEN;
delete env.AWS_ENDPOINT_URL;
delete env.AWS_ENDPOINT_URL_KINESIS;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const HALF = (HASH_KEY_MAX + 1n) / 2n;
const STREAM = 'cli-flow';

interface CliRecord {
  SequenceNumber: string;
  PartitionKey: string;
  Data: string;
}

describe('the AWS CLI against the server', { skip }, () => {
  let server: TestServer;
  let dir: string;
  let v2 = false;
  const seqs = new Map<string, { shard: string; bytes: Buffer }>();

  const run = (args: string[]) =>
    new Promise<Run>((resolve) => {
      const started = Date.now();
      execFile(
        aws ?? assert.fail(MISSING),
        ['kinesis', ...args, '--endpoint-url', server.endpoint, '--output', 'json'],
        { timeout: 30_000, env, encoding: 'utf8' },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: Date.now() - started }),
      );
    });
  /** Runs a command that must succeed and returns its JSON output (undefined when it prints nothing). */
  const ok = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const r = await run(args);
    assert.equal(r.code, 0, `aws kinesis ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
    return (r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout)) as T;
  };
  /** How the installed CLI takes these bytes as a blob argument or JSON blob member. */
  const blobArg = (bytes: Buffer) => (v2 ? bytes.toString('base64') : bytes.toString('utf8'));

  before(async () => {
    v2 = majorVersion(aws ?? assert.fail(MISSING)) >= 2;
    server = await startTestServer({ consumerDelayMs: 0, updateStreamDelayMs: 0 });
    dir = tempDir('tributary-cli-');
  });
  after(async () => {
    await server?.destroy();
    if (dir) removeDir(dir);
  });

  it('creates a stream that the stream-exists waiter sees at once, and describes and lists it', async () => {
    assert.equal(await ok('create-stream', '--stream-name', STREAM, '--shard-count', '2'), undefined);
    const wait = await run(['wait', 'stream-exists', '--stream-name', STREAM]);
    assert.equal(wait.code, 0, wait.stderr);
    assert.ok(wait.ms < 8_000, `the waiter returned on its first poll (took ${wait.ms} ms; it polls every 10 s)`);

    const [summary, streams, shards] = await Promise.all([
      ok<{ StreamDescriptionSummary: Record<string, unknown> }>('describe-stream-summary', '--stream-name', STREAM),
      ok<{ StreamNames: string[]; StreamSummaries: { StreamName: string; StreamARN: string; StreamStatus: string }[] }>('list-streams'),
      ok<{ Shards: Shard[] }>('list-shards', '--stream-name', STREAM),
    ]);
    const s = summary.StreamDescriptionSummary;
    assert.equal(s.StreamName, STREAM);
    assert.equal(s.StreamARN, arnOf(STREAM));
    assert.equal(s.StreamStatus, 'ACTIVE');
    assert.equal(s.OpenShardCount, 2);
    assert.equal(s.RetentionPeriodHours, 24);
    assert.deepEqual(s.StreamModeDetails, { StreamMode: 'PROVISIONED' });
    assert.equal(typeof s.StreamCreationTimestamp, 'number');
    assert.deepEqual(streams.StreamNames, [STREAM]);
    assert.deepEqual(
      streams.StreamSummaries.map((x) => [x.StreamName, x.StreamARN, x.StreamStatus]),
      [[STREAM, arnOf(STREAM), 'ACTIVE']],
    );
    assert.deepEqual(
      shards.Shards.map((x) => x.ShardId),
      [shardId(0), shardId(1)],
    );
    assertUniform(shards.Shards, 2);
  });

  it('puts records with put-record and put-records and reads the same bytes back with get-records', async () => {
    const text = Buffer.from('hello from the aws cli');
    const binary = Buffer.from([0x00, 0xff, 0x01, 0x80, 0x7f, 0x0a, 0x0d, 0xfe]);
    writeFileSync(path.join(dir, 'binary.dat'), binary);
    const batch = [
      { PartitionKey: 'batch-a', bytes: Buffer.from('first of the batch') },
      { PartitionKey: 'batch-b', bytes: Buffer.from('second, to hash key 0'), ExplicitHashKey: '0' },
      { PartitionKey: 'batch-c', bytes: Buffer.from('third, to the top half'), ExplicitHashKey: HALF.toString() },
    ];
    const file = path.join(dir, 'records.json');
    writeFileSync(
      file,
      JSON.stringify(batch.map((b) => ({ Data: blobArg(b.bytes), PartitionKey: b.PartitionKey, ExplicitHashKey: b.ExplicitHashKey }))),
    );

    type Put = { ShardId: string; SequenceNumber: string };
    const [one, bin, many] = await Promise.all([
      ok<Put>('put-record', '--stream-name', STREAM, '--partition-key', 'text-key', '--data', blobArg(text)),
      ok<Put>('put-record', '--stream-name', STREAM, '--partition-key', 'binary-key', '--data', `fileb://${path.join(dir, 'binary.dat')}`),
      ok<{ FailedRecordCount: number; Records: Put[] }>('put-records', '--stream-name', STREAM, '--records', `file://${file}`),
    ]);
    assert.match(one.ShardId, /^shardId-00000000000[01]$/);
    assert.match(one.SequenceNumber, /^\d{56}$/);
    seqs.set(one.SequenceNumber, { shard: one.ShardId, bytes: text });
    seqs.set(bin.SequenceNumber, { shard: bin.ShardId, bytes: binary });
    assert.equal(many.FailedRecordCount, 0);
    assert.equal(many.Records.length, 3);
    assert.equal(many.Records[1]!.ShardId, shardId(0));
    assert.equal(many.Records[2]!.ShardId, shardId(1));
    many.Records.forEach((r, i) => seqs.set(r.SequenceNumber, { shard: r.ShardId, bytes: batch[i]!.bytes }));

    const read = async (shard: string) => {
      const { ShardIterator } = await ok<{ ShardIterator: string }>(
        'get-shard-iterator',
        '--stream-name',
        STREAM,
        '--shard-id',
        shard,
        '--shard-iterator-type',
        'TRIM_HORIZON',
      );
      const got = await ok<{ Records: CliRecord[]; NextShardIterator: string; MillisBehindLatest: number }>(
        'get-records',
        '--shard-iterator',
        ShardIterator,
      );
      assert.ok(got.NextShardIterator, 'an open shard gives a NextShardIterator');
      assert.equal(got.MillisBehindLatest, 0);
      return got.Records;
    };
    const [r0, r1] = await Promise.all([read(shardId(0)), read(shardId(1))]);
    const records = [...r0.map((r) => ({ ...r, shard: shardId(0) })), ...r1.map((r) => ({ ...r, shard: shardId(1) }))];
    assert.equal(records.length, seqs.size);
    for (const r of records) {
      const want = seqs.get(r.SequenceNumber);
      assert.ok(want, `record ${r.SequenceNumber} was put`);
      assert.equal(r.shard, want.shard);
      assert.deepEqual(Buffer.from(r.Data, 'base64'), want.bytes, `the bytes of ${r.PartitionKey}`);
    }
    // Within a shard, get-records returns records in sequence-number order.
    for (const shard of [r0, r1]) {
      const numbers = shard.map((r) => BigInt(r.SequenceNumber));
      assert.deepEqual(numbers, [...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  });

  it('reshards with split-shard, merge-shards and update-shard-count', async () => {
    const quarter = (HALF / 2n).toString();
    assert.equal(
      await ok('split-shard', '--stream-name', STREAM, '--shard-to-split', shardId(0), '--new-starting-hash-key', quarter),
      undefined,
    );
    // shardId-000000000003 = [H/4, H/2 - 1] is adjacent to shardId-000000000001 = [H/2, max].
    assert.equal(
      await ok('merge-shards', '--stream-name', STREAM, '--shard-to-merge', shardId(3), '--adjacent-shard-to-merge', shardId(1)),
      undefined,
    );
    const merged = await ok<{ Shards: Shard[] }>('list-shards', '--stream-name', STREAM);
    assert.deepEqual(
      merged.Shards.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId, s.SequenceNumberRange!.EndingSequenceNumber !== undefined]),
      [
        [shardId(0), undefined, undefined, true],
        [shardId(1), undefined, undefined, true],
        [shardId(2), shardId(0), undefined, false],
        [shardId(3), shardId(0), undefined, true],
        [shardId(4), shardId(3), shardId(1), false],
      ],
    );

    const scaled = await ok<Record<string, unknown>>(
      'update-shard-count',
      '--stream-name',
      STREAM,
      '--target-shard-count',
      '4',
      '--scaling-type',
      'UNIFORM_SCALING',
    );
    assert.deepEqual(scaled, { StreamName: STREAM, CurrentShardCount: 2, TargetShardCount: 4, StreamARN: arnOf(STREAM) });
    const [summary, open, all] = await Promise.all([
      ok<{ StreamDescriptionSummary: { StreamStatus: string; OpenShardCount: number } }>('describe-stream-summary', '--stream-name', STREAM),
      ok<{ Shards: Shard[] }>('list-shards', '--stream-name', STREAM, '--shard-filter', 'Type=AT_LATEST'),
      ok<{ Shards: Shard[] }>('list-shards', '--stream-name', STREAM, '--shard-filter', 'Type=AT_TRIM_HORIZON'),
    ]);
    assert.equal(summary.StreamDescriptionSummary.StreamStatus, 'ACTIVE');
    assert.equal(summary.StreamDescriptionSummary.OpenShardCount, 4);
    assertUniform(open.Shards, 4);
    assertTiles(all.Shards, 'AT_TRIM_HORIZON');
    assert.deepEqual(
      all.Shards.map((s) => s.ShardId),
      [shardId(0), shardId(1)],
    );
  });

  it('tags the stream, lengthens its retention and registers a consumer', async () => {
    const [tagged, retained, registered] = await Promise.all([
      ok('add-tags-to-stream', '--stream-name', STREAM, '--tags', 'env=test,team=data'),
      ok('increase-stream-retention-period', '--stream-name', STREAM, '--retention-period-hours', '48'),
      ok<{ Consumer: { ConsumerName: string; ConsumerARN: string; ConsumerStatus: string } }>(
        'register-stream-consumer',
        '--stream-arn',
        arnOf(STREAM),
        '--consumer-name',
        'cli-consumer',
      ),
    ]);
    assert.equal(tagged, undefined);
    assert.equal(retained, undefined);
    assert.equal(registered.Consumer.ConsumerName, 'cli-consumer');
    assert.match(registered.Consumer.ConsumerARN, new RegExp(`^${arnOf(STREAM)}/consumer/cli-consumer:\\d+$`));

    const [tags, summary, consumers] = await Promise.all([
      ok<{ Tags: { Key: string; Value: string }[]; HasMoreTags: boolean }>('list-tags-for-stream', '--stream-name', STREAM),
      ok<{ StreamDescriptionSummary: { RetentionPeriodHours: number; ConsumerCount: number } }>('describe-stream-summary', '--stream-name', STREAM),
      ok<{ Consumers: { ConsumerName: string; ConsumerARN: string; ConsumerStatus: string }[] }>(
        'list-stream-consumers',
        '--stream-arn',
        arnOf(STREAM),
      ),
    ]);
    assert.deepEqual(tags, {
      Tags: [
        { Key: 'env', Value: 'test' },
        { Key: 'team', Value: 'data' },
      ],
      HasMoreTags: false,
    });
    assert.equal(summary.StreamDescriptionSummary.RetentionPeriodHours, 48);
    assert.equal(summary.StreamDescriptionSummary.ConsumerCount, 1);
    assert.deepEqual(
      consumers.Consumers.map((c) => [c.ConsumerName, c.ConsumerARN, c.ConsumerStatus]),
      [['cli-consumer', registered.Consumer.ConsumerARN, 'ACTIVE']],
    );
  });

  it('fails describe-stream of a missing stream with ResourceNotFoundException', async () => {
    const r = await run(['describe-stream', '--stream-name', 'no-such-stream']);
    assert.ok(r.code === 254 || r.code === 255, `exit code ${r.code}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /An error occurred \(ResourceNotFoundException\) when calling the DescribeStream operation/);
    assert.ok(r.stderr.includes(streamNotFound('no-such-stream')), r.stderr);
  });

  it('deletes the stream, and the stream-not-exists waiter sees it gone', async () => {
    assert.equal(await ok('delete-stream', '--stream-name', STREAM, '--enforce-consumer-deletion'), undefined);
    const wait = await run(['wait', 'stream-not-exists', '--stream-name', STREAM]);
    assert.equal(wait.code, 0, wait.stderr);
    assert.ok(wait.ms < 8_000, `the waiter returned on its first poll (took ${wait.ms} ms)`);
    const streams = await ok<{ StreamNames: string[] }>('list-streams');
    assert.deepEqual(streams.StreamNames, []);
  });
});
