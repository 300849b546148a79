/**
 * Channels deliver an ON_DEMAND stream's records to S3, read back with @aws-sdk/client-s3 from the
 * server's own S3 endpoint: each record format and compression, objects under the key template
 * (the default one and a custom one), every record exactly once after the clock passes
 * DataFreshnessInSeconds, records that are not of the channel's format in the dead-letter bucket,
 * and delivery that goes on after a restart without losing records.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../../src/util/clock.js';
import { zstdAvailable } from '../../../src/delivery/zstd.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { readBucket } from '../firehose/helpers.js';
import { startS3TestServer, type S3TestServer } from '../s3/helpers.js';
import { channelRequest, createChannel, createStream, streamArn } from './helpers.js';

const START = Date.UTC(2026, 2, 1, 10, 15, 0);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const FRESHNESS_S = 300;

async function put(kinesis: KinesisClient, stream: string, records: Buffer[]): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: records.slice(i, i + 500).map((Data, j) => ({ Data, PartitionKey: `pk-${i + j}` })),
      }),
    );
    assert.equal(out.FailedRecordCount, 0);
  }
}

/**
 * Moves the clock past the freshness interval once a second (the channel reads the stream in
 * the background meanwhile) until `done` says the objects are all there; returns what it found.
 */
async function deliveredWhen<T>(clock: ManualClock, read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  let lastAdvance = Date.now();
  clock.advance((FRESHNESS_S + 1) * 1000);
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (Date.now() - lastAdvance > 1000) {
      clock.advance((FRESHNESS_S + 1) * 1000);
      lastAdvance = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The key parts the time variables of the default template give for an instant. */
function stamp(t: number): { dirs: string; name: string; hour: string; day: string } {
  const iso = new Date(t).toISOString();
  const [y, mo, d, h, mi] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13), iso.slice(14, 16)];
  return { dirs: `${y}/${mo}/${d}/${h}`, name: `${y}-${mo}-${d}-${h}-${mi}`, hour: h, day: `${y}-${mo}-${d}` };
}

const jsonRecord = (i: number) => Buffer.from(JSON.stringify({ id: i, note: `record ${i}` }));

function idsOfLines(bodies: Buffer[]): number[] {
  const ids: number[] = [];
  for (const body of bodies) {
    const text = body.toString('utf8');
    assert.ok(text.endsWith('\n'), 'every record ends its line');
    for (const line of text.split('\n').slice(0, -1)) ids.push((JSON.parse(line) as { id: number }).id);
  }
  return ids;
}

function assertEachOnce(ids: number[], n: number): void {
  const sorted = [...ids].sort((a, b) => a - b);
  assert.deepEqual(sorted, Array.from({ length: n }, (_, i) => i), 'every record exactly once');
}

