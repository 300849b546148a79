import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Decoder, Encoder, Tag } from 'cbor-x';
import pino from 'pino';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { h2c, http1 } from '../helpers/raw.js';

const json = (r: { body: Buffer }) => JSON.parse(r.body.toString());
const cborEncoder = new Encoder({ useRecords: false, tagUint8Array: false });
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

describe('wire protocol', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.destroy());

  it('serves HTTP/1.1 and HTTP/2 (h2c) on the same port', async () => {
    const a = await http1(server.endpoint, 'Kinesis_20131202.CreateStream', JSON.stringify({ StreamName: 'wire', ShardCount: 1 }));
    assert.equal(a.status, 200);
    assert.equal(a.body.length, 0, 'operations without output answer with an empty body');
    assert.ok(a.headers['x-amzn-requestid']);
    const b = await h2c(server.endpoint, 'Kinesis_20131202.DescribeStreamSummary', JSON.stringify({ StreamName: 'wire' }));
    assert.equal(b.status, 200);
    assert.equal(b.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(json(b).StreamDescriptionSummary.StreamName, 'wire');
    assert.equal(typeof json(b).StreamDescriptionSummary.StreamCreationTimestamp, 'number', 'JSON timestamps are epoch seconds');
  });

  it('refuses unsigned requests, unknown operations and malformed bodies as AWS does', async () => {
    const unsigned = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
      body: '{}',
    });
    assert.equal(unsigned.status, 400);
    assert.deepEqual(await unsigned.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });

    const incomplete = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}', { authorization: 'AWS4-HMAC-SHA256 Credential=x', 'x-amz-date': '' });
    assert.equal(incomplete.status, 400);
    assert.equal(json(incomplete).__type, 'IncompleteSignatureException');
    assert.match(json(incomplete).message, /requires 'Signature' parameter/);

    const unknown = await http1(server.endpoint, 'Kinesis_20131202.Frobnicate', '{}');
    assert.equal(unknown.status, 400);
    assert.equal(json(unknown).__type, 'UnknownOperationException');

    const bad = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{not json');
    assert.equal(bad.status, 400);
    assert.equal(json(bad).__type, 'SerializationException');

    const empty = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '');
    assert.equal(empty.status, 400);
    assert.equal(json(empty).__type, 'SerializationException');

    const wrongType = await http1(server.endpoint, 'Kinesis_20131202.CreateStream', JSON.stringify({ StreamName: 'x', ShardCount: 'one' }));
    assert.equal(wrongType.status, 400);
    assert.equal(json(wrongType).__type, 'SerializationException');

    const invalid = await http1(server.endpoint, 'Kinesis_20131202.CreateStream', JSON.stringify({ ShardCount: 1 }));
    assert.equal(invalid.status, 400);
    assert.deepEqual(json(invalid), {
      __type: 'ValidationException',
      message: "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null",
    });
  });

  it('refuses bodies over the size limit with 413 and keeps serving', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 0x20);
    const r = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', big);
    assert.equal(r.status, 413);
    assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
    assert.deepEqual(json(r), { __type: 'RequestEntityTooLargeException', message: 'The request body is larger than the 16777216 bytes this server accepts.' }); // the default --max-body-bytes
    const ok = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}');
    assert.equal(ok.status, 200);
  });

  it('refuses a body declared over the size limit at once, before any of it arrives', async () => {
    const { port } = new URL(server.endpoint);
    const socket = net.connect({ port: Number(port), host: '127.0.0.1' });
    const answer = new Promise<string>((resolve, reject) => {
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*\}/.test(got)) resolve(got);
      });
      socket.on('error', reject);
    });
    socket.write(
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n' +
        `Content-Length: ${20 * 1024 * 1024}\r\n\r\n`,
    );
    // No body is sent: the answer comes without it (the request timeout is two minutes).
    const text = await answer;
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /"__type":"RequestEntityTooLargeException"/);
  });

  it('speaks CBOR: byte-string blobs and tag-1 millisecond timestamps, both ways', async () => {
    const call = async (op: string, input: object) => {
      const r = await http1(server.endpoint, `Kinesis_20131202.${op}`, cborEncoder.encode(input), {}, 'application/x-amz-cbor-1.1');
      return { status: r.status, type: r.headers['content-type'], body: r.body.length ? cborDecoder.decode(r.body) : undefined, raw: r.body };
    };
    assert.equal((await call('CreateStream', { StreamName: 'cbor', ShardCount: 1 })).status, 200);
    const before = Date.now();
    const payload = Buffer.from([0, 1, 2, 250, 255]);
    const put = await call('PutRecord', { StreamName: 'cbor', PartitionKey: 'pk', Data: payload });
    assert.equal(put.status, 200);
    assert.equal(put.type, 'application/x-amz-cbor-1.1');
    assert.equal(put.body.ShardId, 'shardId-000000000000');

    const it1 = await call('GetShardIterator', {
      StreamName: 'cbor',
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Tag(before - 1000, 1),
    });
    assert.equal(it1.status, 200, JSON.stringify(it1.body));
    const got = await call('GetRecords', { ShardIterator: it1.body.ShardIterator });
    assert.equal(got.status, 200);
    // Find the raw tag-1 value: 0xc1 followed by an integer of epoch milliseconds.
    const at = got.raw.indexOf(Buffer.from('ApproximateArrivalTimestamp'));
    assert.ok(at > 0);
    assert.equal(got.raw[at + 'ApproximateArrivalTimestamp'.length], 0xc1, 'timestamps are CBOR tag 1');
    const rec = got.body.Records[0];
    assert.deepEqual(Buffer.from(rec.Data), payload);
    assert.equal(rec.PartitionKey, 'pk');
    const ts = rec.ApproximateArrivalTimestamp instanceof Date ? rec.ApproximateArrivalTimestamp.getTime() / 1000 : rec.ApproximateArrivalTimestamp;
    // cbor-x reads tag 1 as seconds; the value on the wire is milliseconds.
    assert.ok(Math.abs(ts - Date.now()) < 60_000, `arrival timestamp ${ts} is epoch milliseconds`);

    const err = await call('DescribeStream', { StreamName: 'missing' });
    assert.equal(err.status, 400);
    assert.equal(err.type, 'application/x-amz-cbor-1.1');
    assert.equal(err.body.__type, 'ResourceNotFoundException');
  });
});

