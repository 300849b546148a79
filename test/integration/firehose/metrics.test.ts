/**
 * Firehose's metrics under their CloudWatch names at /metrics: what PutRecord and PutRecordBatch
 * accepted (IncomingRecords, IncomingBytes, IncomingPutRequests, PutRecordBatch.Records) and what
 * was delivered to S3 (DeliveryToS3.Records, .Bytes, .ObjectCount, .Success, .DataFreshness).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateDeliveryStreamCommand, PutRecordBatchCommand, PutRecordCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../../src/util/clock.js';
import { readBucket, ROLE, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

/** The value of one sample of the exposition, or undefined. */
function sample(text: string, family: string, stream: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${family}{delivery_stream="${stream}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Firehose metrics', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  before(async () => {
    server = await startFirehoseServer({}, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
  });
  after(() => server.destroy());

  it('counts accepted and delivered records and bytes, and the age of what was delivered', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'metered' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'metered',
        ExtendedS3DestinationConfiguration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::metered', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 } },
      }),
    );
    const batch = Array.from({ length: 10 }, (_, i) => ({ Data: Buffer.from(`record-${i}\n`) }));
    const batchBytes = batch.reduce((n, r) => n + r.Data.length, 0);
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'metered', Records: batch }));
    await firehose.send(new PutRecordCommand({ DeliveryStreamName: 'metered', Record: { Data: Buffer.from('single\n') } }));
    // The buffer goes when its oldest record is 60 s old: the freshness of that delivery.
    clock.advance(60_000);
    await waitFor(async () => ((await readBucket(s3, 'metered')).length === 1 ? true : undefined), 'the delivered object');

    const text = await waitFor(async () => {
      const t = await (await fetch(`${server.endpoint}/metrics`)).text();
      return sample(t, 'tributary_firehose_delivery_to_s3_records_total', 'metered') === 11 ? t : undefined;
    }, 'the delivery in the metrics');
    assert.equal(sample(text, 'tributary_firehose_incoming_records_total', 'metered'), 11);
    assert.equal(sample(text, 'tributary_firehose_incoming_bytes_total', 'metered'), batchBytes + 7);
    assert.equal(sample(text, 'tributary_firehose_incoming_put_requests_total', 'metered'), 2);
    assert.equal(sample(text, 'tributary_firehose_put_record_batch_records_total', 'metered'), 10);
    assert.equal(sample(text, 'tributary_firehose_put_record_batch_requests_total', 'metered'), 1);
    assert.equal(sample(text, 'tributary_firehose_put_record_requests_total', 'metered'), 1);
    assert.equal(sample(text, 'tributary_firehose_delivery_to_s3_bytes_total', 'metered'), batchBytes + 7);
    assert.equal(sample(text, 'tributary_firehose_delivery_to_s3_object_count_total', 'metered'), 1);
    assert.equal(sample(text, 'tributary_firehose_delivery_to_s3_success_total', 'metered'), 1);
    assert.equal(sample(text, 'tributary_firehose_delivery_to_s3_data_freshness_seconds', 'metered'), 60);
    assert.match(text, /# TYPE tributary_firehose_delivery_to_s3_data_freshness_seconds gauge/);
    assert.match(text, /# TYPE tributary_firehose_incoming_records_total counter/);
  });
});
