import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import type http2 from 'node:http2';
import {
  AwsError,
  BadRequestException,
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  RequestEntityTooLargeException,
  RequestHeaderFieldsTooLargeException,
  RequestTimeoutException,
  SerializationException,
  UnknownOperationException,
  toAwsError,
} from '../protocol/errors.js';
import { convertInput, encodeError, encodeOutput, formatOf, isPlainJson, parseBody, validate, type WireFormat } from '../protocol/index.js';
import { EventStreamOutput } from '../protocol/eventstream.js';
import type { Operation, OperationTable } from '../protocol/operation.js';
import { HeldOutput, releaseWhenSent, type BudgetShare } from '../util/response-budget.js';
import { sendEventStream } from './streaming.js';
import type { RequestFacts } from '../auth/request.js';
import type { SigV4Verifier } from '../auth/sigv4.js';

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/**
 * A service as the router serves it: the X-Amz-Target prefix it answers, the context its
 * operations run with, and its operations (each with its input shape and IAM action).
 */
export interface ServiceEndpoint<C> {
  /** `Kinesis_20131202` in `X-Amz-Target: Kinesis_20131202.PutRecord`. */
  targetPrefix: string;
  /** The service name a request's credential scope must name (`kinesis`, `dynamodb`). */
  signingName: string;
  /** What every operation's handler is given. */
  context: C;
  operations: OperationTable<C>;
  /**
   * Refuses (throws AccessDeniedException) a verified caller that may not run the operation
   * (`op.action`); called with the validated input, before the handler.
   */
  authorize?(op: Operation<C>, input: Record<string, unknown>, facts: RequestFacts): Promise<void>;
  /** The Content-Type of the service's JSON responses; absent, application/x-amz-json-1.1. */
  jsonContentType?: string;
  /** The `__type` written for an error type (e.g. qualified by a namespace); absent, the bare name. */
  errorType?(type: string): string;
}

export interface RouterOptions {
  maxBodyBytes: number;
  log: (event: Record<string, unknown>) => void;
  /** Verifies SigV4 signatures once the body is read; absent, any well-formed signature passes. */
  verifier?: SigV4Verifier;
  /** The server's clock (epoch ms), for signature dates and policy conditions. */
  now?: () => number;
  /** Answers GET /metrics (Prometheus text exposition); absent, /metrics is not served. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** What `GET /` from a browser or curl shows: the server's version and where to go next. */
  about?: () => { version: string; s3Endpoint?: string | undefined };
  /** Answers GET and HEAD under /iceberg (the Iceberg REST catalog); undefined: no such route. */
  iceberg?: (method: string, path: string) => Promise<{ status: number; body?: string } | undefined>;
}

const CONTENT_TYPES: Record<WireFormat, string> = {
  json: 'application/x-amz-json-1.1',
  cbor: 'application/x-amz-cbor-1.1',
};

// The router holds endpoints of different contexts; each is only ever used with its own.
type AnyEndpoint = ServiceEndpoint<any>;

function contentType(service: AnyEndpoint | undefined, format: WireFormat): string {
  return format === 'json' && service?.jsonContentType ? service.jsonContentType : CONTENT_TYPES[format];
}

/**
 * The opaque extended request id (72 bytes, base64, as AWS sends): the request id's 16 bytes and
 * 56 bytes drawn once per process, so that it costs no entropy per request.
 */
const ID2_TAIL = randomBytes(56);
function extendedRequestId(requestId: string): string {
  return Buffer.concat([Buffer.from(requestId.replace(/-/g, ''), 'hex'), ID2_TAIL]).toString('base64');
}

const EXPOSE_HEADERS = 'x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date';

/**
 * The answer to a request the HTTP layer refuses before routing it (see Listener): the AWS JSON
 * error shape every service on the port uses, with its request id and error type headers.
 */
