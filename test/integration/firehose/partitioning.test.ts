/**
 * Dynamic partitioning by a jq query (MetadataExtraction): each record lands under its
 * partition's prefix, one object per partition; a record that is not JSON, or whose query fails,
 * goes to the error output prefix as processing-failed, the others of its batch unharmed
 * (spec: firehose.md §5.3, §7).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { ManualClock } from '../../../src/util/clock.js';
import { ROLE, readBucket, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

describe('Firehose dynamic partitioning', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;
  const clock = new ManualClock(Date.UTC(2026, 5, 2, 8, 0, 0));
  before(async () => {
    server = await startFirehoseServer({}, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
  });
  after(() => server.destroy());

  it('puts each record under the prefix its jq partition keys evaluate to', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'parts' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'by-customer',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: 'arn:aws:s3:::parts',
          Prefix: 'customer=!{partitionKeyFromQuery:customer}/year=!{timestamp:yyyy}/',
          ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/',
          BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
          DynamicPartitioningConfiguration: { Enabled: true },
          ProcessingConfiguration: {
            Enabled: true,
            Processors: [
              { Type: 'MetadataExtraction', Parameters: [{ ParameterName: 'MetadataExtractionQuery', ParameterValue: '{customer: .customer}' }, { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' }] },
              { Type: 'AppendDelimiterToRecord', Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }] },
            ],
          },
        },
      }),
    );
    const records = Array.from({ length: 30 }, (_, i) => ({ Data: Buffer.from(JSON.stringify({ customer: `c${i % 3}`, n: i })) }));
    records.push({ Data: Buffer.from('not json') });
    records.push({ Data: Buffer.from('"a string has no .customer"') });
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'by-customer', Records: records }));
    clock.advance(60_000);
    const objects = await waitFor(async () => {
      const all = await readBucket(s3, 'parts');
      const failed = all.filter((x) => x.key.startsWith('errors/')).reduce((n, x) => n + x.body.toString().trim().split('\n').length, 0);
      return all.length >= 4 && failed >= 2 ? all : undefined;
    }, 'three partitions and one error object');
    const byPrefix = new Map<string, number[]>();
    for (const o of objects.filter((x) => x.key.startsWith('customer='))) {
      const prefix = o.key.slice(0, o.key.lastIndexOf('/') + 1);
      const ns = o.body.toString().trim().split('\n').map((l) => (JSON.parse(l) as { customer: string; n: number }));
      for (const r of ns) assert.equal(prefix, `customer=${r.customer}/year=2026/`);
      byPrefix.set(prefix, ns.map((r) => r.n));
    }
    assert.deepEqual([...byPrefix.keys()].sort(), ['customer=c0/year=2026/', 'customer=c1/year=2026/', 'customer=c2/year=2026/']);
    assert.deepEqual([...byPrefix.values()].flat().sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
    const errors = objects.filter((x) => x.key.startsWith('errors/'));
    assert.ok(errors.length >= 1);
    for (const e of errors) assert.match(e.key, /^errors\/processing-failed\//);
    const failures = errors
      .flatMap((e) => e.body.toString().trim().split('\n'))
      .map((l) => JSON.parse(l) as { rawData: string; errorCode: string; errorMessage: string });
    assert.deepEqual(
      failures.map((f) => Buffer.from(f.rawData, 'base64').toString()).sort(),
      ['"a string has no .customer"', 'not json'],
    );
    for (const f of failures) assert.equal(f.errorCode, 'DynamicPartitioning.MetadataExtractionFailed');
    assert.match(failures.find((f) => Buffer.from(f.rawData, 'base64').toString() === 'not json')!.errorMessage, /Non JSON record provided/);
    assert.match(failures.find((f) => Buffer.from(f.rawData, 'base64').toString() !== 'not json')!.errorMessage, /Cannot index string/);
  });
});
