/**
 * KinesisStreamAsSource: two delivery streams reading one Kinesis stream both deliver every
 * record, plain and KPL-aggregated (de-aggregated into its user records), and neither takes
 * records from the other (spec: firehose.md §2, §5.1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, DescribeDeliveryStreamCommand, PutRecordCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { DescribeStreamSummaryCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Aggregator } from '../../../src/client/aggregation.js';
import { ManualClock } from '../../../src/util/clock.js';
import { createStream } from '../../helpers/kinesis.js';
import { ROLE, readBucket, rejection, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

const START = Date.UTC(2026, 3, 9, 12, 0, 0);

function line(kind: string, i: number): string {
  return `${JSON.stringify({ kind, i })}\n`;
}

describe('Firehose reading a Kinesis stream', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let kinesis: KinesisClient;
  let s3: S3Client;
  const clock = new ManualClock(START);
  before(async () => {
    server = await startFirehoseServer({}, { clock });
    firehose = server.firehose();
    kinesis = server.client();
    s3 = server.s3Client();
  });
  after(() => server.destroy());

  it('delivers every record, plain and KPL-aggregated, through each of two delivery streams on one Kinesis stream', async () => {
    await createStream(kinesis, 'orders', 3);
    const streamARN = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'orders' }))).StreamDescriptionSummary!.StreamARN!;
    for (const name of ['orders-archive', 'orders-audit']) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: name,
          DeliveryStreamType: 'KinesisStreamAsSource',
          KinesisStreamSourceConfiguration: { KinesisStreamARN: streamARN, RoleARN: ROLE },
          ExtendedS3DestinationConfiguration: {
            RoleARN: ROLE,
            BucketARN: `arn:aws:s3:::${name}`,
            BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
          },
        }),
      );
      const d = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
      assert.equal(d.DeliveryStreamDescription!.DeliveryStreamType, 'KinesisStreamAsSource');
      assert.equal(d.DeliveryStreamDescription!.Source!.KinesisStreamSourceDescription!.KinesisStreamARN, streamARN);
    }
    // Producers write to the Kinesis stream, not to the delivery stream.
    const refused = await rejection(() => firehose.send(new PutRecordCommand({ DeliveryStreamName: 'orders-audit', Record: { Data: Buffer.from('x') } })));
    assert.equal(refused.name, 'InvalidArgumentException');
    assert.equal(refused.message, 'This operation is not permitted on KinesisStreamAsSource delivery stream type.');

    const expected: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const records = Array.from({ length: 250 }, (_, i) => {
        const text = line('plain', batch * 250 + i);
        expected.push(text);
        return { PartitionKey: `p${i}`, Data: Buffer.from(text) };
      });
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: 'orders', Records: records }));
      assert.equal(out.FailedRecordCount, 0);
    }
    // KPL aggregation: 40 aggregated Kinesis records of 25 user records each.
    const aggregated = [];
    for (let a = 0; a < 40; a++) {
      const agg = new Aggregator();
      for (let u = 0; u < 25; u++) {
        const text = line('aggregated', a * 25 + u);
        expected.push(text);
        assert.ok(agg.add(`user-${a}-${u}`, Buffer.from(text)));
      }
      const built = agg.build();
      aggregated.push({ PartitionKey: built.partitionKey, Data: built.data });
    }
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: 'orders', Records: aggregated }));
    assert.equal(out.FailedRecordCount, 0);

    for (const bucket of ['orders-archive', 'orders-audit']) {
      const lines = await waitFor(async () => {
        // The interval hint passes on the injected clock; reading goes on at the Kinesis poll rate.
        clock.advance(61_000);
        const objects = await readBucket(s3, bucket);
        const got = objects.flatMap((o) => o.body.toString().split(/(?<=\n)/).filter((l) => l.length > 0));
        return got.length >= expected.length ? got : undefined;
      }, `every record in ${bucket}`);
      assert.equal(lines.length, expected.length, `${bucket} holds each record once`);
      assert.deepEqual([...lines].sort(), [...expected].sort());
    }
  });
});
