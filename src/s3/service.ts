import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { s3BucketArn, s3ObjectArn, type S3Permission } from '../auth/s3-authorizer.js';
import { ExpiredTokenException, UnrecognizedClientException } from '../auth/errors.js';
import type { RequestFacts } from '../auth/request.js';
import type { Caller, VerifiedSignature } from '../auth/sigv4.js';
import { AwsError, IncompleteSignatureException, InvalidSignatureException } from '../protocol/errors.js';
import type { ChunkSigning } from './chunked.js';
import type { S3Context, S3Dependencies, S3Operation, S3Response } from './context.js';
import { accessDenied, httpLayerError, invalidBucketName, invalidRequest, keyTooLong, methodNotAllowed, noSuchBucket, notImplemented, S3Error, signatureDoesNotMatch } from './errors.js';
import { FileObjectStore } from './file-store.js';
import { MAX_KEY_BYTES, plausibleBucketName } from './names.js';
import * as buckets from './operations/buckets.js';
import * as listing from './operations/listing.js';
import * as multipart from './operations/multipart.js';
import * as objects from './operations/objects.js';
import { header, parseS3Request, type IncomingRequest, type S3Request } from './request.js';
import type { ObjectStore } from './store.js';
import { escapeXml } from './xml.js';
import type http from 'node:http';
import type http2 from 'node:http2';

type Res = http.ServerResponse | http2.Http2ServerResponse;

/** A routed request: the operation's name, its handler and the permission it needs. */
interface Route {
  name: string;
  run: S3Operation;
  permission?: S3Permission;
}

const STREAMING = /^STREAMING-/;

/**
 * The S3-compatible object store: REST/XML over its own listener, path-style and
 * virtual-hosted-style addressing, SigV4 (headers, presigned URLs, aws-chunked bodies),
 * multipart uploads, checksums and S3's errors. It owns its store and releases it on close().
 */
export class S3Service {
  readonly store: ObjectStore;
  private readonly owner: { id: string; displayName: string };
  private readonly hostId = randomBytes(40);
  private inFlight = 0;
  private closed = false;

  constructor(readonly deps: S3Dependencies) {
    this.store = deps.store ?? new FileObjectStore(path.join(deps.settings.dataDir, 'buckets'), deps.settings.fsync);
    this.owner = { id: createHash('sha256').update(`tributary:${deps.settings.accountId}`).digest('hex'), displayName: 'tributary' };
  }

  /**
   * The answer to a request the HTTP layer refuses before it reaches the service (malformed,
   * headers too large, not received in time): S3's XML error, as S3 answers them, always 400.
   */
  httpLayerError(status: 400 | 408 | 431): { status: number; headers: Record<string, string>; body: Buffer } {
    const e = httpLayerError(status);
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    return {
      status: e.status,
      headers: {
        'Content-Type': 'application/xml',
        'x-amz-request-id': requestId,
        'x-amz-id-2': Buffer.concat([Buffer.from(requestId), this.hostId]).toString('base64'),
      },
      body: errorDocument(e, '/', requestId),
    };
  }

