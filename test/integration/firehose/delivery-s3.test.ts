/**
 * Direct PUT to Extended S3 through @aws-sdk/client-firehose, read back with @aws-sdk/client-s3:
 * buffering by size and by interval on an injected clock, object keys as Firehose names them
 * (the yyyy/MM/dd/HH/ default prefix after a literal one, `<stream>-<version>-<time>-<uuid>`),
 * compression, and every record delivered exactly once in a run without failures
 * (spec: firehose.md §4, §5.1, §5.2).
 */
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32, gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import snappy from 'snappyjs';
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

  it('writes ZIP, Snappy and HADOOP_SNAPPY objects that decoders of the formats read back, checksums included', async () => {
    // Enough text, repeated, for several Snappy chunks (64 KiB each) and real compression.
    const records = Array.from({ length: 3_000 }, (_, i) => Buffer.from(`${JSON.stringify({ n: i, word: ['alpha', 'beta', 'gamma'][i % 3], pad: 'z'.repeat(i % 90) })}\n`));
    const whole = Buffer.concat(records);
    assert.ok(whole.length > 2 * 65_536);
    const decoders: Record<string, { ext: string; decode: (b: Buffer) => Buffer }> = {
      ZIP: { ext: '.zip', decode: unzipOne },
      Snappy: { ext: '.snappy', decode: unframeSnappy },
      HADOOP_SNAPPY: { ext: '.snappy', decode: unblockHadoopSnappy },
    };
    for (const [format, { ext, decode }] of Object.entries(decoders)) {
      const name = `packed-${format.toLowerCase().replace('_', '-')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: name,
          ExtendedS3DestinationConfiguration: {
            RoleARN: ROLE,
            BucketARN: `arn:aws:s3:::${name}`,
            CompressionFormat: format as 'ZIP',
            BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 60 },
          },
        }),
      );
      for (let i = 0; i < records.length; i += 500) {
        await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: records.slice(i, i + 500).map((Data) => ({ Data })) }));
      }
      clock.advance(60_000);
      const [object] = await waitFor(async () => {
        const objects = await readBucket(s3, name);
        return objects.length > 0 ? objects : undefined;
      }, `the ${format} object`);
      assert.ok(object!.key.endsWith(ext), `${object!.key} ends with ${ext}`);
      assert.ok(object!.body.length < whole.length / 2, `${format} compresses (${object!.body.length} of ${whole.length} bytes)`);
      assert.ok(decode(object!.body).equals(whole), `${format} decodes to the records`);
    }
  });
});

/** The one entry of a ZIP archive, checked against the CRC-32 its local header records. */
function unzipOne(zip: Buffer): Buffer {
  assert.equal(zip.readUInt32LE(0), 0x04034b50, 'a local file header');
  const entries = Object.values(unzipSync(new Uint8Array(zip)));
  assert.equal(entries.length, 1);
  const data = Buffer.from(entries[0]!);
  // The CRC-32 field of the local header, or of the central directory when the header defers it.
  const central = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  assert.equal(zip.readUInt32LE(central + 16), zlibCrc32(data), 'the CRC-32 the archive records');
  return data;
}

/** CRC-32C (Castagnoli), bit by bit, as the Snappy framing format specifies it. */
function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The framing format's mask over a chunk's CRC-32C. */
function maskedCrc(data: Buffer): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** Reads the Snappy framing format: the stream identifier, then compressed or raw chunks, each with its masked CRC-32C. */
function unframeSnappy(framed: Buffer): Buffer {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the CRC-32C check value');
  assert.ok(framed.subarray(0, 10).equals(Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59])), 'the stream identifier');
  const out: Buffer[] = [];
  let at = 10;
  let chunks = 0;
  while (at < framed.length) {
    const type = framed[at]!;
    const length = framed.readUIntLE(at + 1, 3);
    const body = framed.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    if (type !== 0x00 && type !== 0x01) continue;
    const data = type === 0x00 ? Buffer.from(snappy.uncompress(body.subarray(4))) : body.subarray(4);
    assert.ok(data.length <= 65_536, 'a chunk holds at most 64 KiB');
    assert.equal(body.readUInt32LE(0), maskedCrc(data), 'the chunk CRC');
    out.push(data);
    chunks++;
  }
  assert.ok(chunks >= 2, `several chunks (${chunks})`);
  return Buffer.concat(out);
}

/** Reads Hadoop's block framing: each block's uncompressed length, then its compressed chunks with their lengths. */
function unblockHadoopSnappy(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const expected = data.readUInt32BE(at);
    at += 4;
    let got = 0;
    while (got < expected) {
      const length = data.readUInt32BE(at);
      const chunk = Buffer.from(snappy.uncompress(data.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
      got += chunk.length;
      out.push(chunk);
    }
    assert.equal(got, expected, 'a block holds its stated length');
  }
  return Buffer.concat(out);
}
