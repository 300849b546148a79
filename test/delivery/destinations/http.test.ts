/**
 * The HTTP endpoint destination's parts: response judging by AWS's rules, request ids, the request
 * body and headers, the error record; and the destination against real local servers for what
 * the delivery stream tests cannot reach quickly: request timeouts, oversized responses, untrusted
 * certificates, 413, and buffers of more than 10,000 records (spec firehose.md §9).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  commonAttributesHeader,
  HttpEndpointDestination,
  HttpEndpointError,
  httpEndpointErrorLine,
  judgeResponse,
  MAX_REQUEST_RECORDS,
  requestBody,
  requestIdOf,
  type EndpointResponse,
} from '../../../src/delivery/destinations/http.js';
import type { BatchDestination, DeliveryBatch } from '../../../src/delivery/pipeline.js';
import type { DeliveryRecord, FailedRecord } from '../../../src/delivery/records.js';
import { ensureSelfSigned } from '../../../src/server/tls.js';
import { removeDir, tempDir } from '../../helpers/server.js';

const ID = '0b7e3c1a-5d2f-5a4b-8c9d-1e2f3a4b5c6d';

function json(body: unknown, status = 200): EndpointResponse {
  return { status, contentType: 'application/json', body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) };
}

function record(i: number, data = `record-${i}`): DeliveryRecord {
  return { id: `id-${i}`, offset: i, data: Buffer.from(data), arrival: 1_700_000_000_000 + i };
}

function batchOf(records: DeliveryRecord[]): DeliveryBatch {
  return { records, bytes: records.reduce((n, r) => n + r.data.length, 0), oldestArrival: records[0]!.arrival };
}

/** A backup that keeps what it is given. */
function keepingBackup(): BatchDestination & { batches: DeliveryBatch[]; failures: FailedRecord[] } {
  const batches: DeliveryBatch[] = [];
  const failures: FailedRecord[] = [];
  return {
    batches,
    failures,
    retryForMs: 0,
    async deliver(batch) {
      batches.push(batch);
      return { failed: [] };
    },
    async deliverFailures(failed) {
      failures.push(...failed);
    },
  };
}

describe('HTTP endpoint responses', () => {
  it('takes a 200 with the request id and a numeric timestamp, errorMessage allowed', () => {
    assert.deepEqual(judgeResponse(ID, json({ requestId: ID, timestamp: 1 })), { ok: true });
    assert.deepEqual(judgeResponse(ID, json({ requestId: ID, timestamp: 1, errorMessage: '' })), { ok: true });
    assert.deepEqual(judgeResponse(ID, { ...json({ requestId: ID, timestamp: 1 }), contentType: 'application/json; charset=utf-8' }), { ok: true });
  });

  it('fails a 200 that breaks the response rules as an invalid response', () => {
    const invalid: [string, EndpointResponse][] = [
      ['another request id', json({ requestId: 'other', timestamp: 1 })],
      ['no request id', json({ timestamp: 1 })],
      ['a string timestamp', json({ requestId: ID, timestamp: '1' })],
      ['no timestamp', json({ requestId: ID })],
      ['an unexpected field', json({ requestId: ID, timestamp: 1, extra: true })],
      ['not JSON', json('ok')],
      ['an empty body', json('')],
      ['a JSON array', json([{ requestId: ID, timestamp: 1 }])],
      ['another content type', { ...json({ requestId: ID, timestamp: 1 }), contentType: 'text/plain' }],
      ['no content type', { status: 200, body: Buffer.from(JSON.stringify({ requestId: ID, timestamp: 1 })) }],
      ['a content encoding', { ...json({ requestId: ID, timestamp: 1 }), contentEncoding: 'gzip' }],
    ];
    for (const [what, response] of invalid) {
      const outcome = judgeResponse(ID, response);
      assert.equal(outcome.ok, false, what);
      if (outcome.ok) continue;
      assert.equal(outcome.errorCode, 'HttpEndpoint.InvalidResponseFromDestination', what);
      assert.equal(outcome.permanent, false, what);
      assert.match(outcome.errorMessage, new RegExp(`^The response received from the specified endpoint is invalid\\..*Response for request ${ID} .*Raw response received: 200 `), what);
    }
  });

  it('fails every other status as a destination exception, 413 for good, 2xx and 3xx included', () => {
    for (const status of [201, 204, 301, 302, 400, 401, 403, 429, 500, 503]) {
      const outcome = judgeResponse(ID, json({ requestId: ID, timestamp: 1, errorMessage: 'no' }, status));
      assert.ok(!outcome.ok && outcome.errorCode === 'HttpEndpoint.DestinationException' && !outcome.permanent, String(status));
      assert.match(outcome.errorMessage, new RegExp(`^Received the following response from the endpoint destination\\. ${status}: \\{"requestId"`));
    }
    const tooLarge = judgeResponse(ID, json({ requestId: ID, timestamp: 1 }, 413));
    assert.ok(!tooLarge.ok && tooLarge.permanent);
  });

  it('quotes at most 1024 characters of a response body', () => {
    const outcome = judgeResponse(ID, json('x'.repeat(5000), 500));
    assert.ok(!outcome.ok);
    assert.ok(outcome.errorMessage.length < 1100, `${outcome.errorMessage.length}`);
    assert.ok(outcome.errorMessage.endsWith('x…'));
  });
});

