/**
 * Acknowledged means durable for Firehose too: records a delivery stream accepted but had not
 * delivered yet when the process was killed (SIGKILL) are delivered after the restart, every one
 * of them (spec: firehose.md §5.1).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  UpdateDestinationCommand,
} from '@aws-sdk/client-firehose';
import { removeDir, spawnServer, tempDir, type ChildServer } from '../../helpers/server.js';
import { ROLE, readBucket, waitFor } from './helpers.js';

const ARGS = ['--fsync', 'always', '--create-delivery-stream-ms', '0'];
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

function clients(srv: ChildServer): { firehose: FirehoseClient; s3: S3Client } {
  assert.ok(srv.s3Endpoint, 'the server announced its S3 endpoint');
  return {
    firehose: new FirehoseClient({ endpoint: srv.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    s3: new S3Client({ endpoint: srv.s3Endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 }),
  };
}

describe('Firehose across a crash', () => {
  const dirs: string[] = [];
  const children: ChildServer[] = [];
  after(() => {
    for (const c of children) c.child.kill('SIGKILL');
    dirs.forEach(removeDir);
  });

  it('delivers after a restart every record acknowledged before a SIGKILL', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let srv = await spawnServer(dataDir, ARGS);
    children.push(srv);
    let c = clients(srv);
    await c.s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    // The largest buffering hints: nothing is delivered before the kill.
    await c.firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'kept',
        ExtendedS3DestinationConfiguration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::kept', BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 } },
      }),
    );
    const acked = new Set<string>();
    const sent = new Set<string>();
    let stop = false;
    let n = 0;
    const writer = async (w: number) => {
      while (!stop) {
        const batch = Array.from({ length: 50 }, () => `w${w}-r${n++}-${'x'.repeat(n % 200)}\n`);
        for (const b of batch) sent.add(b);
        try {
          const out = await c.firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'kept', Records: batch.map((b) => ({ Data: Buffer.from(b) })) }));
          out.RequestResponses!.forEach((r, i) => {
            if (r.RecordId) acked.add(batch[i]!);
          });
        } catch (err) {
          if (!stop) throw err; // failed before the kill
          return; // the server is gone
        }
      }
    };
    const writers = [0, 1, 2].map(writer);
    let failure: unknown;
    for (const w of writers) w.catch((err) => (failure = err));
    const deadline = Date.now() + 90_000;
    while (acked.size < 3000 && !failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(failure, undefined);
    assert.ok(acked.size >= 3000, `the load was running before the kill (${acked.size} acknowledged)`);
    stop = true;
    srv.child.kill('SIGKILL');
    await srv.exited;
    await Promise.all(writers);
    c.firehose.destroy();
    c.s3.destroy();

    srv = await spawnServer(dataDir, ARGS);
    children.push(srv);
    c = clients(srv);
    try {
      assert.deepEqual(await readBucket(c.s3, 'kept'), [], 'nothing was delivered before the kill');
      const d = (await c.firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'kept' }))).DeliveryStreamDescription!;
      await c.firehose.send(
        new UpdateDestinationCommand({
          DeliveryStreamName: 'kept',
          CurrentDeliveryStreamVersionId: d.VersionId,
          DestinationId: d.Destinations![0]!.DestinationId,
          ExtendedS3DestinationUpdate: { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
        }),
      );
      const delivered = await waitFor(async () => {
        const lines = (await readBucket(c.s3, 'kept')).flatMap((o) => o.body.toString().split(/(?<=\n)/).filter((l) => l.length > 0));
        return [...acked].every((a) => lines.includes(a)) ? lines : undefined;
      }, 'every acknowledged record in the bucket', 90_000);
      for (const line of delivered) assert.ok(sent.has(line), `delivered only what was sent: ${line.slice(0, 40)}`);
      assert.equal(new Set(delivered).size, delivered.length, 'no record twice');
    } finally {
      c.firehose.destroy();
      c.s3.destroy();
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });
});
