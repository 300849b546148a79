import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { IncompleteSignatureException, InvalidSignatureException } from '../protocol/errors.js';
import type { Credential, CredentialStore } from './credentials.js';
import { ExpiredTokenException, UnrecognizedClientException } from './errors.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The longest a presigned URL may be valid: seven days. */
export const MAX_PRESIGN_SECONDS = 604_800;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const AMZ_DATE = /^\d{8}T\d{6}Z$/;

export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

/** What the verifier needs of a request: its method, the URL as received, its headers and body. */
export interface SigV4Request {
  method: string;
  /** Path and query exactly as they came on the request line (or :path). */
  url: string;
  /** Header names in lower case, as Node gives them. */
  headers: HeaderMap;
  body: Buffer;
}

/** The signature parameters of a request, from its Authorization header or its query string. */
export interface SignatureParams {
  kind: 'header' | 'query';
  algorithm: string;
  credential: string;
  accessKeyId: string;
  scopeDate: string;
  scopeRegion: string;
  scopeService: string;
  scopeTerminator: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** Seconds, for presigned requests. */
  expires?: number;
  securityToken?: string;
}

export interface VerifierOptions {
  region: string;
  /** Signing names accepted in the credential scope, e.g. ['kinesis', 'dynamodb', 'firehose']. */
  services: readonly string[];
  /** How far a request's date may be from the server's clock. */
  skewMs: number;
  /** Accepted access keys; absent in development mode, where any well-formed signature passes. */
  credentials?: CredentialStore;
  /** Whether `x-amz-content-sha256: UNSIGNED-PAYLOAD` may stand in for the body's hash. */
  allowUnsignedPayload?: boolean;
  /** Accept any region in the credential scope (S3 clients sign with their own region). */
  anyRegion?: boolean;
}

/** How a request's payload and path enter its canonical form, where S3 differs from the JSON services. */
export interface CanonicalOptions {
  /** The payload hash signed (S3: the `x-amz-content-sha256` value, checked later); absent, the body's SHA-256. */
  payloadHash?: string;
  /** S3 signs the path exactly as sent: neither normalized nor encoded again. */
  rawPath?: boolean;
}

/** A verified signature and what checking a signed streaming body needs of it. */
export interface VerifiedSignature {
  caller: Caller;
  params: SignatureParams;
  /** `date/region/service/aws4_request` */
  scope: string;
  /** Absent in development mode, where chunk signatures are not checked. */
  signingKey?: Buffer;
}

/** Who signed a request. */
export interface Caller {
  accessKeyId: string;
  /** Absent in development mode. */
  credential?: Credential;
  /** The signing name of the credential scope. */
  service: string;
}

// ---------------------------------------------------------------------------------------------
// Canonical request

/** RFC 3986 percent-encoding of everything but the unreserved characters A-Z a-z 0-9 - . _ ~ */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The canonical URI of a non-S3 service: the path normalized (empty and `.` segments dropped,
 * `..` applied) and each segment URI-encoded once more, over the path as it was sent.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  const out: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(uriEncode(seg));
  }
  const trailing = rawPath.endsWith('/') && out.length > 0 ? '/' : '';
  return `/${out.join('/')}${trailing}`;
}

/** The query pairs as sent, decoded once. */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  return rawQuery.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? [decodeComponent(p), ''] : [decodeComponent(p.slice(0, eq)), decodeComponent(p.slice(eq + 1))];
  });
}

/** Pairs encoded, sorted by name then value, joined with `&`; `exclude` (the signature itself) left out. */
export function canonicalQuery(pairs: readonly (readonly [string, string])[], exclude?: string): string {
  const encoded: [string, string][] = [];
  for (const [k, v] of pairs) if (k !== exclude) encoded.push([uriEncode(k), uriEncode(v)]);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}

/** A header's value: several values joined by commas, each trimmed, inner runs of spaces made one. */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  let v = headers[name];
  if (v === undefined && name === 'host') v = headers[':authority'];
  if (v === undefined) return undefined;
  const values = Array.isArray(v) ? v : [v];
  return values.map((x) => x.trim().replace(/\s+/g, ' ')).join(',');
}

export function canonicalHeaders(headers: HeaderMap, signed: readonly string[]): string {
  let out = '';
  for (const name of signed) out += `${name}:${headerValue(headers, name) ?? ''}\n`;
  return out;
}

export function canonicalRequest(
  method: string,
  uri: string,
  query: string,
  headers: string,
  signedHeaders: string,
  payloadHash: string,
): string {
  return `${method}\n${uri}\n${query}\n${headers}\n${signedHeaders}\n${payloadHash}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function signatureOf(signingKey: Buffer, toSign: string): string {
  return createHmac('sha256', signingKey).update(toSign).digest('hex');
}

/** The string a chunk of a signed aws-chunked body signs: chained on the previous signature. */
export function chunkStringToSign(amzDate: string, scope: string, previous: string, chunk: Buffer): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${sha256Hex(chunk)}`;
}