describe('HTTP endpoint requests', () => {
  it('names the same records with the same UUID, and other records with another', () => {
    const a = requestIdOf([record(1), record(2)]);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(requestIdOf([record(1), record(2)]), a);
    assert.notEqual(requestIdOf([record(1), record(2), record(3)]), a);
    assert.notEqual(requestIdOf([record(2), record(1)]), a);
  });

  it('writes the body as requestId, timestamp and base64 records, empty data included', () => {
    const body = JSON.parse(requestBody(ID, 1_700_000_000_123, [record(1, 'hello'), record(2, ''), { ...record(3), data: Buffer.from([0, 255, 10]) }]).toString());
    assert.deepEqual(body, { requestId: ID, timestamp: 1_700_000_000_123, records: [{ data: 'aGVsbG8=' }, { data: '' }, { data: 'AP8K' }] });
  });

  it('writes common attributes as {"commonAttributes":{…}}, ASCII only', () => {
    const header = commonAttributesHeader([
      { AttributeName: 'env', AttributeValue: 'pre-prod' },
      { AttributeName: 'empty', AttributeValue: '' },
      { AttributeName: 'city', AttributeValue: 'Zürich "eu"' },
    ]);
    assert.match(header, /^[\x20-\x7e]*$/);
    assert.deepEqual(JSON.parse(header), { commonAttributes: { env: 'pre-prod', empty: '', city: 'Zürich "eu"' } });
    assert.deepEqual(JSON.parse(commonAttributesHeader([])), { commonAttributes: {} });
  });

  it('writes a failed record as AWS writes http-endpoint-failed records', () => {
    const failed: FailedRecord = { record: record(7, 'sample raw data'), errorCode: 'HttpEndpoint.DestinationException', errorMessage: 'm', errorOutputType: 'http-endpoint-failed', attemptsMade: 5 };
    const line = httpEndpointErrorLine(failed, 1_700_000_009_000);
    assert.deepEqual(Object.keys(JSON.parse(line)), ['attemptsMade', 'arrivalTimestamp', 'errorCode', 'errorMessage', 'attemptEndingTimestamp', 'rawData', 'subsequenceNumber', 'dataId']);
    assert.deepEqual(JSON.parse(line), {
      attemptsMade: 5,
      arrivalTimestamp: 1_700_000_000_007,
      errorCode: 'HttpEndpoint.DestinationException',
      errorMessage: 'm',
      attemptEndingTimestamp: 1_700_000_009_000,
      rawData: Buffer.from('sample raw data').toString('base64'),
      subsequenceNumber: 0,
      dataId: 'id-7.0',
    });
    const fromKinesis = JSON.parse(
      httpEndpointErrorLine({ ...failed, record: { ...failed.record, kinesis: { shardId: 's', partitionKey: 'p', sequenceNumber: '4960', subsequenceNumber: 2, approximateArrivalTimestamp: 1 } } }, 1),
    );
    assert.equal(fromKinesis.dataId, '4960.2');
    assert.equal(fromKinesis.subsequenceNumber, 2);
  });
});

