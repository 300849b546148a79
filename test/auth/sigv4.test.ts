import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCredentials } from '../../src/auth/credentials.js';
import { ExpiredTokenException, UnrecognizedClientException } from '../../src/auth/errors.js';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  parseQuery,
  sha256Hex,
  signatureOf,
  SigV4Verifier,
  stringToSign,
  type SigV4Request,
} from '../../src/auth/sigv4.js';
import { AwsError } from '../../src/protocol/errors.js';
import { signPost } from '../helpers/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Builds the canonical request of a test-suite request from its parts. */
function creq(method: string, url: string, headers: Record<string, string>, body = '') {
  const q = url.indexOf('?');
  const signed = Object.keys(headers).sort();
  return canonicalRequest(
    method,
    canonicalUri(q < 0 ? url : url.slice(0, q)),
    canonicalQuery(q < 0 ? [] : parseQuery(url.slice(q + 1))),
    canonicalHeaders(headers, signed),
    signed.join(';'),
    sha256Hex(body),
  );
}

describe('SigV4 against the published AWS examples', () => {
  it('IAM ListUsers example: canonical request, its hash, string to sign, signing key and signature', () => {
    const c = creq('GET', '/?Action=ListUsers&Version=2010-05-08', {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      host: 'iam.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
    });
    assert.equal(
      c,
      'GET\n/\nAction=ListUsers&Version=2010-05-08\n' +
        'content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n' +
        `content-type;host;x-amz-date\n${EMPTY}`,
    );
    assert.equal(sha256Hex(c), 'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59');
    const sts = stringToSign('20150830T123600Z', '20150830/us-east-1/iam/aws4_request', c);
    assert.equal(
      sts,
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n' +
        'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    const key = deriveSigningKey(SECRET, '20150830', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
    assert.equal(signatureOf(key, sts), '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });

  const suite: [string, string, string, string][] = [
    // name, method, url, signature (service "service", us-east-1, 20150830T123600Z, AKIDEXAMPLE)
    ['get-vanilla', 'GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['post-vanilla', 'POST', '/', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ['post-vanilla-query', 'POST', '/?Param1=value1', '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11'],
    [
      'get-vanilla-query-order-key-case',
      'GET',
      '/?Param2=value2&Param1=value1',
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
  ];
  for (const [name, method, url, signature] of suite) {
    it(`test suite ${name}`, () => {
      const c = creq(method, url, { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' });
      const sts = stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', c);
      assert.equal(signatureOf(deriveSigningKey(SECRET, '20150830', 'us-east-1', 'service'), sts), signature);
    });
  }

  it('get-vanilla canonical request and string to sign, verbatim', () => {
    const c = creq('GET', '/', { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' });
    assert.equal(c, `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY}`);
    assert.equal(
      stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', c),
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n' +
        'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
    );
  });

  it('canonical pieces: URI segments encoded, query sorted and strictly encoded, header values trimmed', () => {
    assert.equal(canonicalUri('/a/./b/../c//d e/'), '/a/c/d%20e/');
    assert.equal(canonicalUri('/%2Fx'), '/%252Fx');
    assert.equal(canonicalQuery(parseQuery('b=2&a=%20x&a=*&c')), 'a=%20x&a=%2A&b=2&c=');
    assert.equal(canonicalHeaders({ 'x-a': '  one   two  ', 'x-b': ['1', ' 2 '] }, ['x-a', 'x-b']), 'x-a:one two\nx-b:1,2\n');
    assert.equal(canonicalHeaders({ ':authority': 'h:1' }, ['host']), 'host:h:1\n');
  });
});

// ------------------------------------------------------------------------------------------------

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const HOST = '127.0.0.1:4567';
const TARGET = 'Kinesis_20131202.ListStreams';
const creds = parseCredentials(
  [
    { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret', principal: 'alice' },
    { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', principal: 'bob', sessionTokens: ['tok-1', { token: 'tok-old', expiresAt: NOW - 1 }] },
  ],
  '123456789012',
);
const verifier = new SigV4Verifier({ region: 'us-east-1', services: ['kinesis', 'dynamodb'], skewMs: 15 * 60_000, credentials: creds });

async function signed(body: Buffer, o: Partial<Parameters<typeof signPost>[3]> = {}): Promise<SigV4Request> {
  const parts = await signPost(HOST, TARGET, body, {
    accessKeyId: 'AKIDALICE',
    secretAccessKey: 'alice-secret',
    date: new Date(NOW),
    ...o,
  });
  return { method: 'POST', url: parts.path, headers: parts.headers, body };
}

function refusal(f: () => unknown): AwsError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof AwsError, String(err));
    return err;
  }
  assert.fail('accepted');
}

describe('SigV4Verifier', () => {
  it('accepts a request the SDK signed, by header and presigned', async () => {
    const body = Buffer.from('{"Limit":1}');
    assert.equal(verifier.verify(await signed(body), NOW).credential?.principalArn, 'arn:aws:iam::123456789012:user/alice');
    assert.equal(verifier.verify(await signed(body, { presignSeconds: 60 }), NOW + 59_000).accessKeyId, 'AKIDALICE');
    assert.equal(verifier.verify(await signed(body, { service: 'dynamodb' }), NOW).service, 'dynamodb');
  });

  it('refuses a wrong secret with the canonical request and string to sign in the message', async () => {
    const req = await signed(Buffer.from('{}'), { secretAccessKey: 'nope' });
    const e = refusal(() => verifier.verify(req, NOW));
    assert.equal(e.type, 'InvalidSignatureException');
    assert.match(e.message, /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'POST\n\/\n\n/);
    assert.match(e.message, /\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260101T120000Z\n20260101\/us-east-1\/kinesis\/aws4_request\n[0-9a-f]{64}'\n$/);
    assert.ok(!e.message.includes('alice-secret'));
  });

  it('refuses stale and future dates by the skew, with AWS wording', async () => {
    const req = await signed(Buffer.from('{}'));
    const late = refusal(() => verifier.verify(req, NOW + 16 * 60_000));
    assert.equal(late.type, 'InvalidSignatureException');
    assert.equal(late.message, 'Signature expired: 20260101T120000Z is now earlier than 20260101T120100Z (20260101T121600Z - 15 min.)');
    const early = refusal(() => verifier.verify(req, NOW - 16 * 60_000));
    assert.equal(early.message, 'Signature not yet current: 20260101T120000Z is still later than 20260101T115900Z (20260101T114400Z + 15 min.)');
    assert.doesNotThrow(() => verifier.verify(req, NOW + 14 * 60_000));
  });

  it('refuses a presigned request past X-Amz-Expires', async () => {
    const req = await signed(Buffer.from('{}'), { presignSeconds: 60 });
    const e = refusal(() => verifier.verify(req, NOW + 61_000));
    assert.equal(e.type, 'InvalidSignatureException');
    assert.equal(e.message, 'Signature expired: 20260101T120000Z is now earlier than 20260101T120001Z (20260101T120101Z - 1 min.)');
  });

  it('refuses an unknown key and wrong, missing or expired session tokens', async () => {
    const body = Buffer.from('{}');
    const unknown = refusal(() => verifier.verify(reqSync(body, 'AKIDNOBODY', 'x'), NOW));
    assert.equal(unknown.type, 'UnrecognizedClientException');
    assert.equal(unknown.message, 'The security token included in the request is invalid.');
    assert.ok(unknown instanceof UnrecognizedClientException);
    const t = (token?: string) => signed(body, { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: token });
    assert.equal(verifier.verify(await t('tok-1'), NOW).accessKeyId, 'ASIATEMP');
    const missing = await t(undefined);
    assert.equal(refusal(() => verifier.verify(missing, NOW)).type, 'UnrecognizedClientException');
    const wrong = await t('tok-x');
    assert.equal(refusal(() => verifier.verify(wrong, NOW)).type, 'UnrecognizedClientException');
    const old = refusal(() => verifier.verify(oldReq!, NOW));
    assert.ok(old instanceof ExpiredTokenException);
    assert.equal(old.message, 'The security token included in the request is expired');
  });

  it('refuses scopes of another region, service or day', async () => {
    const body = Buffer.from('{}');
    const region = refusal(() => verifier.verify(regionReq!, NOW));
    assert.equal(region.message, "Credential should be scoped to a valid region, not 'eu-west-1'. ");
    const service = refusal(() => verifier.verify(serviceReq!, NOW));
    assert.equal(service.message, "Credential should be scoped to correct service: 'kinesis'. ");
    const req = await signed(body);
    const auth = String(req.headers.authorization).replace('/20260101/', '/20260102/');
    const day = refusal(() => verifier.verify({ ...req, headers: { ...req.headers, authorization: auth } }, NOW));
    assert.equal(
      day.message,
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260102' != '20260101', from '20260101T120000Z'.",
    );
  });
});

// Requests signed ahead of the synchronous tests above.
let oldReq: SigV4Request | undefined;
let regionReq: SigV4Request | undefined;
let serviceReq: SigV4Request | undefined;
const presigned = new Map<string, SigV4Request>();
function reqSync(body: Buffer, accessKeyId: string, secret: string): SigV4Request {
  const r = presigned.get(`${accessKeyId}:${secret}`);
  if (r) return r;
  throw new Error('not prepared');
}
await (async () => {
  const body = Buffer.from('{}');
  oldReq = await signed(body, { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'tok-old' });
  regionReq = await signed(body, { region: 'eu-west-1' });
  serviceReq = await signed(body, { service: 's3' });
  presigned.set('AKIDNOBODY:x', await signed(body, { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' }));
})();

describe('SigV4Verifier properties', () => {
  const headerValue = fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.replace(/[^\x21-\x7e]/g, 'x'));
  const request = fc.record({
    body: fc.uint8Array({ minLength: 0, maxLength: 200 }).map((a) => Buffer.from(a)),
    extra: headerValue,
    presign: fc.boolean(),
  });

  it('accepts exactly what was signed', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ body, extra, presign }) => {
        const parts = await signPost(HOST, TARGET, body, {
          accessKeyId: 'AKIDALICE',
          secretAccessKey: 'alice-secret',
          date: new Date(NOW),
          presignSeconds: presign ? 300 : undefined,
        }, { 'x-extra': extra });
        const req: SigV4Request = { method: 'POST', url: parts.path, headers: parts.headers, body };
        assert.equal(verifier.verify(req, NOW).accessKeyId, 'AKIDALICE');
      }),
      { numRuns: 100 },
    );
  });

  it('refuses any single-byte change to the body, a signed header, the query or the signature', async () => {
    await fc.assert(
      fc.asyncProperty(
        request,
        fc.constantFrom('body', 'header', 'target', 'signature'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async ({ body, extra, presign }, where, at, delta) => {
          if (where === 'body' && body.length === 0) return;
          const parts = await signPost(HOST, TARGET, body, {
            accessKeyId: 'AKIDALICE',
            secretAccessKey: 'alice-secret',
            date: new Date(NOW),
            presignSeconds: presign ? 300 : undefined,
          }, { 'x-extra': extra });
          const headers: Record<string, string> = { ...parts.headers };
          let url = parts.path;
          let b = body;
          const flip = (s: string, printable: boolean) => {
            const i = at % s.length;
            let c = (s.charCodeAt(i) + delta) % 256;
            if (printable) c = 0x21 + ((s.charCodeAt(i) - 0x21 + (delta % 93 || 1)) % 94);
            return s.slice(0, i) + String.fromCharCode(c) + s.slice(i + 1);
          };
          if (where === 'body') {
            b = Buffer.from(body);
            b[at % b.length] = (b[at % b.length]! + delta) % 256;
          } else if (where === 'header') {
            headers['x-extra'] = flip(extra, true);
          } else if (where === 'target') {
            headers['x-amz-target'] = flip(TARGET, true);
          } else if (presign) {
            url = url.replace(/X-Amz-Signature=([0-9a-f]+)/, (_m, sig: string) => `X-Amz-Signature=${flipHex(sig, at, delta)}`);
          } else {
            headers.authorization = headers.authorization!.replace(/Signature=([0-9a-f]+)/, (_m, sig: string) => `Signature=${flipHex(sig, at, delta)}`);
          }
          const e = refusal(() => verifier.verify({ method: 'POST', url, headers, body: b }, NOW));
          assert.equal(e.type, 'InvalidSignatureException');
        },
      ),
      { numRuns: 200 },
    );
  });
});

function flipHex(sig: string, at: number, delta: number): string {
  const i = at % sig.length;
  const digits = '0123456789abcdef';
  const next = digits[(digits.indexOf(sig[i]!) + (delta % 15) + 1) % 16]!;
  return sig.slice(0, i) + next + sig.slice(i + 1);
}