export function httpErrorAnswer(
  status: 400 | 408 | 431,
  limits: { maxHeaderBytes: number; requestTimeoutMs: number },
): { headers: Record<string, string>; body: Buffer } {
  const err =
    status === 431
      ? new RequestHeaderFieldsTooLargeException(`The request headers are larger than the ${limits.maxHeaderBytes} bytes this server accepts.`)
      : status === 408
        ? new RequestTimeoutException(`The request was not received within ${limits.requestTimeoutMs} ms.`)
        : new BadRequestException('The request is not well-formed HTTP/1.1.');
  const requestId = randomUUID();
  return {
    headers: {
      'Content-Type': CONTENT_TYPES.json,
      'x-amzn-RequestId': requestId,
      'x-amz-id-2': extendedRequestId(requestId),
      'x-amzn-ErrorType': err.type,
    },
    body: encodeError(err, 'json'),
  };
}

/** Whether a failure reading the request means its client has gone (reset, aborted, closed). */
function clientWentAway(req: Req, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (req.destroyed && !req.complete);
}

/** Reads the whole body, or undefined once it passes `max` bytes. */
function readBody(req: Req, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    // A body declared too large is refused before it arrives; what does arrive is read and dropped,
    // so that the connection stays usable and the client reads the answer rather than a reset.
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      over = true;
      resolve(undefined);
    }
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}

const ACCESS_DENIED_XML =
  '<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n';

/**
 * AWS's answer to a request in plain `application/json`: HTTP 200 with the error in the Coral
 * envelope (its `message` member is null, spelled `Message` for SerializationException).
 */
function sendCoral(res: Res, type: string, messageKey: 'message' | 'Message'): void {
  const body = JSON.stringify({ Output: { __type: `com.amazon.coral.service#${type}`, [messageKey]: null }, Version: '1.0' });
  send(res, 200, body, 'application/json');
}

function send(res: Res, status: number, body: Buffer | string, contentType?: string): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  if (contentType) res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * `GET /` (or HEAD) with no X-Amz-Target and no signature is a person with a browser or curl, not
 * an AWS client (those always POST, and sign): they get a short page about the server instead of
 * AWS's authorization refusal. It names no stream, bucket or account, so it is safe to show when
 * authentication is on.
 */
function isLandingRequest(req: Req): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.url === '/' &&
    req.headers['x-amz-target'] === undefined &&
    req.headers.authorization === undefined
  );
}