/** A local endpoint whose answer to each request `answer` decides. */
async function endpoint(
  answer: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void,
  tls?: { cert: Buffer; key: Buffer },
): Promise<{ url: string; requests: { headers: http.IncomingHttpHeaders; body: Buffer }[]; close(): Promise<void> }> {
  const requests: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ headers: req.headers, body });
      answer(req, body, res);
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/ingest?key=1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function accept(body: Buffer, res: http.ServerResponse): void {
  const { requestId } = JSON.parse(body.toString()) as { requestId: string };
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ requestId, timestamp: Date.now() }));
}

function acceptGzip(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
  const { requestId } = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString()) as { requestId: string };
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ requestId, timestamp: Date.now() }));
}

function destination(url: string, extra: Partial<ConstructorParameters<typeof HttpEndpointDestination>[0]> = {}) {
  const backup = keepingBackup();
  const d = new HttpEndpointDestination({ url, sourceArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/t', gzip: false, retryForMs: 0, backup, backupAll: false, ...extra });
  return { d, backup };
}

async function failure(promise: Promise<unknown>): Promise<HttpEndpointError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof HttpEndpointError, String(err));
    return err;
  }
  throw new Error('expected the delivery to fail');
}

describe('the HTTP endpoint destination', () => {
  const dir = tempDir('tributary-http-dest-');
  let cert: Buffer;
  let key: Buffer;
  before(() => {
    const files = ensureSelfSigned(dir);
    cert = readFileSync(files.certFile);
    key = readFileSync(files.keyFile);
  });
  after(() => removeDir(dir));

  it('sends a buffer of more than 10,000 records as requests of at most 10,000, in order, and does not resend those answered', async () => {
    let calls = 0;
    const server = await endpoint((_req, body, res) => {
      calls++;
      if (calls === 2) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{}');
      else accept(body, res);
    });
    const { d } = destination(server.url);
    try {
      const records = Array.from({ length: 2 * MAX_REQUEST_RECORDS + 5 }, (_, i) => record(i));
      const batch = batchOf(records);
      const first = await failure(d.deliver(batch, 1));
      assert.equal(first.errorCode, 'HttpEndpoint.DestinationException');
      await d.deliver(batch, 2);
      const sizes = server.requests.map((r) => (JSON.parse(r.body.toString()) as { records: unknown[] }).records.length);
      assert.deepEqual(sizes, [MAX_REQUEST_RECORDS, MAX_REQUEST_RECORDS, MAX_REQUEST_RECORDS, 5], 'the first request is not sent again');
      assert.equal(server.requests[1]!.headers['x-amz-firehose-request-id'], server.requests[2]!.headers['x-amz-firehose-request-id'], 'the retry keeps its id');
      const seen = server.requests.filter((_, i) => i !== 1).flatMap((r) => (JSON.parse(r.body.toString()) as { records: { data: string }[] }).records.map((x) => Buffer.from(x.data, 'base64').toString()));
      assert.deepEqual(seen, records.map((r) => r.data.toString()));
    } finally {
      d.close();
      await server.close();
    }
  });

  it('gives up only the records of requests that were not answered', async () => {
    let calls = 0;
    const server = await endpoint((_req, body, res) => {
      calls++;
      if (calls === 1) accept(body, res);
      else res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"errorMessage":"busy"}');
    });
    const { d } = destination(server.url);
    try {
      const batch = batchOf(Array.from({ length: MAX_REQUEST_RECORDS + 3 }, (_, i) => record(i)));
      const err = await failure(d.deliver(batch, 1));
      const failed = d.failuresAfterRetries(batch, err, 4);
      assert.equal(failed.length, 3);
      assert.deepEqual(failed.map((f) => f.record.offset), [MAX_REQUEST_RECORDS, MAX_REQUEST_RECORDS + 1, MAX_REQUEST_RECORDS + 2]);
      assert.ok(failed.every((f) => f.errorCode === 'HttpEndpoint.DestinationException' && f.errorOutputType === 'http-endpoint-failed' && f.attemptsMade === 4));
      assert.match(failed[0]!.errorMessage, /503: \{"errorMessage":"busy"\}$/);
    } finally {
      d.close();
      await server.close();
    }
  });

  it('drops a batch the endpoint answers 413, without an error record', async () => {
    const server = await endpoint((_req, _body, res) => res.writeHead(413, { 'Content-Type': 'application/json' }).end('{}'));
    const { d, backup } = destination(server.url);
    try {
      assert.deepEqual(await d.deliver(batchOf([record(1)]), 1), { failed: [] });
      assert.equal(server.requests.length, 1);
      assert.deepEqual(backup.failures, []);
    } finally {
      d.close();
      await server.close();
    }
  });

  it('times a request out', async () => {
    const server = await endpoint(() => {});
    const { d } = destination(server.url, { requestTimeoutMs: 200 });
    try {
      const err = await failure(d.deliver(batchOf([record(1)]), 1));
      assert.equal(err.errorCode, 'HttpEndpoint.RequestTimeout');
    } finally {
      d.close();
      await server.close();
    }
  });

  it('refuses a response over 1 MiB', async () => {
    const server = await endpoint((_req, _body, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(`"${'x'.repeat(1024 * 1024 + 10)}"`));
    const { d } = destination(server.url);
    try {
      assert.equal((await failure(d.deliver(batchOf([record(1)]), 1))).errorCode, 'HttpEndpoint.ResponseTooLarge');
    } finally {
      d.close();
      await server.close();
    }
  });

  it('tells a refused connection from a reset one', async () => {
    const closed = await endpoint(() => {});
    const url = closed.url;
    await closed.close();
    const refused = destination(url);
    assert.equal((await failure(refused.d.deliver(batchOf([record(1)]), 1))).errorCode, 'HttpEndpoint.ConnectionFailed');
    refused.d.close();
    const server = await endpoint((req) => req.socket.destroy());
    const reset = destination(server.url);
    try {
      assert.equal((await failure(reset.d.deliver(batchOf([record(1)]), 1))).errorCode, 'HttpEndpoint.ConnectionReset');
    } finally {
      reset.d.close();
      await server.close();
    }
  });

  it('speaks HTTPS to an endpoint whose certificate it is told to trust, and fails the handshake otherwise', async () => {
    const server = await endpoint(acceptGzip, { cert, key });
    const untrusted = destination(server.url);
    const trusted = destination(server.url, { trustedCertificates: [cert.toString()], gzip: true, accessKey: 'k' });
    try {
      assert.equal((await failure(untrusted.d.deliver(batchOf([record(1)]), 1))).errorCode, 'HttpEndpoint.SSLHandshakeFailure');
      assert.deepEqual(await trusted.d.deliver(batchOf([record(1)]), 1), { failed: [] });
      const got = server.requests.at(-1)!;
      assert.equal(got.headers['content-encoding'], 'gzip');
      assert.equal(got.headers['x-amz-firehose-access-key'], 'k');
    } finally {
      untrusted.d.close();
      trusted.d.close();
      await server.close();
    }
  });

  it('backs up every delivered batch with AllData, once even when the backup is retried', async () => {
    const server = await endpoint((_req, body, res) => accept(body, res));
    let failBackup = true;
    const backup = keepingBackup();
    const flaky: BatchDestination = {
      ...backup,
      async deliver(batch, now) {
        if (failBackup) {
          failBackup = false;
          throw new Error('S3 is away');
        }
        return backup.deliver(batch, now);
      },
    };
    const { d } = destination(server.url, { backup: flaky, backupAll: true });
    try {
      const batch = batchOf([record(1), record(2)]);
      await assert.rejects(d.deliver(batch, 1), /S3 is away/);
      await d.deliver(batch, 2);
      assert.equal(server.requests.length, 1, 'the endpoint got the batch once');
      assert.equal(backup.batches.length, 1);
      assert.deepEqual(d.failuresAfterRetries(batch, new Error('x'), 1).length, 2, 'answered ids are forgotten once the batch is done');
    } finally {
      d.close();
      await server.close();
    }
  });

  it('aborts a request in flight on close', async () => {
    const server = await endpoint(() => {});
    const { d } = destination(server.url);
    try {
      const pending = failure(d.deliver(batchOf([record(1)]), 1));
      while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const started = Date.now();
      d.close();
      const err = await pending;
      assert.ok(Date.now() - started < 1000);
      assert.equal(err.errorCode, 'HttpEndpoint.ConnectionReset');
    } finally {
      await server.close();
    }
  });
});
