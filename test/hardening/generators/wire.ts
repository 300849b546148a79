import assert from 'node:assert/strict';
import net from 'node:net';
import { decodeInput, formatOf, validate, AwsError, type StructureShape, type WireFormat } from '../../../src/protocol/index.js';
import { parseCbor } from '../../../src/protocol/cbor.js';

/**
 * A raw HTTP/1.1 client over plain sockets with keep-alive: requests are written byte for byte as
 * given (duplicate headers, missing Content-Type, lying lengths), one at a time per connection,
 * each with its own deadline. A connection the server closes without answering is reported as
 * such, never retried.
 */

export const SIGNED_HEADERS: ReadonlyArray<[string, string]> = [
  [
    'Authorization',
    'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd',
  ],
  ['X-Amz-Date', '20260101T000000Z'],
];

/** The same signature, scoped to DynamoDB, for the DynamoDB operations (a scope must name the service called). */
export const DYNAMODB_SIGNED_HEADERS: ReadonlyArray<[string, string]> = SIGNED_HEADERS.map(([k, v]) => [k, v.replace('/kinesis/', '/dynamodb/')]);

export const JSON_TYPE = 'application/x-amz-json-1.1';
export const CBOR_TYPE = 'application/x-amz-cbor-1.1';

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** The server closed the connection after this response. */
  closed: boolean;
}

export class DroppedError extends Error {}
export class TimeoutError extends Error {}

interface Pending {
  resolve: (r: HttpResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One keep-alive connection. */
export class Http1Connection {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  dead = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.tryParse(false);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.dead = true;
      this.tryParse(true);
      const p = this.pending;
      if (p) {
        this.pending = undefined;
        clearTimeout(p.timer);
        p.reject(new DroppedError(`connection closed without a (complete) response; ${this.buf.length} bytes received`));
      }
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<Http1Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Http1Connection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes `bytes` (a whole request, or less) and waits for one response. */
  send(bytes: Buffer | readonly Buffer[], timeoutMs: number): Promise<HttpResponse> {
    assert.ok(!this.pending, 'one request at a time');
    if (this.dead) return Promise.reject(new DroppedError('connection already closed'));
    return new Promise<HttpResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.dead = true;
        this.socket.destroy();
        reject(new TimeoutError(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      if (Buffer.isBuffer(bytes)) this.socket.write(bytes);
      else for (const b of bytes) this.socket.write(b);
    });
  }

  close(): void {
    this.dead = true;
    this.socket.destroy();
  }

  private tryParse(atEnd: boolean): void {
    for (;;) {
      const p = this.pending;
      if (!p) return;
      const r = parseResponse(this.buf, atEnd);
      if (!r) return;
      this.buf = this.buf.subarray(r.used);
      if (r.response.status >= 100 && r.response.status < 200) continue;
      this.pending = undefined;
      clearTimeout(p.timer);
      if (r.response.closed) {
        this.dead = true;
        this.socket.end();
      }
      p.resolve(r.response);
    }
  }
}

/** Parses one response from the start of `buf`; undefined until it is complete. */
export function parseResponse(buf: Buffer, atEnd: boolean): { response: HttpResponse; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(m[1]);
  const start = end + 4;
  const closed = /\bclose\b/i.test(headers.connection ?? '');
  if (status < 200 || status === 204 || status === 304) return { response: { status, headers, body: Buffer.alloc(0), closed }, used: start };
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let pos = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
        const plainEnd = buf.subarray(lineEnd, lineEnd + 4).equals(Buffer.from('\r\n\r\n')) ? lineEnd + 4 : -1;
        const used = plainEnd > 0 ? plainEnd : trailerEnd >= 0 ? trailerEnd + 4 : -1;
        if (used < 0) return undefined;
        return { response: { status, headers, body: Buffer.concat(chunks), closed }, used };
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < start + n) return undefined;
    return { response: { status, headers, body: Buffer.from(buf.subarray(start, start + n)), closed }, used: start + n };
  }
  // No length: the body runs to the end of the connection.
  if (!atEnd) return undefined;
  return { response: { status, headers, body: Buffer.from(buf.subarray(start)), closed: true }, used: buf.length };
}

export interface RawRequest {
  method?: string;
  path?: string;
  /** Sent in this order, repeats included. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
  /** Leave out Content-Length (the request then has no body unless a header frames one). */
  noLength?: boolean;
}

export function requestBytes(req: RawRequest, host: string): Buffer {
  let head = `${req.method ?? 'POST'} ${req.path ?? '/'} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
  const hasLength = req.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  if (!req.noLength && !hasLength) head += `Content-Length: ${req.body.length}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), req.body]);
}

/** A plain signed request to a Kinesis operation. */
export function kinesisRequest(operation: string, body: Buffer, contentType = JSON_TYPE): RawRequest {
  return {
    headers: [['Content-Type', contentType], ['X-Amz-Target', `Kinesis_20131202.${operation}`], ...SIGNED_HEADERS],
    body,
  };
}

