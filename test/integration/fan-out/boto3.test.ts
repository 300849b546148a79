import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { eventually, registerActive } from '../../helpers/fan-out.js';
import { createStream, shardId } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** boto3 (botocore) is an HTTP/1.1 client: its SubscribeToShard reads the event stream from a chunked response. */
const SCRIPT = `
import json, sys
import boto3
endpoint, arn, shard, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = boto3.client('kinesis', endpoint_url=endpoint, region_name='us-east-1',
                      aws_access_key_id='AKIDTEST', aws_secret_access_key='test-secret')
out = client.subscribe_to_shard(ConsumerARN=arn, ShardId=shard, StartingPosition={'Type': 'TRIM_HORIZON'})
texts, events, continuation = [], 0, None
stream = out['EventStream']
for event in stream:
    e = event['SubscribeToShardEvent']
    events += 1
    texts.extend(r['Data'].decode() for r in e['Records'])
    continuation = e.get('ContinuationSequenceNumber')
    if len(texts) >= want:
        break
stream.close()
print(json.dumps({'texts': texts, 'events': events, 'continuation': continuation,
                  'status': out['ResponseMetadata']['HTTPStatusCode']}))
`;

/** The first Python on this machine that can import boto3 (Debian's python3-boto3 lives in /usr/bin). */
const python = ['python3', '/usr/bin/python3'].find(
  (exe) => spawnSync(exe, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0,
);
const MISSING = 'python3 with boto3 is not installed (Debian: apt-get install python3-boto3)';
// In CI nothing may be skipped: there a missing boto3 fails the test below instead.
const skip = python === undefined && process.env.CI !== 'true' ? MISSING : false;

describe('SubscribeToShard with boto3 over HTTP/1.1', { skip }, () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0, subscriptionHeartbeatMs: 200 });
    client = server.client();
  });
  after(() => server.destroy());

  it('reads the records, in order, from the chunked event stream', async () => {
    await createStream(client, 'boto', 1);
    const arn = await registerActive(client, 'boto', 'py');
    const texts = Array.from({ length: 120 }, (_, i) => `boto-${i}`);
    await client.send(
      new PutRecordsCommand({ StreamName: 'boto', Records: texts.slice(0, 60).map((t) => ({ PartitionKey: 'k', Data: Buffer.from(t) })) }),
    );
    const run = new Promise<{ texts: string[]; events: number; continuation: string; status: number }>((resolve, reject) => {
      execFile(
        python ?? assert.fail(MISSING),
        ['-c', SCRIPT, server.endpoint, arn, shardId(0), String(texts.length)],
        { timeout: 30_000, env: { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
      );
    });
    await eventually(() => server.kinesis.fanOut.count === 1, 20_000, 'the boto3 subscription');
    await client.send(
      new PutRecordsCommand({ StreamName: 'boto', Records: texts.slice(60).map((t) => ({ PartitionKey: 'k', Data: Buffer.from(t) })) }),
    );
    const out = await run;
    assert.equal(out.status, 200);
    assert.deepEqual(out.texts, texts);
    assert.ok(out.continuation);
    await eventually(() => server.kinesis.fanOut.count === 0, 5_000, 'release once boto3 closes the stream');
  });
});
