import fc from 'fast-check';
import { kinesisShapes } from '../../../src/kinesis/shapes.js';
import { formatOf, isPlainJson, parseBody } from '../../../src/protocol/index.js';
import { CHANGES_STATE, operationCase, OPERATIONS, type Targets } from './requests.js';
import { judge, SIGNED_HEADERS, type RawRequest } from './wire.js';

/**
 * Requests broken around the body rather than in it: content types, X-Amz-Target values, the
 * Authorization header, methods, paths, repeated and oversized headers. Each comes with what
 * AWS answers, worked out from the headers as Node hands them to the server (a repeated
 * Content-Type or Authorization keeps its first value; other repeated headers are joined with
 * ", ").
 */

export interface Expected {
  status: number;
  /** The error type; undefined where only the status is certain. */
  type?: string;
  /** Any of these error types (where the signature check and the body could each refuse first). */
  types?: readonly string[];
  /** An AWS error body that is not JSON or CBOR (the XML answers). */
  xml?: boolean;
  /** The request is valid: any 200 or AWS 4xx goes. */
  anyAnswer?: boolean;
  message?: string;
}

export interface EdgeCase {
  request: RawRequest;
  expected: Expected;
  how: string;
}

const CONTENT_TYPES: readonly (string | undefined)[] = [
  'application/x-amz-json-1.1',
  'application/x-amz-cbor-1.1',
  'application/x-amz-json-1.0',
  'application/json',
  'application/json; charset=utf-8',
  ' APPLICATION/X-AMZ-JSON-1.1 ',
  'application/x-amz-json-1.1;;;x=y',
  'application/x-amz-json-1.2',
  'application/cbor',
  'text/plain',
  'application/xml',
  '',
  ';',
  undefined,
];

const BAD_TARGETS: readonly (string | undefined)[] = [
  undefined,
  '',
  '.',
  'Kinesis_20131202',
  'Kinesis_20131202.',
  '.ListStreams',
  'Kinesis_20131202.listStreams',
  'kinesis_20131202.ListStreams',
  'Kinesis_20131202.ListStreams.Extra',
  'Kinesis_20131202.ListStreams ',
  'Kinesis_20131201.ListStreams',
  'Kinesis_20131202.__proto__',
  'Kinesis_20131202.constructor',
  'Kinesis_20131202.toString',
  'Kinesis_20131202.hasOwnProperty',
  '__proto__.ListStreams',
  'Firehose_20150804.Nope',
  'Firehose_20150804.',
  'DynamoDB_20120810.Nope',
  'DynamoDB_20120810.',
  'Kinesis_20131202.Nope',
  'Kinesis_20131202.' + 'A'.repeat(5000),
  'Kinesis_20131202.Li\u00e9stStreams',
];

const BAD_AUTH: readonly string[] = [
  'garbage',
  'AWS4-HMAC-SHA256',
  'AWS4-HMAC-SHA256 ',
  'AWS4-HMAC-SHA256 Credential=',
  'AWS4-HMAC-SHA256 Credential=a, SignedHeaders=, Signature=c',
  'AWS4-HMAC-SHA256 Credential=a,,,,',
  'Bearer abc',
  '=====',
  'AWS4-HMAC-SHA256 Credential=a SignedHeaders=b Signature',
];

const SIGNED_AUTH = SIGNED_HEADERS[0]![1];

/** Authorization headers with every part the router asks for; the signature check may still refuse some. */
const GOOD_AUTH: readonly string[] = [
  SIGNED_AUTH,
  SIGNED_AUTH,
  'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=' + 'f'.repeat(8000),
  'AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=ab',
  'AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/kinesis/nope, SignedHeaders=B, Signature=C, Extra=D',
  'AWS4-HMAC-SHA512 Credential=A/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=B, Signature=C',
];

const SIGNATURE_ERRORS = ['IncompleteSignatureException', 'InvalidSignatureException'];

/**
 * Answers AWS gives before it converts the body by its shape, in AWS's recorded order (the
 * kinesalite suite's captures): the method, an empty body, a content type it does not speak, a
 * body that does not parse, plain application/json, an unknown operation, then the signature.
 */
