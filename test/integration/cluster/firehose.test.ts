/**
 * Firehose on two Tributary nodes of one JetStream cluster: records accepted through either node
 * are delivered once, by the node that holds the background-work lease, and delivery goes on
 * through the other node when the holder stops.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { S3Client } from '@aws-sdk/client-s3';
import type { TestServer } from '../../helpers/server.js';
import { readBucket, ROLE, waitFor } from '../firehose/helpers.js';
import { skipWithoutNats, startClusterWithS3, type ClusterWithS3 } from './cluster.js';

const BUCKET = 'cluster-deliveries';

function firehoseClient(endpoint: string): FirehoseClient {
  return new FirehoseClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }, maxAttempts: 1 });
}

/** Every record line in the bucket, in no particular order. */
async function delivered(s3: S3Client): Promise<string[]> {
  const objects = await readBucket(s3, BUCKET);
  return objects.flatMap((o) => o.body.toString('utf8').split('\n').filter(Boolean));
}

describe('Firehose on two nodes of one JetStream cluster', { skip: skipWithoutNats() }, () => {
  // The nodes write to one S3 endpoint outside the cluster (here a separate embedded server).
  let setup: ClusterWithS3;
  let s3: S3Client;
  let nodes: TestServer[];
  const clients: FirehoseClient[] = [];

  before(async () => {
    setup = await startClusterWithS3(BUCKET, { createDeliveryStreamDelayMs: 0 });
    ({ s3, nodes } = setup);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await setup?.destroy();
  });

  it('delivers what either node accepted once, and goes on through the other node when the deliverer stops', async () => {
    const [fa, fb] = nodes.map((n) => {
      const c = firehoseClient(n.endpoint);
      clients.push(c);
      return c;
    }) as [FirehoseClient, FirehoseClient];
    await fa.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'both-nodes',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: `arn:aws:s3:::${BUCKET}`,
          Prefix: 'both/',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
        },
      }),
    );
    const sent: string[] = [];
    const putThrough = async (client: FirehoseClient, from: number, count: number) => {
      const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ n: from + i }));
      const out = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: 'both-nodes', Records: lines.map((l) => ({ Data: Buffer.from(`${l}\n`) })) }));
      assert.equal(out.FailedPutCount, 0);
      sent.push(...lines);
    };
    // Both nodes accept, in turns.
    for (let i = 0; i < 30; i++) await putThrough(i % 2 === 0 ? fa : fb, i * 10, 10);
    await waitFor(async () => ((await delivered(s3)).length >= sent.length ? true : undefined), 'the first 300 records');
    // A second deliverer would write the same records again within a step or two.
    await new Promise((r) => setTimeout(r, 1_500));
    const first = await delivered(s3);
    assert.equal(first.length, sent.length, 'no record delivered twice');
    assert.deepEqual([...first].sort(), [...sent].sort());

    const holders = nodes.filter((n) => n.kinesis.lease.held);
    assert.equal(holders.length, 1, 'one node holds the lease');
    const holder = holders[0]!;
    const survivor = nodes.find((n) => n !== holder)!;
    await holder.destroy();
    // The survivor takes the lease over and delivers what it accepts from now on.
    await putThrough(holder === nodes[0] ? fb : fa, 300, 100);
    await waitFor(async () => ((await delivered(s3)).length >= sent.length ? true : undefined), 'the records accepted after the stop');
    await new Promise((r) => setTimeout(r, 1_500));
    const all = await delivered(s3);
    assert.equal(all.length, sent.length, 'no record delivered twice');
    assert.deepEqual([...all].sort(), [...sent].sort());
    assert.equal(survivor.kinesis.lease.held, true);
  });
});