/** Sends `data` on a fresh connection and resolves with everything the server wrote once it closes. */
function rawExchange(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

/** An HTTP/1.1 response as text: its status, headers (lower-cased names) and body. */
function parseReply(reply: string): { status: number; headers: Record<string, string>; body: string } {
  const end = reply.indexOf('\r\n\r\n');
  assert.ok(end > 0, `a whole response head in ${JSON.stringify(reply)}`);
  const [statusLine, ...lines] = reply.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const colon = l.indexOf(':');
    headers[l.slice(0, colon).toLowerCase()] = l.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)![1]), headers, body: reply.slice(end + 4) };
}

describe('requests the HTTP layer refuses itself', () => {
  let server: TestServer;
  const events: { level: number; msg: string; [k: string]: unknown }[] = [];
  before(async () => {
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n')) if (line) events.push(JSON.parse(line));
          done();
        },
      }),
    );
    server = await startTestServer({ maxHeaderBytes: 4096, requestTimeoutMs: 500, headersTimeoutMs: 500 }, { logger });
  });
  after(() => server.destroy());

  function assertAwsError(reply: string, status: number, type: string, message: RegExp): void {
    const r = parseReply(reply);
    assert.equal(r.status, status);
    assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(r.headers['x-amzn-errortype'], type);
    assert.match(r.headers['x-amzn-requestid'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.connection, 'close');
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
    const body = JSON.parse(r.body) as { __type: string; message: string };
    assert.deepEqual(Object.keys(body), ['__type', 'message']);
    assert.equal(body.__type, type);
    assert.match(body.message, message);
  }

  it('answers a malformed request line with 400 in the AWS JSON error shape, and closes', async () => {
    assertAwsError(await rawExchange(server.port, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'BadRequestException', /not well-formed HTTP\/1\.1/);
    assertAwsError(await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'), 400, 'BadRequestException', /not well-formed/);
  });

  it('answers headers over --max-header-bytes with 431', async () => {
    const head = 'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n' + `X-Padding: ${'a'.repeat(8_000)}\r\n\r\n`;
    assertAwsError(await rawExchange(server.port, head), 431, 'RequestHeaderFieldsTooLargeException', /larger than the 4096 bytes/);
  });

  it('answers a request whose body does not arrive within --request-timeout-ms with 408', async () => {
    const head =
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n' +
      'Content-Length: 100\r\n\r\n{';
    assertAwsError(await rawExchange(server.port, head), 408, 'RequestTimeoutException', /not received within 500 ms/);
  });

  it('notes clients that go away mid-request at debug level only', async () => {
    const before = events.length;
    for (const data of [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 100\r\n\r\n{"',
      'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Ta',
    ]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1', () => socket.write(data, () => setImmediate(() => socket.resetAndDestroy())));
        socket.on('close', () => resolve());
        socket.on('error', () => {});
      });
    }
    // Both are noted once the server has seen the resets.
    for (let i = 0; i < 500 && events.slice(before).filter((e) => e.clientGone !== undefined || e.msg === 'client connection closed').length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seen = events.slice(before);
    assert.ok(seen.some((e) => e.clientGone !== undefined && e.level === 20), `the aborted request at debug: ${JSON.stringify(seen)}`);
    assert.ok(seen.some((e) => e.msg === 'client connection closed' && e.level === 20), `the dropped connection at debug: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen.filter((e) => e.level > 20), [], 'nothing above debug');
  });
});