/** The string the trailer of a signed aws-chunked body signs: its lines as `name:value\n`. */
export function trailerStringToSign(amzDate: string, scope: string, previous: string, trailer: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previous}\n${sha256Hex(trailer)}`;
}

// ---------------------------------------------------------------------------------------------
// Reading the signature parameters

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** "20150830T123600Z" for an epoch-ms time. */
export function amzDateOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function parseAmzDate(s: string): number {
  return Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15));
}

function splitCredential(credential: string) {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw new IncompleteSignatureException(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator] = parts as [string, string, string, string, string];
  return { accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator };
}

/**
 * The signature parameters of a request that carries them (the router has already refused a
 * request with neither an Authorization header nor a presigned query, or with missing parts).
 */
export function readSignatureParams(req: Pick<SigV4Request, 'headers'>, query: readonly [string, string][]): SignatureParams {
  const auth = single(req.headers.authorization);
  if (auth !== undefined) {
    const space = auth.indexOf(' ');
    const algorithm = space < 0 ? auth : auth.slice(0, space);
    const fields = new Map<string, string>();
    for (const part of (space < 0 ? '' : auth.slice(space + 1)).split(',')) {
      const p = part.trim();
      const eq = p.indexOf('=');
      if (eq > 0) fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
    }
    if (algorithm !== ALGORITHM) throw new IncompleteSignatureException(`Unsupported AWS 'algorithm': '${algorithm}'`);
    const credential = fields.get('Credential') ?? '';
    let amzDate = single(req.headers['x-amz-date']);
    if (amzDate === undefined) {
      const date = single(req.headers.date);
      const ms = date === undefined ? NaN : Date.parse(date);
      amzDate = Number.isFinite(ms) ? amzDateOf(ms) : date ?? '';
    }
    return {
      kind: 'header',
      algorithm,
      credential,
      ...splitCredential(credential),
      signedHeaders: (fields.get('SignedHeaders') ?? '').split(';'),
      signature: fields.get('Signature') ?? '',
      amzDate,
      securityToken: single(req.headers['x-amz-security-token']),
    };
  }
  const q = new Map<string, string>();
  for (const [k, v] of query) if (!q.has(k)) q.set(k, v);
  const algorithm = q.get('X-Amz-Algorithm') ?? '';
  if (algorithm !== ALGORITHM) {
    throw new IncompleteSignatureException(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  }
  const credential = q.get('X-Amz-Credential') ?? '';
  const rawExpires = q.get('X-Amz-Expires');
  let expires: number | undefined;
  if (rawExpires !== undefined) {
    expires = /^\d{1,9}$/.test(rawExpires) ? Number(rawExpires) : NaN;
    if (!Number.isFinite(expires)) {
      throw new IncompleteSignatureException('X-Amz-Expires should be a number');
    }
    if (expires > MAX_PRESIGN_SECONDS) {
      throw new IncompleteSignatureException(
        `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_SECONDS}`,
      );
    }
  }
  return {
    kind: 'query',
    algorithm,
    credential,
    ...splitCredential(credential),
    signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';'),
    signature: q.get('X-Amz-Signature') ?? '',
    amzDate: q.get('X-Amz-Date') ?? '',
    expires,
    securityToken: q.get('X-Amz-Security-Token') ?? single(req.headers['x-amz-security-token']),
  };
}

// ---------------------------------------------------------------------------------------------
// Verification

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key ' +
  'and signing method. Consult the service documentation for details.';

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min.` : `${ms / 1000} sec.`;
}

/**
 * Verifies AWS Signature Version 4 on requests. One verifier serves one server; it keeps the
 * derived signing keys (one HMAC chain per access key, day, region and service) so that a request
 * costs two hashes and one HMAC over small strings plus one hash over the body.
 */
export class SigV4Verifier {
  private readonly keys = new Map<string, Buffer>();

  constructor(readonly options: VerifierOptions) {}

  get developmentMode(): boolean {
    return this.options.credentials === undefined;
  }

  /** Checks a request's signature at time `now`; returns the caller or throws the AWS error. */
  verify(req: SigV4Request, now: number): Caller {
    return this.verifySignature(req, now).caller;
  }