function sendLanding(req: Req, res: Res, about: ReturnType<NonNullable<RouterOptions['about']>>, metrics: boolean): void {
  const page = {
    service: 'Tributary',
    description: 'A self-hosted streaming platform that speaks the AWS Kinesis APIs',
    version: about.version,
    apis: ['Kinesis Data Streams (Kinesis_20131202)', 'Firehose (Firehose_20150804)', 'DynamoDB lease tables (DynamoDB_20120810)'],
    usage: 'Point an AWS SDK or the AWS CLI at this URL as its endpoint, e.g. aws kinesis list-streams --endpoint-url <this URL>',
    ...(about.s3Endpoint ? { s3Endpoint: about.s3Endpoint } : {}),
    health: '/health',
    ...(metrics ? { metrics: '/metrics' } : {}),
    documentation: 'README.md of the Tributary distribution',
  };
  const html = (req.headers.accept ?? '').includes('text/html');
  const body = html ? landingHtml(page) : `${JSON.stringify(page, null, 2)}\n`;
  res.setHeader('Content-Type', html ? 'text/html; charset=utf-8' : 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = 200;
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

function landingHtml(page: Record<string, unknown>): string {
  const escape = (v: string) => v.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = Object.entries(page)
    .map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(Array.isArray(v) ? v.join(', ') : String(v))}</td></tr>`)
    .join('\n');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>Tributary</title></head>\n<body><h1>Tributary</h1>\n<table>\n${rows}\n</table></body></html>\n`;
}

/** AWS refuses a request that carries neither a SigV4 Authorization header nor a presigned query. */
function checkAuthentication(req: Req): void {
  const auth = req.headers.authorization;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const query = q >= 0 ? new URLSearchParams(url.slice(q + 1)) : undefined;
  const presigned = query?.has('X-Amz-Algorithm') ?? false;
  if (auth && presigned) {
    throw new InvalidSignatureException(
      "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    );
  }
  if (!auth && !presigned) throw new MissingAuthenticationTokenException('Missing Authentication Token');
  let msg = '';
  if (auth) {
    const params = new Map<string, string>();
    for (const part of auth.split(/[, ]/).slice(1)) {
      const eq = part.indexOf('=');
      if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
    for (const p of ['Credential', 'Signature', 'SignedHeaders']) {
      if (!params.get(p)) msg += `Authorization header requires '${p}' parameter. `;
    }
    if (!req.headers['x-amz-date'] && !req.headers.date) {
      msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    }
    if (msg) msg += `Authorization=${auth}`;
  } else {
    for (const p of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date']) {
      if (!query!.get(p)) msg += `AWS query-string parameters must include '${p}'. `;
    }
    if (msg) msg += 'Re-examine the query-string parameters.';
  }
  if (msg) throw new IncompleteSignatureException(msg);
}

/**
 * The AWS JSON/CBOR request pipeline: find the operation from X-Amz-Target, check that the
 * request is signed, decode and validate the body by the operation's shape, run it, and write
 * the result or an AWS-shaped error in the request's own format.
 */
export function createRouter(services: readonly AnyEndpoint[], opts: RouterOptions) {
  const byPrefix = new Map<string, AnyEndpoint>();
  for (const s of services) {
    if (byPrefix.has(s.targetPrefix)) throw new Error(`target prefix ${s.targetPrefix} is registered twice`);
    byPrefix.set(s.targetPrefix, s);
  }

  return async function route(req: Req, res: Res): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        const h = req.headers['access-control-request-headers'];
        const m = req.headers['access-control-request-method'];
        if (h) res.setHeader('Access-Control-Allow-Headers', h);
        if (m) res.setHeader('Access-Control-Allow-Methods', m);
        res.setHeader('Access-Control-Max-Age', 172800);
        send(res, 200, '');
        return;
      }
      res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    res.setHeader('x-amz-id-2', extendedRequestId(requestId));

    if (req.method === 'GET' && (req.url === '/health' || req.url === '/ping')) {
      send(res, 200, 'ok\n', 'text/plain');
      return;
    }
    if (opts.about && isLandingRequest(req)) {
      sendLanding(req, res, opts.about(), opts.metrics !== undefined);
      return;
    }
    if (opts.iceberg && (req.method === 'GET' || req.method === 'HEAD') && req.url !== undefined && (req.url === '/iceberg' || req.url.startsWith('/iceberg/'))) {
      try {
        const answer = await opts.iceberg(req.method, req.url.slice('/iceberg'.length) || '/');
        if (!answer) {
          const body = JSON.stringify({ error: { message: `No route for request: ${req.method} ${req.url}`, type: 'NoSuchRouteException', code: 400 } });
          send(res, 400, req.method === 'HEAD' ? '' : body, 'application/json');
        } else if (answer.body === undefined || req.method === 'HEAD') {
          res.statusCode = answer.status;
          res.end();
        } else {
          send(res, answer.status, answer.body, 'application/json');
        }
      } catch (err) {
        opts.log({ op: 'iceberg', error: String((err as Error)?.stack ?? err), requestId });
        send(res, 500, JSON.stringify({ error: { message: 'Internal error', type: 'ServiceFailureException', code: 500 } }), 'application/json');
      }
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics' && opts.metrics) {
      try {
        const { contentType, body } = await opts.metrics();
        send(res, 200, body, contentType);
      } catch (err) {
        opts.log({ op: 'metrics', error: String((err as Error)?.stack ?? err), requestId });
        send(res, 500, 'metrics failed\n', 'text/plain');
      }
      return;
    }

    const format = formatOf(req.headers['content-type']);
    const rawTarget = req.headers['x-amz-target'];
    const target = typeof rawTarget === 'string' ? rawTarget : '';
    const dot = target.indexOf('.');
    const service = dot > 0 ? byPrefix.get(target.slice(0, dot)) : undefined;
    const operation = dot > 0 ? target.slice(dot + 1) : '';
    const found = service?.operations.get(operation);
    const shape = found?.input;

    // The order of the checks below is AWS's, as recorded against the service: the method; an
    // empty body (answered in JSON only for a JSON content type, in CBOR otherwise, even with no
    // Content-Type at all); a content type the service does not speak; a body that does not
    // parse; plain application/json (answered in the Coral envelope); an unknown service or
    // operation; then the signature, the shape and the policies.
    if (req.method !== 'POST') {
      send(res, 403, ACCESS_DENIED_XML);
      return;
    }

    let op = operation || '-';
    // The format errors are written in until the request's own is known.
    let errorFormat: WireFormat = format === 'json' && !isPlainJson(req.headers['content-type']) ? 'json' : 'cbor';
    // Memory the response holds from a ResponseBudget, given back once it has been sent.
    let share: BudgetShare | undefined;
    try {
      const body = await readBody(req, opts.maxBodyBytes);
      if (body === undefined) {
        throw new RequestEntityTooLargeException(`The request body is larger than the ${opts.maxBodyBytes} bytes this server accepts.`);
      }
      if (body.length === 0) {
        throw shape ? new SerializationException() : new UnknownOperationException('');
      }
      if (!format) {
        send(res, dot < 0 ? 403 : 404, dot < 0 ? ACCESS_DENIED_XML : '<UnknownOperationException/>\n');
        return;
      }
      errorFormat = format;
      const coral = isPlainJson(req.headers['content-type']);
      let parsed: unknown;
      try {
        parsed = parseBody(body, format);
      } catch (err) {
        if (coral) return sendCoral(res, 'SerializationException', 'Message');
        throw err;
      }
      if (coral) return sendCoral(res, 'UnknownOperationException', 'message');
      if (!service || !found || !shape) throw new UnknownOperationException('');
      checkAuthentication(req);
      const now = opts.now?.() ?? Date.now();
      const caller = opts.verifier?.verify(
        { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body },
        now,
      );
      // A signature made for another service is refused, as AWS refuses it (the verifier knows
      // every service this port serves; the scope must name the one called).
      if (caller && caller.service !== service.signingName) {
        throw new InvalidSignatureException(`Credential should be scoped to correct service: '${service.signingName}'. `);
      }
      const input = convertInput(parsed, format, shape);
      validate(input, shape);
      if (caller?.credential && service.authorize) {
        const socket = req.socket as (typeof req.socket & { encrypted?: boolean }) | undefined;
        const ip = socket?.remoteAddress ?? '';
        await service.authorize(found, input, {
          caller,
          sourceIp: ip.startsWith('::ffff:') ? ip.slice(7) : ip,
          secureTransport: socket?.encrypted === true,
          now,
        });
      }
      let output = await found.handle(service.context, input);
      if (output instanceof HeldOutput) {
        share = output.share;
        output = output.output;
      }
      if (output instanceof EventStreamOutput) {
        // An event stream (SubscribeToShard): the response goes on after this request is logged.
        op = operation;
        sendEventStream(req, res, output, format);
        opts.log({ op, status: 200, ms: Number(process.hrtime.bigint() - started) / 1e6, requestId });
        return;
      }
      const out = encodeOutput(output as object | undefined, format);
      send(res, 200, out, contentType(service, format));
      if (share) releaseWhenSent(res, share);
      op = operation;
      opts.log({ op, status: 200, ms: Number(process.hrtime.bigint() - started) / 1e6, requestId });
    } catch (err) {
      share?.release();
      // A client that went away while sending its request is not a server failure: noted at debug.
      if (!(err instanceof AwsError) && clientWentAway(req, err)) {
        opts.log({ op, clientGone: String((err as NodeJS.ErrnoException).code ?? (err as Error).message), requestId });
        return;
      }
      const e = toAwsError(err);
      if (!(err instanceof AwsError)) opts.log({ op, error: String((err as Error)?.stack ?? err), requestId });
      res.setHeader('x-amzn-ErrorType', e.type);
      send(res, e.status, encodeError(e, errorFormat, service?.errorType?.(e.type)), contentType(service, errorFormat));
      opts.log({ op, status: e.status, type: e.type, ms: Number(process.hrtime.bigint() - started) / 1e6, requestId });
    }
  };
}
