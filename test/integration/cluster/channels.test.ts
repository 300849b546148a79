/**
 * Channels on two Tributary nodes of one JetStream cluster: a channel created through one node
 * delivers what was put through either node once, from the node that holds the background-work
 * lease, and delivery goes on from the other node when the holder stops.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../../src/util/clock.js';
import type { TestServer } from '../../helpers/server.js';
import { channelRequest, createChannel, createStream } from '../channels/helpers.js';
import { readBucket, waitFor } from '../firehose/helpers.js';
import { skipWithoutNats, startClusterWithS3, type ClusterWithS3 } from './cluster.js';

const BUCKET = 'cluster-channel';

async function delivered(s3: S3Client): Promise<number[]> {
  const objects = await readBucket(s3, BUCKET).catch(() => []);
  return objects.flatMap((o) => o.body.toString('utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n));
}

describe('channels on two nodes of one JetStream cluster', { skip: skipWithoutNats() }, () => {
  let setup: ClusterWithS3;
  let s3: S3Client;
  let nodes: TestServer[];
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));

  before(async () => {
    setup = await startClusterWithS3(BUCKET, { createStreamDelayMs: 0, deleteStreamDelayMs: 0, limits: 'off' }, { clock });
    ({ s3, nodes } = setup);
  });
  after(async () => {
    await setup?.destroy();
  });

  it('delivers what either node accepted once, and goes on from the other node when the deliverer stops', async () => {
    const [ka, kb] = nodes.map((n) => n.client()) as [KinesisClient, KinesisClient];
    await createStream(ka, 'shared');
    await createChannel(kb, channelRequest('shared-channel', 'shared', BUCKET));
    const sent: number[] = [];
    const putThrough = async (client: KinesisClient, from: number, count: number) => {
      const records = Array.from({ length: count }, (_, i) => ({ Data: Buffer.from(JSON.stringify({ n: from + i })), PartitionKey: `k${from + i}` }));
      const out = await client.send(new PutRecordsCommand({ StreamName: 'shared', Records: records }));
      assert.equal(out.FailedRecordCount, 0);
      sent.push(...records.map((_, i) => from + i));
    };
    const deliver = async (what: string) => {
      let last = 0;
      await waitFor(async () => {
        if (Date.now() - last > 1000) {
          clock.advance(301_000);
          last = Date.now();
        }
        return (await delivered(s3)).length >= sent.length ? true : undefined;
      }, what);
      // A second deliverer would write the same records again within a step or two.
      await new Promise((r) => setTimeout(r, 1_500));
      clock.advance(301_000);
      await new Promise((r) => setTimeout(r, 500));
      const all = await delivered(s3);
      assert.deepEqual([...all].sort((a, b) => a - b), [...sent].sort((a, b) => a - b), 'each record once');
    };
    for (let i = 0; i < 10; i++) await putThrough(i % 2 === 0 ? ka : kb, i * 20, 20);
    await deliver('the first 200 records');

    const holders = nodes.filter((n) => n.kinesis.lease.held);
    assert.equal(holders.length, 1, 'one node holds the lease');
    const holder = holders[0]!;
    const survivor = nodes.find((n) => n !== holder)!;
    await holder.destroy();
    await putThrough(holder === nodes[0] ? kb : ka, 200, 100);
    await deliver('the records accepted after the stop');
    assert.equal(survivor.kinesis.lease.held, true);
  });
});