describe('channels deliver to S3', () => {
  let server: S3TestServer;
  let kinesis: KinesisClient;
  let s3: S3Client;
  const clock = new ManualClock(START);
  before(async () => {
    server = await startS3TestServer({}, { clock });
    kinesis = server.client();
    s3 = server.s3Client();
  });
  after(() => server.destroy());

  it('JSON records, uncompressed, under the default key template, and the invalid one in the dead-letter bucket', async () => {
    await createStream(kinesis, 'orders');
    const channel = await createChannel(
      kinesis,
      channelRequest('orders-to-s3', 'orders', 'orders-bucket', {
        S3DestinationConfiguration: {
          DataFreshnessInSeconds: FRESHNESS_S,
          StorageConfiguration: { BucketARN: 'arn:aws:s3:::orders-bucket', ExpectedBucketOwner: '000000000000', CompressionType: 'NONE' },
          DeadLetterQueueS3Configuration: { BucketARN: 'arn:aws:s3:::orders-dlq', ExpectedBucketOwner: '000000000000', ErrorOutputPrefix: 'failed/' },
        },
      }),
    );
    assert.equal(channel.ChannelStatus, 'ACTIVE');
    const n = 1200;
    const at = stamp(clock.now());
    await put(kinesis, 'orders', [...Array.from({ length: n }, (_, i) => jsonRecord(i)), Buffer.from('{"id": oops')]);
    const objects = await deliveredWhen(
      clock,
      async () => ({ data: await readBucket(s3, 'orders-bucket').catch(() => []), dlq: await readBucket(s3, 'orders-dlq').catch(() => []) }),
      (v) => idsOfLines(v.data.map((o) => o.body)).length >= n && v.dlq.length >= 1,
      'the orders objects',
    );
    const id = channel.ChannelId!;
    for (const o of objects.data) {
      assert.match(o.key, new RegExp(`^kinesis-channel/orders-to-s3/${id}/${at.dirs}/orders-to-s3-${id}-${at.name}-${UUID}$`));
    }
    assertEachOnce(idsOfLines(objects.data.map((o) => o.body)), n);
    assert.equal(objects.dlq.length, 1);
    assert.match(objects.dlq[0]!.key, new RegExp(`^failed/orders-to-s3-${id}-${at.day}-\\d\\d-\\d\\d-${UUID}$`));
    const lines = objects.dlq[0]!.body.toString('utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const failure = JSON.parse(lines[0]!) as { rawData: string; errorCode: string; errorMessage: string; sequenceNumber?: string };
    assert.equal(Buffer.from(failure.rawData, 'base64').toString('utf8'), '{"id": oops');
    assert.equal(failure.errorMessage, 'The record is not valid JSON.');
    assert.match(failure.sequenceNumber ?? '', /^\d+$/);
  });

  it('STRING records, gzip, with a .gz extension', async () => {
    await createStream(kinesis, 'lines');
    const channel = await createChannel(
      kinesis,
      channelRequest('lines-gz', 'lines', 'lines-bucket', {
        StreamConfigurationList: [{ StreamARN: streamArn('lines'), RecordConfiguration: { RecordFormatType: 'STRING' } }],
        S3DestinationConfiguration: {
          StorageConfiguration: { BucketARN: 'arn:aws:s3:::lines-bucket', ExpectedBucketOwner: '000000000000', CompressionType: 'GZIP' },
        },
      }),
    );
    assert.equal(channel.S3DestinationConfiguration?.DataFreshnessInSeconds, 300, 'the default freshness');
    const n = 700;
    const at = stamp(clock.now());
    // Records that end with their own line break keep it, the others get one.
    await put(kinesis, 'lines', Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ id: i }) + (i % 2 ? '\n' : ''))));
    const objects = await deliveredWhen(
      clock,
      () => readBucket(s3, 'lines-bucket').catch(() => []),
      (v) => v.reduce((sum, o) => sum + gunzipSync(o.body).toString('utf8').split('\n').length - 1, 0) >= n,
      'the gzip objects',
    );
    const id = channel.ChannelId!;
    for (const o of objects) assert.match(o.key, new RegExp(`^kinesis-channel/lines-gz/${id}/${at.dirs}/lines-gz-${id}-${at.name}-${UUID}\\.gz$`));
    assertEachOnce(idsOfLines(objects.map((o) => gunzipSync(o.body))), n);
  });

  it('JSON records, zstd, with a .zst extension that zstd -d decodes back to the records', async () => {
    assert.equal(zstdAvailable(), true, 'the zstd binary is installed (.ci/run installs it)');
    assert.equal(zstdAvailable('/nonexistent/zstd'), false);
    await createStream(kinesis, 'packed');
    const channel = await createChannel(
      kinesis,
      channelRequest('packed-zst', 'packed', 'packed-bucket', {
        StreamConfigurationList: [{ StreamARN: streamArn('packed'), RecordConfiguration: { RecordFormatType: 'JSON' } }],
        S3DestinationConfiguration: {
          StorageConfiguration: { BucketARN: 'arn:aws:s3:::packed-bucket', ExpectedBucketOwner: '000000000000', CompressionType: 'ZSTD' },
        },
      }),
    );
    assert.equal(channel.S3DestinationConfiguration?.StorageConfiguration?.CompressionType, 'ZSTD');
    const n = 900;
    const at = stamp(clock.now());
    const text = (i: number) => JSON.stringify({ id: i, pad: 'z'.repeat(i % 50) });
    await put(kinesis, 'packed', Array.from({ length: n }, (_, i) => Buffer.from(text(i))));
    const unzstd = (body: Buffer) => execFileSync('/usr/bin/zstd', ['-d', '-q', '-c'], { input: body });
    const objects = await deliveredWhen(
      clock,
      () => readBucket(s3, 'packed-bucket').catch(() => []),
      (v) => v.reduce((sum, o) => sum + unzstd(o.body).toString('utf8').split('\n').length - 1, 0) >= n,
      'the zstd objects',
    );
    const id = channel.ChannelId!;
    const lines: string[] = [];
    for (const o of objects) {
      assert.match(o.key, new RegExp(`^kinesis-channel/packed-zst/${id}/${at.dirs}/packed-zst-${id}-${at.name}-${UUID}\\.zst$`));
      // A Zstandard frame begins with its magic number, 28 B5 2F FD.
      assert.deepEqual([...o.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
      const plain = unzstd(o.body).toString('utf8');
      assert.ok(plain.endsWith('\n'));
      lines.push(...plain.slice(0, -1).split('\n'));
    }
    assert.equal(lines.length, n);
    assert.deepEqual(
      lines.sort((a, b) => (JSON.parse(a) as { id: number }).id - (JSON.parse(b) as { id: number }).id),
      Array.from({ length: n }, (_, i) => text(i)),
    );
  });

  it('BYTE_ARRAY records as they are, under a custom OutputKeyTemplate', async () => {
    await createStream(kinesis, 'bytes');
    await createChannel(
      kinesis,
      channelRequest('raw-bytes', 'bytes', 'bytes-bucket', {
        StreamConfigurationList: [{ StreamARN: streamArn('bytes'), RecordConfiguration: { RecordFormatType: 'BYTE_ARRAY' } }],
        S3DestinationConfiguration: {
          StorageConfiguration: {
            BucketARN: 'arn:aws:s3:::bytes-bucket',
            ExpectedBucketOwner: '000000000000',
            CompressionType: 'NONE',
            OutputKeyTemplate: 'raw/!{channel-name}/dt=!{yyyy}-!{MM}-!{dd}/hour=!{HH}/part',
          },
        },
      }),
    );
    const n = 500;
    const at = stamp(clock.now());
    // Eight bytes each: the record number, then bytes that are not UTF-8.
    const record = (i: number) => {
      const b = Buffer.from([0, 0, 0, 0, 0xff, 0xfe, 0x00, 0x80]);
      b.writeUInt32BE(i, 0);
      return b;
    };
    await put(kinesis, 'bytes', Array.from({ length: n }, (_, i) => record(i)));
    const objects = await deliveredWhen(
      clock,
      () => readBucket(s3, 'bytes-bucket').catch(() => []),
      (v) => v.reduce((sum, o) => sum + o.size, 0) >= n * 8,
      'the byte objects',
    );
    const ids: number[] = [];
    for (const o of objects) {
      assert.match(o.key, new RegExp(`^raw/raw-bytes/dt=${at.day}/hour=${at.hour}/part-${UUID}$`));
      assert.equal(o.body.length % 8, 0);
      for (let at = 0; at < o.body.length; at += 8) {
        assert.deepEqual([...o.body.subarray(at + 4, at + 8)], [0xff, 0xfe, 0x00, 0x80]);
        ids.push(o.body.readUInt32BE(at));
      }
    }
    assertEachOnce(ids, n);
  });

  it('does not deliver what the stream held before the channel was ACTIVE', async () => {
    await createStream(kinesis, 'late');
    await put(kinesis, 'late', [jsonRecord(-1)]);
    clock.advance(1);
    await createChannel(kinesis, channelRequest('late-channel', 'late', 'late-bucket'));
    await put(kinesis, 'late', Array.from({ length: 10 }, (_, i) => jsonRecord(i)));
    const objects = await deliveredWhen(
      clock,
      () => readBucket(s3, 'late-bucket').catch(() => []),
      (v) => idsOfLines(v.map((o) => o.body)).length >= 10,
      'the late objects',
    );
    assertEachOnce(idsOfLines(objects.map((o) => o.body)), 10);
  });
});