  /**
   * Checks a request's signature with the payload hash and path rules given (S3's), the body
   * itself not being needed when `payloadHash` is; returns the caller and the signing material.
   */
  verifySignature(req: Omit<SigV4Request, 'body'> & { body?: Buffer }, now: number, opts: CanonicalOptions = {}): VerifiedSignature {
    const q = req.url.indexOf('?');
    const rawPath = q < 0 ? req.url : req.url.slice(0, q);
    const query = q < 0 ? [] : parseQuery(req.url.slice(q + 1));
    const p = readSignatureParams(req, query);
    checkWellFormed(p);
    const scope = `${p.scopeDate}/${p.scopeRegion}/${p.scopeService}/aws4_request`;
    const creds = this.options.credentials;
    if (!creds) return { caller: { accessKeyId: p.accessKeyId, service: p.scopeService }, params: p, scope };

    this.checkScope(p);
    this.checkTime(p, now);
    const credential = creds.get(p.accessKeyId);
    if (!credential) throw new UnrecognizedClientException();
    checkSessionToken(credential, p.securityToken, now);

    let payloadHash: string;
    const declared = single(req.headers['x-amz-content-sha256']);
    const body = req.body ?? Buffer.alloc(0);
    if (opts.payloadHash !== undefined) payloadHash = opts.payloadHash;
    else if (declared === UNSIGNED_PAYLOAD && this.options.allowUnsignedPayload) payloadHash = UNSIGNED_PAYLOAD;
    else payloadHash = body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);

    const canonical = canonicalRequest(
      req.method,
      opts.rawPath ? rawPath || '/' : canonicalUri(rawPath),
      canonicalQuery(query, p.kind === 'query' ? 'X-Amz-Signature' : undefined),
      canonicalHeaders(req.headers, p.signedHeaders),
      p.signedHeaders.join(';'),
      payloadHash,
    );
    const toSign = stringToSign(p.amzDate, scope, canonical);
    const signingKey = this.signingKey(credential, p);
    const expected = signatureOf(signingKey, toSign);
    const given = Buffer.from(p.signature, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected, 'utf8'))) {
      throw new InvalidSignatureException(
        `${MISMATCH}\n\nThe Canonical String for this request should have been\n'${canonical}'\n\n` +
          `The String-to-Sign should have been\n'${toSign}'\n`,
      );
    }
    return { caller: { accessKeyId: p.accessKeyId, credential, service: p.scopeService }, params: p, scope, signingKey };
  }

  private checkScope(p: SignatureParams): void {
    if (p.scopeDate !== p.amzDate.slice(0, 8)) {
      throw new InvalidSignatureException(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
          `'${p.scopeDate}' != '${p.amzDate.slice(0, 8)}', from '${p.amzDate}'.`,
      );
    }
    if (p.scopeRegion !== this.options.region && !this.options.anyRegion) {
      throw new InvalidSignatureException(`Credential should be scoped to a valid region, not '${p.scopeRegion}'. `);
    }
    if (!this.options.services.includes(p.scopeService)) {
      throw new InvalidSignatureException(`Credential should be scoped to correct service: '${this.options.services[0]}'. `);
    }
  }

  private checkTime(p: SignatureParams, now: number): void {
    const signed = parseAmzDate(p.amzDate);
    const skew = this.options.skewMs;
    if (signed - now > skew) {
      throw new InvalidSignatureException(
        `Signature not yet current: ${p.amzDate} is still later than ${amzDateOf(now + skew)} ` +
          `(${amzDateOf(now)} + ${minutes(skew)})`,
      );
    }
    // A presigned request is good for X-Amz-Expires seconds from its date; a signed one for the skew.
    const window = p.kind === 'query' && p.expires !== undefined ? p.expires * 1000 : skew;
    if (now - signed > window) {
      throw new InvalidSignatureException(
        `Signature expired: ${p.amzDate} is now earlier than ${amzDateOf(now - window)} (${amzDateOf(now)} - ${minutes(window)})`,
      );
    }
  }

  private signingKey(c: Credential, p: SignatureParams): Buffer {
    const id = `${c.accessKeyId}/${p.scopeDate}/${p.scopeRegion}/${p.scopeService}`;
    let key = this.keys.get(id);
    if (!key) {
      if (this.keys.size >= 4096) this.keys.clear();
      key = deriveSigningKey(c.secretAccessKey, p.scopeDate, p.scopeRegion, p.scopeService);
      this.keys.set(id, key);
    }
    return key;
  }
}

/** What development mode checks too: the algorithm, a five-part credential, the date's format, the terminator. */
function checkWellFormed(p: SignatureParams): void {
  if (!AMZ_DATE.test(p.amzDate)) {
    throw new IncompleteSignatureException(
      p.kind === 'query'
        ? `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`
        : `Date must be in ISO-8601 'basic format'. Got '${p.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  if (p.scopeTerminator !== 'aws4_request') {
    throw new InvalidSignatureException(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${p.scopeTerminator}'. `,
    );
  }
}

function checkSessionToken(c: Credential, token: string | undefined, now: number): void {
  if (!c.sessionTokens) {
    if (token !== undefined && token !== '') throw new UnrecognizedClientException();
    return;
  }
  const found = token === undefined ? undefined : c.sessionTokens.find((t) => t.token === token);
  if (!found) throw new UnrecognizedClientException();
  if (found.expiresAt !== undefined && now >= found.expiresAt) throw new ExpiredTokenException();
}
