/**
 * Requests the server cannot take are refused in AWS's order and in AWS's encoding. The expected
 * answers are AWS's, as recorded in the kinesalite test suite (test/connection.js and its
 * server's request handling): the method is checked first; an empty body is answered in JSON only
 * for the JSON content type and in CBOR otherwise (even with no Content-Type at all); a body that
 * does not parse gets SerializationException before any question of signatures; plain
 * `application/json` gets the Coral envelope with HTTP 200; an unknown or missing X-Amz-Target
 * gets 400 UnknownOperationException in the request's encoding.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Decoder } from 'cbor-x';
import { http1 } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const cbor = new Decoder({ useRecords: false, mapsAsObjects: true } as ConstructorParameters<typeof Decoder>[0]);
const json = (r: { body: Buffer }) => JSON.parse(r.body.toString()) as Record<string, unknown>;

/** A POST with exactly these headers (no signature unless given). */
async function post(endpoint: string, headers: Record<string, string>, body: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const res = await fetch(endpoint, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

describe('protocol errors', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.destroy());

  it('answers a body that does not parse with SerializationException before any signature check', async () => {
    const unsigned = await post(server.endpoint, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{not json');
    assert.equal(unsigned.status, 400);
    assert.deepEqual(json(unsigned), { __type: 'SerializationException' });
    const badSignature = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '[1,', { authorization: 'AWS4-HMAC-SHA256 Credential=x' });
    assert.equal(badSignature.status, 400);
    assert.deepEqual(json(badSignature), { __type: 'SerializationException' });
    // A body that parses is then asked for its signature.
    const parses = await post(server.endpoint, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{}');
    assert.equal(json(parses).__type, 'MissingAuthenticationTokenException');
  });

  it('answers an unknown or missing X-Amz-Target with 400 UnknownOperationException in the request’s encoding', async () => {
    for (const target of [undefined, 'Kinesis_20131202.Frobnicate', 'Nothing_20990101.ListStreams', 'ListStreams']) {
      const r = await http1(server.endpoint, target, '{}');
      assert.equal(r.status, 400, String(target));
      assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
      assert.deepEqual(json(r), { __type: 'UnknownOperationException' }, String(target));
    }
    const inCbor = await http1(server.endpoint, 'Kinesis_20131202.Frobnicate', Buffer.from([0xa0]), {}, 'application/x-amz-cbor-1.1');
    assert.equal(inCbor.status, 400);
    assert.equal(inCbor.headers['content-type'], 'application/x-amz-cbor-1.1');
    assert.deepEqual(cbor.decode(inCbor.body), { __type: 'UnknownOperationException' });
  });

  it('answers an empty body in CBOR unless the content type is JSON, even with no Content-Type', async () => {
    const none = await post(server.endpoint, { 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '');
    assert.equal(none.status, 400);
    assert.equal(none.type, 'application/x-amz-cbor-1.1');
    assert.deepEqual(cbor.decode(none.body), { __type: 'SerializationException' });
    const nothingNamed = await post(server.endpoint, {}, '');
    assert.equal(nothingNamed.status, 400, 'a request that names no service gets a 400, not an XML 403');
    assert.deepEqual(cbor.decode(nothingNamed.body), { __type: 'UnknownOperationException' });
    const inJson = await post(server.endpoint, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '');
    assert.equal(inJson.type, 'application/x-amz-json-1.1');
    assert.deepEqual(json(inJson), { __type: 'SerializationException' });
  });

  it('answers plain application/json in the Coral envelope, with HTTP 200', async () => {
    const parsed = await post(server.endpoint, { 'content-type': 'application/json', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{}');
    assert.equal(parsed.status, 200);
    assert.deepEqual(json(parsed), { Output: { __type: 'com.amazon.coral.service#UnknownOperationException', message: null }, Version: '1.0' });
    const unparsed = await post(server.endpoint, { 'content-type': 'application/json', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{');
    assert.equal(unparsed.status, 200);
    assert.deepEqual(json(unparsed), { Output: { __type: 'com.amazon.coral.service#SerializationException', Message: null }, Version: '1.0' });
  });

  it('refuses a signature scoped to another service than the one called', async () => {
    const scoped = (service: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd`,
    });
    const kinesisAsDynamo = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}', scoped('dynamodb'));
    assert.equal(kinesisAsDynamo.status, 400);
    // The message of AWS's JSON services, as recorded for DynamoDB in the dynalite suite.
    assert.deepEqual(json(kinesisAsDynamo), {
      __type: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'kinesis'. ",
    });
    const dynamoAsKinesis = await http1(server.endpoint, 'DynamoDB_20120810.ListTables', '{}', scoped('kinesis'), 'application/x-amz-json-1.0');
    assert.equal(dynamoAsKinesis.status, 400);
    assert.match(String(json(dynamoAsKinesis).message), /Credential should be scoped to correct service: 'dynamodb'/);
    const right = await http1(server.endpoint, 'Kinesis_20131202.ListStreams', '{}', scoped('kinesis'));
    assert.equal(right.status, 200);
  });

  it('keeps AWS’s XML answers for a content type it does not speak and for other methods', async () => {
    const noTarget = await post(server.endpoint, { 'content-type': 'text/plain' }, '{}');
    assert.equal(noTarget.status, 403);
    assert.match(noTarget.body.toString(), /<AccessDeniedException>\n {2}<Message>Unable to determine service\/operation name to be authorized<\/Message>/);
    const withTarget = await post(server.endpoint, { 'content-type': 'text/plain', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{}');
    assert.equal(withTarget.status, 404);
    assert.equal(withTarget.body.toString(), '<UnknownOperationException/>\n');
    const get = await fetch(`${server.endpoint}/`, { method: 'PUT', body: '{}' });
    assert.equal(get.status, 403);
    const signedGet = await fetch(`${server.endpoint}/`, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=x', 'x-amz-date': '20260101T000000Z' } });
    assert.equal(signedGet.status, 403, 'a signed GET is an AWS client and gets AWS’s answer');
    assert.match(await signedGet.text(), /<AccessDeniedException>/);
  });

  it('shows a person who opens / in a browser what the server is, and no stream names', async () => {
    await http1(server.endpoint, 'Kinesis_20131202.CreateStream', JSON.stringify({ StreamName: 'secret-landing-stream', ShardCount: 1 }));
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const plain = await fetch(`${server.endpoint}/`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-type'), 'application/json');
    const page = (await plain.json()) as Record<string, unknown>;
    assert.equal(page.service, 'Tributary');
    assert.equal(page.version, version);
    assert.equal(page.health, '/health');
    assert.ok(Array.isArray(page.apis) && page.apis.some((a) => String(a).includes('Kinesis_20131202')));
    const html = await fetch(`${server.endpoint}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    const text = await html.text();
    assert.match(text, /<h1>Tributary<\/h1>/);
    assert.ok(text.includes(version));
    assert.ok(!text.includes('secret-landing-stream') && !JSON.stringify(page).includes('secret-landing-stream'));
    const head = await fetch(`${server.endpoint}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });
});