  /** Serves one request; never throws. */
  async handle(req: IncomingRequest, res: Res): Promise<void> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const id2 = Buffer.concat([Buffer.from(requestId), this.hostId]).toString('base64');
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', id2);
    res.setHeader('Server', 'Tributary');
    // The service's clock: clients correct their skew by it.
    res.setHeader('Date', new Date(this.deps.clock.now()).toUTCString());
    let r: S3Request | undefined;
    this.inFlight++;
    try {
      if (this.closed) throw new S3Error('ServiceUnavailable', 503, 'Please reduce your request rate.');
      r = parseS3Request(req, this.deps.settings.baseHosts);
      const route = this.route(r);
      const now = this.deps.clock.now();
      const { caller, signing } = this.authenticate(req, r, now);
      const facts: RequestFacts = {
        caller: caller ?? { accessKeyId: '', service: 's3' },
        sourceIp: req.socket?.remoteAddress ?? '',
        secureTransport: 'encrypted' in (req.socket ?? {}) && Boolean((req.socket as { encrypted?: boolean }).encrypted),
        now,
      };
      const anonymous = caller === undefined && !this.deps.verifier.developmentMode;
      const allowed = (p: S3Permission) => !anonymous && this.deps.authorize(facts, p) === undefined;
      const authorize = (p: S3Permission) => {
        if (anonymous) throw accessDenied();
        const refusal = this.deps.authorize(facts, p);
        if (refusal !== undefined) throw accessDenied(refusal);
      };
      if (route.permission) authorize(route.permission);
      const request = r;
      const ctx: S3Context = {
        deps: this.deps,
        store: this.store,
        req,
        r: request,
        now,
        signing,
        authorize,
        allowed,
        owner: this.owner,
        bucket: async () => {
          const b = await this.store.bucket(request.bucket!);
          if (!b) throw noSuchBucket(request.bucket!);
          return b;
        },
      };
      const out = await route.run(ctx);
      await send(res, out, r.method === 'HEAD');
    } catch (err) {
      const e = toS3Error(err, r);
      if (!(err instanceof S3Error) && !(err instanceof AwsError)) this.deps.logger.error({ err }, 'S3 request failed');
      sendError(req, res, e, r, requestId);
    } finally {
      this.inFlight--;
    }
  }

  /** Which operation a request is, by method, subresource and headers. */
  private route(r: S3Request): Route {
    const q = r.query;
    const m = r.method;
    if (r.bucket === undefined) {
      if (m === 'GET') return { name: 'ListBuckets', run: buckets.listBuckets, permission: { action: 's3:ListAllMyBuckets', resource: '*' } };
      throw methodNotAllowed(m, 'SERVICE');
    }
    const bucket = r.bucket;
    if (!plausibleBucketName(bucket)) throw invalidBucketName(bucket);
    const bArn = s3BucketArn(bucket);
    if (r.key === '') {
      const p = (action: string) => ({ action, resource: bArn });
      switch (m) {
        case 'PUT':
          if (onlyIgnorable(q)) return { name: 'CreateBucket', run: buckets.createBucket, permission: p('s3:CreateBucket') };
          throw notImplemented();
        case 'HEAD':
          return { name: 'HeadBucket', run: buckets.headBucket, permission: p('s3:ListBucket') };
        case 'DELETE':
          if (onlyIgnorable(q)) return { name: 'DeleteBucket', run: buckets.deleteBucket, permission: p('s3:DeleteBucket') };
          throw notImplemented();
        case 'POST':
          if (q.has('delete')) return { name: 'DeleteObjects', run: objects.deleteObjects };
          throw methodNotAllowed(m, 'BUCKET');
        case 'GET':
          if (q.has('location')) return { name: 'GetBucketLocation', run: buckets.getBucketLocation, permission: p('s3:GetBucketLocation') };
          if (q.has('versioning')) return { name: 'GetBucketVersioning', run: buckets.getBucketVersioning, permission: p('s3:GetBucketVersioning') };
          if (q.has('uploads')) return { name: 'ListMultipartUploads', run: multipart.listMultipartUploads, permission: p('s3:ListBucketMultipartUploads') };
          if (q.get('list-type') === '2') return { name: 'ListObjectsV2', run: listing.listObjectsV2, permission: p('s3:ListBucket') };
          if (onlyIgnorable(q, LIST_PARAMS)) return { name: 'ListObjects', run: listing.listObjects, permission: p('s3:ListBucket') };
          throw notImplemented();
        default:
          throw methodNotAllowed(m, 'BUCKET');
      }
    }
    const keyBytes = Buffer.byteLength(r.key, 'utf8');
    if (keyBytes > MAX_KEY_BYTES) throw keyTooLong(keyBytes);
    const oArn = s3ObjectArn(bucket, r.key);
    const p = (action: string) => ({ action, resource: oArn });
    const copy = header(r, 'x-amz-copy-source') !== undefined;
    switch (m) {
      case 'PUT':
        if (q.has('uploadId')) {
          return copy
            ? { name: 'UploadPartCopy', run: multipart.uploadPartCopy, permission: p('s3:PutObject') }
            : { name: 'UploadPart', run: multipart.uploadPart, permission: p('s3:PutObject') };
        }
        if (!onlyIgnorable(q)) throw notImplemented();
        return copy
          ? { name: 'CopyObject', run: objects.copyObject, permission: p('s3:PutObject') }
          : { name: 'PutObject', run: objects.putObject, permission: p('s3:PutObject') };
      case 'GET':
        if (q.has('uploadId')) return { name: 'ListParts', run: multipart.listParts, permission: p('s3:ListMultipartUploadParts') };
        if (q.has('tagging')) return { name: 'GetObjectTagging', run: objects.getObjectTagging, permission: p('s3:GetObjectTagging') };
        if (!onlyIgnorable(q, OBJECT_READ_PARAMS)) throw notImplemented();
        return { name: 'GetObject', run: objects.getObject, permission: p('s3:GetObject') };
      case 'HEAD':
        return { name: 'HeadObject', run: objects.headObject, permission: p('s3:GetObject') };
      case 'DELETE':
        if (q.has('uploadId')) return { name: 'AbortMultipartUpload', run: multipart.abortMultipartUpload, permission: p('s3:AbortMultipartUpload') };
        return { name: 'DeleteObject', run: objects.deleteObject, permission: p('s3:DeleteObject') };
      case 'POST':
        if (q.has('uploads')) return { name: 'CreateMultipartUpload', run: multipart.createMultipartUpload, permission: p('s3:PutObject') };
        if (q.has('uploadId')) return { name: 'CompleteMultipartUpload', run: multipart.completeMultipartUpload, permission: p('s3:PutObject') };
        throw methodNotAllowed(m, 'OBJECT');
      default:
        throw methodNotAllowed(m, 'OBJECT');
    }
  }

  /**
   * Verifies the request's signature (Authorization header or presigned query) over S3's
   * canonical form; an unsigned request is anonymous. Returns the caller and, for signed
   * aws-chunked bodies in verified mode, what checking the chunk signatures needs.
   */
  private authenticate(req: IncomingRequest, r: S3Request, now: number): { caller?: Caller; signing?: ChunkSigning } {
    const presigned = r.query.has('X-Amz-Algorithm') || r.query.has('X-Amz-Signature');
    if (header(r, 'authorization') === undefined && !presigned) return {};
    if (header(r, 'authorization')?.startsWith('AWS ')) {
      throw new S3Error('InvalidRequest', 400, 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
    }
    let payloadHash = r.query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    if (!presigned) {
      const declared = header(r, 'x-amz-content-sha256');
      if (declared === undefined) throw invalidRequest('Missing required header for this request: x-amz-content-sha256');
      payloadHash = declared;
    }
    let v: VerifiedSignature;
    try {
      v = this.deps.verifier.verifySignature({ method: r.method, url: r.url, headers: req.headers }, now, { payloadHash, rawPath: true });
    } catch (err) {
      throw signatureError(err, presigned);
    }
    const signing =
      v.signingKey && STREAMING.test(payloadHash) && payloadHash.includes('HMAC')
        ? { signingKey: v.signingKey, amzDate: v.params.amzDate, scope: v.scope, seed: v.params.signature }
        : undefined;
    return { caller: v.caller, signing };
  }

  /** Stops serving new requests and releases the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let i = 0; i < 100 && this.inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.store.close();
  }
}

/** Query parameters that add nothing to an operation's meaning: the JS SDK's `x-id`, and the presigning ones and headers a presigner hoisted (`X-Amz-*`). */
const ignorable = (k: string) => k === 'x-id' || k.toLowerCase().startsWith('x-amz-');
const LIST_PARAMS: ReadonlySet<string> = new Set(['prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type', 'list-type']);
const OBJECT_READ_PARAMS: ReadonlySet<string> = new Set([
  'partNumber', 'versionId', 'response-content-type', 'response-content-language', 'response-expires',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding',
]);

function onlyIgnorable(q: ReadonlyMap<string, string>, allowed: ReadonlySet<string> = new Set()): boolean {
  for (const k of q.keys()) if (!ignorable(k) && !allowed.has(k)) return false;
  return true;
}

/** The verifier's errors, in S3's words. */
function signatureError(err: unknown, presigned: boolean): unknown {
  if (err instanceof InvalidSignatureException) {
    const m = err.message;
    if (m.startsWith('Signature expired') || m.startsWith('Signature not yet current')) {
      return presigned
        ? accessDenied('Request has expired')
        : new S3Error('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.');
    }
    if (m.startsWith('Credential should be scoped') || m.startsWith('Date in Credential scope')) {
      return new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', 400, m.trim());
    }
    return signatureDoesNotMatch();
  }
  if (err instanceof IncompleteSignatureException) {
    return new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', 400, err.message);
  }
  if (err instanceof UnrecognizedClientException) {
    return new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.');
  }
  if (err instanceof ExpiredTokenException) return new S3Error('ExpiredToken', 400, 'The provided token has expired.');
  return err;
}

function toS3Error(err: unknown, r: S3Request | undefined): S3Error {
  if (err instanceof S3Error) return err;
  const code = (err as { code?: string }).code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') return new S3Error('IncompleteBody', 400, 'The request body ended early.');
  if (code === 'ENOSPC') return new S3Error('ServiceUnavailable', 503, 'Please reduce your request rate.');
  void r;
  return new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');
}

async function send(res: Res, out: S3Response, head: boolean): Promise<void> {
  res.statusCode = out.status;
  for (const [k, v] of Object.entries(out.headers ?? {})) if (v !== undefined) res.setHeader(k, typeof v === 'number' ? String(v) : v);
  const body = out.body;
  if (body === undefined || head) {
    if (body instanceof Readable) body.destroy();
    if (!res.hasHeader('content-length') && !head) res.setHeader('Content-Length', '0');
    res.end();
    return;
  }
  if (body instanceof Readable) {
    await new Promise<void>((resolve) => {
      body.on('error', (err) => {
        (res as { destroy(e?: Error): void }).destroy(err);
        resolve();
      });
      res.on('close', () => {
        body.destroy();
        resolve();
      });
      body.pipe(res as NodeJS.WritableStream);
    });
    return;
  }
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.setHeader('Content-Length', String(buf.length));
  res.end(buf);
}

function sendError(req: IncomingRequest, res: Res, e: S3Error, r: S3Request | undefined, requestId: string): void {
  if (res.headersSent) {
    (res as { destroy(e?: Error): void }).destroy();
    return;
  }
  res.statusCode = e.status;
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  const head = req.method === 'HEAD' || e.status === 304;
  // A body-less answer to a request whose body is still coming: let the client stop sending.
  if (!req.readableEnded && !('stream' in req)) res.setHeader('Connection', 'close');
  if (head) {
    res.end();
    return;
  }
  const resource = r ? (r.bucket === undefined ? '/' : `/${r.bucket}${r.key === '' ? '' : `/${r.key}`}`) : '/';
  const body = errorDocument(e, resource, requestId);
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
  // Drain what the client still sends so that the connection can close cleanly.
  if (!req.readableEnded) req.resume();
}

/** S3's `<Error>` document. */
function errorDocument(e: S3Error, resource: string, requestId: string): Buffer {
  let extra = '';
  for (const [k, v] of Object.entries(e.extra)) extra += `<${k}>${escapeXml(v)}</${k}>`;
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message>${extra}` +
      `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`,
  );
}