function headerVerdict(
  method: string,
  contentType: string | undefined,
  target: string | undefined,
  auth: string | undefined,
  date: string,
  presigned: boolean,
  body: Buffer,
): Expected | { format: 'json' | 'cbor'; operation: string; signatureSure: boolean } {
  const hasDate = date !== 'none';
  const format = formatOf(contentType);
  const t = target ?? '';
  const dot = t.indexOf('.');
  const operation = dot > 0 && t.slice(0, dot) === 'Kinesis_20131202' ? t.slice(dot + 1) : undefined;
  const known = operation !== undefined && kinesisShapes.has(operation);
  if (method !== 'POST') return { status: 403, xml: true, type: 'AccessDeniedException' };
  if (body.length === 0) return { status: 400, type: known ? 'SerializationException' : 'UnknownOperationException' };
  if (!format && dot < 0) return { status: 403, xml: true, type: 'AccessDeniedException' };
  if (!format) return { status: 404, xml: true, type: 'UnknownOperationException' };
  let parses = true;
  try {
    parseBody(body, format);
  } catch {
    parses = false;
  }
  // Plain application/json gets the Coral envelope with HTTP 200, whatever it asked for.
  if (isPlainJson(contentType)) return { status: 200, anyAnswer: true };
  if (!parses) return { status: 400, type: 'SerializationException' };
  if (!known) return { status: 400, type: 'UnknownOperationException' };
  if (auth !== undefined && presigned) return { status: 400, type: 'InvalidSignatureException' };
  if (auth === undefined && !presigned) return { status: 400, type: 'MissingAuthenticationTokenException' };
  if (auth === undefined) return { status: 400, type: 'IncompleteSignatureException' };
  {
    const params = new Map<string, string>();
    for (const part of auth.split(/[, ]/).slice(1)) {
      const eq = part.indexOf('=');
      if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
    if (!params.get('Credential') || !params.get('Signature') || !params.get('SignedHeaders') || !hasDate) {
      return { status: 400, type: 'IncompleteSignatureException' };
    }
  }
  return { format, operation: operation!, signatureSure: auth === SIGNED_AUTH && date === 'x-amz-date' };
}

const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/).filter((n) => !/^(content-length|transfer-encoding|host|connection|expect|upgrade|te|trailer|keep-alive|content-type|x-amz-target|authorization|x-amz-date|date|origin)$/i.test(n));
const headerValue = fc.string({ maxLength: 40, unit: fc.constantFrom(...'abcXYZ019 -_=/+;:,."()\t\u00e9') }).map((s) => s.trim());