/**
 * A small pool of keep-alive connections to one server. `send` takes an idle connection (a new
 * one in place of any the server closed) and counts every request.
 */
export class Http1Pool {
  private idle: Http1Connection[] = [];
  private all = new Set<Http1Connection>();
  sent = 0;
  /** Connections the server closed after answering (Connection: close). */
  closedByServer = 0;

  constructor(
    readonly port: number,
    readonly timeoutMs = 15_000,
  ) {}

  async send(req: RawRequest | Buffer): Promise<HttpResponse> {
    let conn = this.idle.pop();
    while (conn && conn.dead) conn = this.idle.pop();
    if (!conn) {
      conn = await Http1Connection.connect(this.port);
      this.all.add(conn);
    }
    this.sent++;
    const bytes = Buffer.isBuffer(req) ? req : requestBytes(req, `127.0.0.1:${this.port}`);
    try {
      const res = await conn.send(bytes, this.timeoutMs);
      if (res.closed) this.closedByServer++;
      else this.idle.push(conn);
      return res;
    } finally {
      if (conn.dead) this.all.delete(conn);
    }
  }

  close(): void {
    for (const c of this.all) c.close();
    this.all.clear();
    this.idle = [];
  }
}

/** Runs `fn` over `items` with at most `width` in flight. */
export async function inParallel<T>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}

// ---------------------------------------------------------------------------------------------
// What an answer must look like.

export interface ErrorBody {
  type: string;
  message: string | undefined;
}

/** The error a body carries, in either format, or undefined when it carries none. */
export function errorOf(res: HttpResponse): ErrorBody | undefined {
  const format = formatOf(res.headers['content-type']);
  if (!format || res.body.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = format === 'json' ? JSON.parse(res.body.toString('utf8')) : parseCbor(res.body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Record<string, unknown>;
  if (typeof o.__type !== 'string') return undefined;
  const message = o.message ?? o.Message;
  // Some services qualify the name (`com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`).
  const type = o.__type.slice(o.__type.lastIndexOf('#') + 1);
  return { type, message: typeof message === 'string' ? message : undefined };
}

/** Error types AWS sends without any message member. */
const BARE = new Set(['SerializationException', 'UnknownOperationException']);

/**
 * An answer AWS could have given to a request it refuses: 4xx, a request id, and an AWS error body
 * (JSON or CBOR with `__type` and a message) in the request's format, or one of the few answers
 * AWS writes in XML (no operation name, unknown content type), or a bare 413.
 */
export function assertAwsRefusal(res: HttpResponse, what: string): ErrorBody | undefined {
  const context = `${what}: ${res.status} ${res.body.subarray(0, 300).toString('utf8')}`;
  assert.ok(res.status >= 400 && res.status < 500, `a 4xx answer (${context})`);
  assert.ok(res.headers['x-amzn-requestid'], `a request id (${context})`);
  if (res.status === 413) return undefined;
  const type = res.headers['content-type'];
  if (!formatOf(type)) {
    assert.match(res.body.toString('utf8'), /^<(AccessDeniedException|UnknownOperationException)\b/, `an XML error (${context})`);
    return undefined;
  }
  const err = errorOf(res);
  assert.ok(err, `an AWS error body (${context})`);
  assert.equal(res.headers['x-amzn-errortype'], err.type, `x-amzn-ErrorType names the error (${context})`);
  if (!BARE.has(err.type)) assert.ok(err.message !== undefined, `a message (${context})`);
  return err;
}

export type Verdict = { valid: true } | { valid: false; error: AwsError };

/** What the server's own decoding and validation make of a body: valid, or the error it must answer. */
export function judge(body: Buffer, format: WireFormat, shape: StructureShape): Verdict {
  try {
    if (body.length === 0) throw new AwsError('SerializationException', '', 400, true);
    validate(decodeInput(body, format, shape), shape);
    return { valid: true };
  } catch (err) {
    if (err instanceof AwsError) return { valid: false, error: err };
    throw err;
  }
}

/**
 * Checks an answer against the verdict of the server's own codec on the same body: the same
 * status, error type and message, in the request's format; a valid body may get any answer but a
 * 5xx.
 */
export function expectVerdict(res: HttpResponse, verdict: Verdict, format: WireFormat, how: string, what: string): void {
  assert.ok(res.status < 500, `never a 5xx: ${what}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  assert.ok(res.headers['x-amzn-requestid'], `a request id: ${what}`);
  if (verdict.valid) {
    if (res.status !== 200) assertAwsRefusal(res, what);
    return;
  }
  const err = assertAwsRefusal(res, what);
  assert.equal(formatOf(res.headers['content-type']), format, `the error comes in the request's format: ${what}`);
  assert.equal(res.status, verdict.error.status, what);
  assert.equal(err?.type, verdict.error.type, what);
  if (verdict.error.message !== '') assert.equal(err?.message, verdict.error.message, `${what} (${how})`);
}
