/**
 * Direct PUT to an HTTP endpoint destination through @aws-sdk/client-firehose, received by a real
 * HTTPS endpoint on 127.0.0.1 (its self-signed certificate trusted with --http-endpoint-ca), the
 * S3 backup read back with @aws-sdk/client-s3; retry time driven on an injected clock
 * (spec: firehose.md §9, AWS's HTTP endpoint request and response specifications).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  PutRecordBatchCommand,
  type FirehoseClient,
  type HttpEndpointDestinationConfiguration,
} from '@aws-sdk/client-firehose';
import { ensureSelfSigned } from '../../../src/server/tls.js';
import { ManualClock } from '../../../src/util/clock.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { ROLE, readBucket, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

const START = Date.UTC(2026, 2, 1, 10, 15, 0);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  /** The body as sent (compressed when the stream compresses). */
  raw: Buffer;
  json: { requestId: string; timestamp: number; records: { data: string }[] };
  status: number;
}

/** What the endpoint answers to the n-th request (from 1) of a path: a status and a body. */
type Answer = (n: number, request: Received['json']) => { status: number; body: unknown; contentType?: string };

/** A Firehose-compatible HTTPS endpoint; each path answers as its script says and keeps what it got. */
class Receiver {
  readonly got = new Map<string, Received[]>();
  readonly scripts = new Map<string, Answer>();
  private server: https.Server | undefined;
  port = 0;

  async start(cert: Buffer, key: Buffer): Promise<void> {
    this.server = https.createServer({ cert, key }, (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
        const json = JSON.parse(text) as Received['json'];
        const path = new URL(req.url!, 'https://x').pathname;
        const list = this.got.get(path) ?? [];
        this.got.set(path, list);
        const answer = (this.scripts.get(path) ?? ok)(list.length + 1, json);
        list.push({ headers: req.headers, raw, json, status: answer.status });
        res.writeHead(answer.status, { 'Content-Type': answer.contentType ?? 'application/json' });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `https://127.0.0.1:${this.port}${path}`;
  }

  requests(path: string): Received[] {
    return this.got.get(path) ?? [];
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const ok: Answer = (_n, request) => ({ status: 200, body: { requestId: request.requestId, timestamp: Date.now() } });

function line(i: number): Buffer {
  return Buffer.from(`${JSON.stringify({ id: i, user: `u${i % 13}`, pad: 'y'.repeat(40) })}\n`);
}

/** `yyyy/MM/dd/HH` and `yyyy-MM-dd-HH-mm-ss` of an instant, as keys name it (UTC). */
function keyTimes(ms: number): { hour: string; second: string } {
  const [date, time] = new Date(ms).toISOString().split('T') as [string, string];
  const [h, m, sec] = time.slice(0, 8).split(':');
  return { hour: `${date.replaceAll('-', '/')}/${h}`, second: `${date}-${h}-${m}-${sec}` };
}

function decoded(request: Received): string[] {
  return request.json.records.map((r) => Buffer.from(r.data, 'base64').toString());
}

async function putLines(firehose: FirehoseClient, stream: string, count: number): Promise<Buffer[]> {
  const all: Buffer[] = [];
  for (let start = 0; start < count; start += 500) {
    const records = Array.from({ length: Math.min(500, count - start) }, (_, i) => line(start + i));
    all.push(...records);
    const out = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records.map((Data) => ({ Data })) }));
    assert.equal(out.FailedPutCount, 0);
  }
  return all;
}

describe('Firehose delivery to an HTTP endpoint', () => {
  const dir = tempDir('tributary-http-endpoint-');
  const clock = new ManualClock(START);
  const receiver = new Receiver();
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;

  before(async () => {
    const { certFile, keyFile } = ensureSelfSigned(dir);
    await receiver.start(readFileSync(certFile), readFileSync(keyFile));
    server = await startFirehoseServer({ httpEndpointCa: certFile }, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
  });
  after(async () => {
    await server.destroy();
    await receiver.close();
    removeDir(dir);
  });

  async function create(name: string, config: HttpEndpointDestinationConfiguration): Promise<void> {
    await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, HttpEndpointDestinationConfiguration: config }));
    await waitFor(async () => {
      const d = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
      return d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE' ? true : undefined;
    }, `${name} to become ACTIVE`);
  }

