import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Decoder, Encoder, Tag } from 'cbor-x';
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