describe('channel delivery across a restart', () => {
  it('resumes from the saved positions: records read before the restart and after it are all delivered', async () => {
    const dataDir = tempDir();
    const clock = new ManualClock(START);
    let server = await startS3TestServer({}, { clock, dataDir });
    try {
      let kinesis = server.client();
      await createStream(kinesis, 'events');
      await createChannel(kinesis, channelRequest('events-channel', 'events', 'events-bucket'));
      await put(kinesis, 'events', Array.from({ length: 300 }, (_, i) => jsonRecord(i)));
      // Give the channel time to read what is there (its buffer is younger than the freshness interval).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await server.close();
      server = await startS3TestServer({}, { clock, dataDir });
      kinesis = server.client();
      await put(kinesis, 'events', Array.from({ length: 300 }, (_, i) => jsonRecord(300 + i)));
      const s3 = server.s3Client();
      const objects = await deliveredWhen(
        clock,
        () => readBucket(s3, 'events-bucket').catch(() => []),
        (v) => new Set(idsOfLines(v.map((o) => o.body))).size >= 600,
        'the objects of both runs',
      );
      const ids = new Set(idsOfLines(objects.map((o) => o.body)));
      assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 600 }, (_, i) => i), 'at least once: none lost');
    } finally {
      await server.destroy().catch(() => {});
      removeDir(dataDir);
    }
  });
});
