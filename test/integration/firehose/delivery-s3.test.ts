/**
 * Direct PUT to Extended S3 through @aws-sdk/client-firehose, read back with @aws-sdk/client-s3:
 * buffering by size and by interval on an injected clock, object keys as Firehose names them
 * (the yyyy/MM/dd/HH/ default prefix after a literal one, `<stream>-<version>-<time>-<uuid>`),
 * compression, and every record delivered exactly once in a run without failures
 * (spec: firehose.md §4, §5.1, §5.2).
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, PutRecordBatchCommand, PutRecordCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import type { S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../../src/util/clock.js';
import { ROLE, readBucket, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

const MiB = 1024 * 1024;
const START = Date.UTC(2026, 2, 1, 10, 15, 0);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function line(i: number): Buffer {
  return Buffer.from(`${JSON.stringify({ id: i, page: `/item/${i % 97}`, pad: 'x'.repeat(150) })}\n`);
}

describe('Firehose delivery to S3', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;
  const clock = new ManualClock(START);
  before(async () => {
    server = await startFirehoseServer({}, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
  });
  after(() => server.destroy());

  it('delivers 10,000 records exactly once, one object per buffer flush, under the expected keys', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'clicks-bucket' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'clicks',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: 'arn:aws:s3:::clicks-bucket',
          Prefix: 'clicks/',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 },
        },
      }),
    );
    let bytes = 0;
    for (let start = 0; start < 10_000; start += 500) {
      const records = Array.from({ length: 500 }, (_, i) => ({ Data: line(start + i) }));
      for (const r of records) bytes += r.Data.length;
      const out = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'clicks', Records: records }));
      assert.equal(out.FailedPutCount, 0);
      assert.equal(out.RequestResponses?.length, 500);
    }
    // Size flushes happen without the clock moving: every full MiB is delivered at once.
    const fullObjects = Math.floor(bytes / MiB);
    const sized = await waitFor(async () => {
      const objects = await readBucket(s3, 'clicks-bucket');
      return objects.length >= fullObjects ? objects : undefined;
    }, 'the size-triggered objects');
    assert.equal(sized.length, fullObjects, 'the rest waits for the interval');
    for (const o of sized) {
      assert.match(o.key, new RegExp(`^clicks/2026/03/01/10/clicks-1-2026-03-01-10-15-00-${UUID}$`));
      assert.ok(o.size <= MiB && o.size > MiB - 300, `an object fills its buffer to the size hint (${o.size})`);
    }
    clock.advance(60_000);
    const all = await waitFor(async () => {
      const objects = await readBucket(s3, 'clicks-bucket');
      return objects.length > fullObjects ? objects : undefined;
    }, 'the interval-triggered object');
    assert.equal(all.length, fullObjects + 1);
    const last = all.find((o) => !sized.some((s) => s.key === o.key))!;
    assert.match(last.key, new RegExp(`^clicks/2026/03/01/10/clicks-1-2026-03-01-10-16-00-${UUID}$`));
    const seen = new Map<number, number>();
    for (const o of all) {
      for (const text of o.body.toString('utf8').split('\n')) {
        if (text === '') continue;
        const id = (JSON.parse(text) as { id: number }).id;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    assert.equal(seen.size, 10_000);
    assert.ok([...seen.values()].every((n) => n === 1), 'no record twice');
    assert.equal(all.reduce((n, o) => n + o.size, 0), bytes, 'records are concatenated byte for byte');
  });

  it('compresses with GZIP and names the object with .gz', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'gzip-bucket' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'zipped',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: 'arn:aws:s3:::gzip-bucket',
          CompressionFormat: 'GZIP',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
        },
      }),
    );
    await firehose.send(new PutRecordCommand({ DeliveryStreamName: 'zipped', Record: { Data: Buffer.from('hello\n') } }));
    const [object] = await waitFor(async () => {
      const objects = await readBucket(s3, 'gzip-bucket');
      return objects.length > 0 ? objects : undefined;
    }, 'the zero-buffering object');
    assert.match(object!.key, new RegExp(`^2026/03/01/1\\d/zipped-1-2026-03-01-1\\d-\\d\\d-\\d\\d-${UUID}\\.gz$`));
    assert.equal(gunzipSync(object!.body).toString(), 'hello\n');
  });
});