/** Generated edge cases; bodies come from the operation generators (made harmless as there). */
export function edgeCase(targets: Targets, maxDepth: number): fc.Arbitrary<EdgeCase> {
  const opCases = fc.oneof(...OPERATIONS.map((op) => operationCase(op, targets, maxDepth)));
  return fc
    .record({
      c: opCases,
      method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path: fc.constantFrom('/', '/', '/', '/?x=1', '/foo/bar', '//', '/%ff%fe', '/?X-Amz-Algorithm=AWS4-HMAC-SHA256', '/?' + 'q'.repeat(3000)),
      contentType: fc.oneof({ weight: 2, arbitrary: fc.constant('same' as const) }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
      secondContentType: fc.option(fc.constantFrom('application/x-amz-cbor-1.1', 'text/plain', 'application/x-amz-json-1.1'), { freq: 8 }),
      target: fc.oneof({ weight: 2, arbitrary: fc.constant('same' as const) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_TARGETS) }),
      targetTwice: fc.boolean(),
      auth: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...GOOD_AUTH) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_AUTH) }, { weight: 1, arbitrary: fc.constant(undefined) }),
      authTwice: fc.boolean(),
      date: fc.constantFrom<'x-amz-date' | 'date' | 'none' | 'both'>('x-amz-date', 'x-amz-date', 'date', 'none', 'both'),
      extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
      huge: fc.option(fc.integer({ min: 1000, max: 30_000 }), { freq: 6 }),
      many: fc.option(fc.integer({ min: 50, max: 300 }), { freq: 10 }),
      chunked: fc.boolean(),
    })
    .map((g) => {
      const c = g.c;
      const caseType = c.format === 'json' ? 'application/x-amz-json-1.1' : 'application/x-amz-cbor-1.1';
      const contentType = g.contentType === 'same' ? caseType : g.contentType;
      const target = g.target === 'same' ? `Kinesis_20131202.${c.operation}` : g.target;
      const headers: Array<[string, string]> = [];
      if (contentType !== undefined) headers.push(['Content-Type', contentType]);
      if (g.secondContentType !== null) headers.push(['Content-Type', g.secondContentType]);
      if (target !== undefined) headers.push(['X-Amz-Target', target]);
      if (target !== undefined && g.targetTwice) headers.push(['X-Amz-Target', target]);
      if (g.auth !== undefined) headers.push(['Authorization', g.auth]);
      if (g.auth !== undefined && g.authTwice) headers.push(['Authorization', 'garbage']);
      if (g.date === 'x-amz-date' || g.date === 'both') headers.push(['X-Amz-Date', '20260101T000000Z']);
      if (g.date === 'date' || g.date === 'both') headers.push(['Date', 'Thu, 01 Jan 2026 00:00:00 GMT']);
      for (const [k, v] of g.extra) headers.push([k, v]);
      if (g.huge !== null) headers.push(['X-Fuzz-Huge', 'h'.repeat(g.huge)]);
      if (g.many !== null) for (let i = 0; i < g.many; i++) headers.push([`X-Fuzz-${i}`, String(i)]);
      let body = c.body;
      if (g.chunked) headers.push(['Transfer-Encoding', 'chunked']);
      const wireBody = g.chunked ? chunk(body) : body;

      // What the server sees: Node keeps the first Content-Type and Authorization, joins the rest.
      // HTTP strips the white space around a header value.
      const t = target?.trim();
      const seenTarget = t !== undefined && g.targetTwice ? `${t}, ${t}` : t;
      const presigned = g.path.includes('X-Amz-Algorithm');
      const seenType = (contentType ?? (g.secondContentType === null ? undefined : g.secondContentType))?.trim();
      const verdict = headerVerdict(g.method, seenType, seenTarget, g.auth, g.date, presigned, body);
      let expected: Expected;
      let how = `${c.operation} ${c.how} ${g.method} ${g.path.slice(0, 40)} ct=${seenType} target=${seenTarget?.slice(0, 60)} auth=${g.auth?.slice(0, 40)} date=${g.date}`;
      if (g.method === 'GET' && g.path === '/' && seenTarget === undefined && g.auth === undefined) {
        // No target and no signature: a person's browser, shown the page about the server.
        expected = { status: 200, anyAnswer: true };
      } else if ('status' in verdict) {
        expected = verdict;
      } else {
        const shape = kinesisShapes.get(verdict.operation)!;
        const v = judge(body, verdict.format, shape);
        if (!verdict.signatureSure) {
          expected = v.valid ? { status: 200, anyAnswer: true } : { status: 400, types: [v.error.type, ...SIGNATURE_ERRORS] };
        } else if (!v.valid) {
          expected = { status: v.error.status, type: v.error.type, message: v.error.message };
        } else if (verdict.format !== c.format && CHANGES_STATE.has(verdict.operation)) {
          // The body was made harmless for its own format only: send it to a read-only operation.
          headers.splice(headers.findIndex(([k]) => k === 'X-Amz-Target'), 1, ['X-Amz-Target', 'Kinesis_20131202.ListStreams']);
          body = Buffer.from('{"Limit":1e400,"Limit":0}');
          how += ' (redirected)';
          expected = { status: 400, anyAnswer: true };
          return { request: { method: g.method, path: g.path, headers, body: g.chunked ? chunk(body) : body, noLength: g.chunked }, expected, how };
        } else {
          expected = { status: 200, anyAnswer: true };
        }
      }
      return { request: { method: g.method, path: g.path, headers, body: wireBody, noLength: g.chunked }, expected, how };
    });
}

/** A body in chunked transfer encoding, cut in a few pieces. */
function chunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  let size = 1;
  while (pos < body.length) {
    const piece = body.subarray(pos, pos + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    pos += piece.length;
    size = size * 3 + 1;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