  it('describes an HTTP endpoint destination with the defaults AWS fills in, and without its access key', async () => {
    await create('described', {
      EndpointConfiguration: { Url: receiver.url('/described'), Name: 'receiver', AccessKey: 'not-shown' },
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::described-backup' },
    });
    const d = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'described' }));
    const described = d.DeliveryStreamDescription!.Destinations![0]!.HttpEndpointDestinationDescription!;
    assert.deepEqual(described.EndpointConfiguration, { Url: receiver.url('/described'), Name: 'receiver' });
    assert.deepEqual(described.BufferingHints, { SizeInMBs: 5, IntervalInSeconds: 300 });
    assert.deepEqual(described.RequestConfiguration, { ContentEncoding: 'NONE' });
    assert.deepEqual(described.RetryOptions, { DurationInSeconds: 300 });
    assert.deepEqual(described.CloudWatchLoggingOptions, { Enabled: false });
    assert.equal(described.S3BackupMode, 'FailedDataOnly');
    assert.deepEqual(described.S3DestinationDescription, {
      RoleARN: ROLE,
      BucketARN: 'arn:aws:s3:::described-backup',
      BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 300 },
      CompressionFormat: 'UNCOMPRESSED',
      EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
      CloudWatchLoggingOptions: { Enabled: false },
    });
  });

  it('retries a 500 and a wrong requestId with the same request id, then delivers every record once, in order', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'flaky-backup' }));
    receiver.scripts.set('/flaky', (n, request) => {
      if (n === 1) return { status: 500, body: { requestId: request.requestId, timestamp: Date.now(), errorMessage: 'warming up' } };
      if (n === 2) return { status: 200, body: { requestId: 'not-this-one', timestamp: Date.now() } };
      return ok(n, request);
    });
    await create('flaky', {
      EndpointConfiguration: { Url: receiver.url('/flaky'), Name: 'flaky', AccessKey: 'key-{"jwt":"a.b.c"}' },
      BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 },
      RequestConfiguration: {
        ContentEncoding: 'GZIP',
        CommonAttributes: [
          { AttributeName: 'deployment-context', AttributeValue: 'pre-prod-gamma' },
          { AttributeName: 'device-types', AttributeValue: '' },
        ],
      },
      RetryOptions: { DurationInSeconds: 600 },
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::flaky-backup' },
    });
    const sent = await putLines(firehose, 'flaky', 1200);
    assert.equal(receiver.requests('/flaky').length, 0, 'nothing is sent before the interval');
    clock.advance(60_000);
    await waitFor(async () => (receiver.requests('/flaky').length >= 1 ? true : undefined), 'the first attempt');
    clock.advance(1_000);
    await waitFor(async () => (receiver.requests('/flaky').length >= 2 ? true : undefined), 'the first retry');
    clock.advance(2_000);
    await waitFor(async () => (receiver.requests('/flaky').length >= 3 ? true : undefined), 'the second retry');

    const attempts = receiver.requests('/flaky');
    assert.deepEqual(attempts.map((a) => a.status), [500, 200, 200]);
    const ids = new Set(attempts.map((a) => a.headers['x-amz-firehose-request-id']));
    assert.equal(ids.size, 1, 'every attempt carries the same request id');
    for (const a of attempts) {
      assert.equal(a.headers['x-amz-firehose-protocol-version'], '1.0');
      assert.equal(a.headers['x-amz-firehose-request-id'], a.json.requestId);
      assert.match(a.json.requestId, new RegExp(`^${UUID}$`));
      assert.equal(a.headers['x-amz-firehose-source-arn'], 'arn:aws:firehose:us-east-1:000000000000:deliverystream/flaky');
      assert.equal(a.headers['x-amz-firehose-access-key'], 'key-{"jwt":"a.b.c"}');
      assert.deepEqual(JSON.parse(String(a.headers['x-amz-firehose-common-attributes'])), {
        commonAttributes: { 'deployment-context': 'pre-prod-gamma', 'device-types': '' },
      });
      assert.equal(a.headers['content-type'], 'application/json');
      assert.equal(a.headers['content-encoding'], 'gzip');
      assert.equal(Number(a.headers['content-length']), a.raw.length);
      assert.equal(a.raw[0], 0x1f, 'the body is gzip');
    }
    assert.deepEqual(attempts.map((a) => a.json.timestamp), [START + 60_000, START + 61_000, START + 63_000], 'the body is stamped on the clock');
    assert.deepEqual(decoded(attempts[2]!), sent.map((b) => b.toString()), 'every record once, in order, base64 decoded');
    assert.deepEqual(await readBucket(s3, 'flaky-backup'), [], 'nothing goes to the backup when delivery succeeds');
  });

  it('after the retry duration writes the records to the S3 backup as http-endpoint-failed error records', async () => {
    receiver.scripts.set('/down', () => ({ status: 503, body: { errorMessage: 'down for maintenance' } }));
    await create('down', {
      EndpointConfiguration: { Url: receiver.url('/down') },
      BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
      RetryOptions: { DurationInSeconds: 30 },
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::down-backup', Prefix: 'backup/' },
    });
    const putAt = clock.now();
    const sent = await putLines(firehose, 'down', 50);
    await waitFor(async () => (receiver.requests('/down').length >= 1 ? true : undefined), 'the first attempt');
    const firstFailure = clock.now();
    clock.advance(1_000);
    await waitFor(async () => (receiver.requests('/down').length >= 2 ? true : undefined), 'a retry');
    assert.deepEqual(await readBucket(s3, 'down-backup').catch(() => []), [], 'nothing is given up within the retry duration');
    clock.advance(29_000);
    const [object] = await waitFor(async () => {
      const objects = await readBucket(s3, 'down-backup').catch(() => []);
      return objects.length > 0 ? objects : undefined;
    }, 'the error object');
    const attempts = receiver.requests('/down').length;
    assert.equal(attempts, 3);
    const at = keyTimes(firstFailure + 30_000);
    assert.match(object!.key, new RegExp(`^backup/http-endpoint-failed/${keyTimes(putAt).hour}/down-1-${at.second}-${UUID}$`));
    const lines = object!.body.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 50);
    lines.forEach((l, i) => {
      assert.deepEqual(Object.keys(l), ['attemptsMade', 'arrivalTimestamp', 'errorCode', 'errorMessage', 'attemptEndingTimestamp', 'rawData', 'subsequenceNumber', 'dataId']);
      assert.equal(l.attemptsMade, 3);
      assert.equal(l.arrivalTimestamp, putAt);
      assert.equal(l.errorCode, 'HttpEndpoint.DestinationException');
      assert.equal(l.errorMessage, 'Received the following response from the endpoint destination. 503: {"errorMessage":"down for maintenance"}');
      assert.equal(l.attemptEndingTimestamp, firstFailure + 30_000);
      assert.equal(Buffer.from(String(l.rawData), 'base64').toString(), sent[i]!.toString());
      assert.equal(l.subsequenceNumber, 0);
      assert.match(String(l.dataId), /\.0$/);
    });
    assert.equal(new Set(lines.map((l) => l.dataId)).size, 50, 'each record has its own dataId');
  });

  it('with AllData backs up every delivered record to S3 as well', async () => {
    await create('everything', {
      EndpointConfiguration: { Url: receiver.url('/everything') },
      BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
      S3BackupMode: 'AllData',
      S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::everything-backup', Prefix: 'all/', CompressionFormat: 'GZIP' },
    });
    const at = keyTimes(clock.now());
    const sent = await putLines(firehose, 'everything', 700);
    const objects = await waitFor(async () => {
      const found = await readBucket(s3, 'everything-backup').catch(() => []);
      const backedUp = found.reduce((n, o) => n + gunzipSync(o.body).toString().split('\n').length - 1, 0);
      return backedUp >= sent.length ? found : undefined;
    }, 'the backup of every record');
    for (const o of objects) assert.match(o.key, new RegExp(`^all/${at.hour}/everything-1-${at.second}-${UUID}\\.gz$`));
    const backedUp = objects.flatMap((o) => gunzipSync(o.body).toString().split('\n').filter((l) => l !== ''));
    const delivered = receiver.requests('/everything').flatMap(decoded);
    const expected = sent.map((b) => b.toString());
    assert.deepEqual(delivered, expected, 'the endpoint got every record once, in order');
    assert.deepEqual(backedUp.sort(), expected.map((l) => l.trimEnd()).sort(), 'the backup holds every record once');
  });
});
