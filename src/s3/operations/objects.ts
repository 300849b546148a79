import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { s3ObjectArn } from '../../auth/s3-authorizer.js';
import { readSmallBody, receiveBody } from '../body.js';
import { algorithmOf, BodyDigests, checksumField, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../checksums.js';
import type { S3Context, S3Response } from '../context.js';
import {
  S3Error,
  invalidArgument,
  invalidRange,
  invalidRequest,
  malformedXml,
  noSuchBucket,
  noSuchKey,
  notModified,
  preconditionFailed,
} from '../errors.js';
import { checksumEcho, contentHeadersOf, isoDate, metadataOf, objectHeaders, quoted, xmlResponse } from '../headers.js';
import { MAX_KEY_BYTES } from '../names.js';
import { header } from '../request.js';
import type { ObjectRecord } from '../store.js';
import { childrenNamed, childText, parseXml, XmlSyntaxError, type XmlNode } from '../xml.js';

const unquote = (s: string) => s.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
const etagList = (v: string) => v.split(',').map(unquote);
const seconds = (ms: number) => Math.floor(ms / 1000);

/** If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, with S3's precedence. */
export function checkConditions(o: ObjectRecord, get: (name: string) => string | undefined, now: number, prefix = 'if-'): void {
  const ifMatch = get('if-match');
  const ifNoneMatch = get('if-none-match');
  const ifModified = get('if-modified-since');
  const ifUnmodified = get('if-unmodified-since');
  const modified = seconds(o.lastModified);
  if (ifMatch !== undefined) {
    const list = etagList(ifMatch);
    if (!list.includes('*') && !list.includes(o.etag)) throw preconditionFailed(prefix === 'if-' ? 'If-Match' : 'x-amz-copy-source-If-Match');
  } else if (ifUnmodified !== undefined) {
    const t = Date.parse(ifUnmodified);
    if (Number.isFinite(t) && modified > seconds(t)) throw preconditionFailed(prefix === 'if-' ? 'If-Unmodified-Since' : 'x-amz-copy-source-If-Unmodified-Since');
  }
  const copy = prefix === 'copy';
  if (ifNoneMatch !== undefined) {
    const list = etagList(ifNoneMatch);
    if (list.includes('*') || list.includes(o.etag)) {
      if (copy) throw preconditionFailed('x-amz-copy-source-If-None-Match');
      throw notModified();
    }
  } else if (ifModified !== undefined) {
    const t = Date.parse(ifModified);
    if (Number.isFinite(t) && t <= now && modified <= seconds(t)) {
      if (copy) throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
      throw notModified();
    }
  }
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`: the inclusive range, clamped; undefined for forms served whole. */
export function parseRange(v: string | undefined, size: number): { start: number; end: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(v.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw invalidRange(size);
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw invalidRange(size);
  return { start, end };
}

function conditionalWrite(ctx: S3Context) {
  const inm = header(ctx.r, 'if-none-match');
  const im = header(ctx.r, 'if-match');
  if (inm !== undefined && inm.trim() !== '*') throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  return { ifNoneMatch: inm !== undefined ? true : undefined, ifMatch: im !== undefined ? unquote(im) : undefined };
}

export async function putObject(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const { r } = ctx;
  const headers = contentHeadersOf(r);
  const metadata = metadataOf(r);
  const condition = conditionalWrite(ctx);
  const sink = ctx.store.blob(b.name);
  let received;
  let blob: string;
  try {
    received = await receiveBody(ctx.req, r, sink.stream, { max: ctx.deps.settings.maxObjectBytes, signing: ctx.signing });
    blob = await sink.commit();
  } catch (err) {
    await sink.discard();
    throw err;
  }
  const record: ObjectRecord = {
    bucket: b.name,
    key: r.key,
    size: received.size,
    etag: received.md5.toString('hex'),
    lastModified: ctx.deps.clock.now(),
    headers,
    metadata,
    checksums: received.checksums,
    checksumType: Object.keys(received.checksums).length > 0 ? 'FULL_OBJECT' : undefined,
  };
  if (!(await ctx.store.putObject(record, blob, condition))) {
    throw preconditionFailed(condition.ifNoneMatch ? 'If-None-Match' : 'If-Match');
  }
  return {
    status: 200,
    headers: {
      ETag: quoted(record.etag),
      'x-amz-server-side-encryption': 'AES256',
      ...checksumEcho(record.checksums),
      'x-amz-checksum-type': record.checksumType,
    },
  };
}

function partRange(o: ObjectRecord, partNumber: string): { start: number; end: number; count: number } {
  const n = Number(partNumber);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', partNumber);
  const parts = o.parts ?? [o.size];
  if (n > parts.length) throw invalidRange(o.size);
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += parts[i]!;
  return { start, end: start + parts[n - 1]! - 1, count: parts.length };
}

async function getOrHead(ctx: S3Context, head: boolean): Promise<S3Response> {
  const b = await ctx.bucket();
  const { r } = ctx;
  const o = await ctx.store.object(b.name, r.key);
  if (!o) throw noSuchKey(r.key);
  checkConditions(o, (n) => header(r, n), ctx.now);
  let range: { start: number; end: number } | undefined;
  let partsCount: number | undefined;
  const partNumber = r.query.get('partNumber');
  if (partNumber !== undefined) {
    const p = partRange(o, partNumber);
    range = { start: p.start, end: p.end };
    partsCount = o.parts ? p.count : undefined;
  } else {
    range = parseRange(header(r, 'range'), o.size);
  }
  const whole = range === undefined || (range.start === 0 && range.end === o.size - 1 && partNumber === undefined && header(r, 'range') === undefined);
  const h = objectHeaders(r, o, { checksums: whole });
  h['x-amz-mp-parts-count'] = partsCount;
  if (o.size === 0 || range === undefined) {
    h['Content-Length'] = o.size;
    if (head) return { status: 200, headers: h };
    const read = await ctx.store.read(b.name, r.key);
    if (!read) throw noSuchKey(r.key);
    if (read.record.etag !== o.etag) {
      read.body.destroy();
      return getOrHead(ctx, head);
    }
    return { status: 200, headers: h, body: read.body };
  }
  h['Content-Length'] = range.end - range.start + 1;
  h['Content-Range'] = `bytes ${range.start}-${range.end}/${o.size}`;
  if (head) return { status: 206, headers: h };
  const read = await ctx.store.read(b.name, r.key, range);
  if (!read) throw noSuchKey(r.key);
  if (read.record.etag !== o.etag) {
    read.body.destroy();
    return getOrHead(ctx, head);
  }
  return { status: 206, headers: h, body: read.body };
}

export const getObject = (ctx: S3Context) => getOrHead(ctx, false);
export const headObject = (ctx: S3Context) => getOrHead(ctx, true);

export async function deleteObject(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  await ctx.store.deleteObject(b.name, ctx.r.key);
  return { status: 204 };
}

export async function deleteObjects(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const { r } = ctx;
  const hasDigest = header(r, 'content-md5') !== undefined || CHECKSUM_ALGORITHMS.some((a) => header(r, `x-amz-checksum-${a.toLowerCase()}`) !== undefined) || header(r, 'x-amz-trailer') !== undefined;
  if (!hasDigest) throw invalidRequest('Missing required header for this request: Content-Md5');
  const { body } = await readSmallBody(ctx.req, r, { max: 2 * 1024 * 1024, signing: ctx.signing });
  let keys: string[];
  let quiet: boolean;
  try {
    const doc = parseXml(body.toString('utf8'));
    if (doc.name !== 'Delete') throw malformedXml();
    const objects = childrenNamed(doc, 'Object');
    if (objects.length === 0 || objects.length > 1000) throw malformedXml();
    keys = objects.map((o) => {
      const k = childText(o, 'Key');
      if (k === undefined) throw malformedXml();
      return k;
    });
    quiet = (childText(doc, 'Quiet') ?? '').trim().toLowerCase() === 'true';
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw malformedXml();
    throw err;
  }
  const nodes: XmlNode[] = [];
  for (const key of keys) {
    if (!ctx.allowed({ action: 's3:DeleteObject', resource: s3ObjectArn(b.name, key) })) {
      nodes.push(['Error', [['Key', key], ['Code', 'AccessDenied'], ['Message', 'Access Denied']]]);
      continue;
    }
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
      nodes.push(['Error', [['Key', key], ['Code', 'KeyTooLongError'], ['Message', 'Your key is too long']]]);
      continue;
    }
    await ctx.store.deleteObject(b.name, key);
    if (!quiet) nodes.push(['Deleted', [['Key', key]]]);
  }
  return xmlResponse('DeleteResult', nodes);
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, percent-encoded (botocore) or raw (JS). */
export function parseCopySource(v: string): { bucket: string; key: string } {
  let s = v.trim();
  const q = s.indexOf('?versionId=');
  if (q >= 0) s = s.slice(0, q);
  let decoded: string;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    decoded = s;
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', v);
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

class Digesting extends Transform {
  constructor(private readonly d: BodyDigests) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.d.update(chunk);
    done(null, chunk);
  }
}

/** Copies bytes of a source object (its whole or a range) into a new blob of `bucket`, hashing them. */
export async function copyBytes(ctx: S3Context, bucket: string, body: Readable, algorithms: Iterable<ChecksumAlgorithm>) {
  const digests = new BodyDigests(algorithms);
  const sink = ctx.store.blob(bucket);
  try {
    await pipeline(body, new Digesting(digests), sink.stream);
    const blob = await sink.commit();
    return { blob, size: digests.size, digests: digests.finish() };
  } catch (err) {
    await sink.discard();
    throw err;
  }
}

/** The source of a copy, authorized, found and its copy-source conditions checked. */
export async function copySource(ctx: S3Context) {
  const src = parseCopySource(header(ctx.r, 'x-amz-copy-source')!);
  ctx.authorize({ action: 's3:GetObject', resource: s3ObjectArn(src.bucket, src.key) });
  if (!(await ctx.store.bucket(src.bucket))) throw noSuchBucket(src.bucket);
  const o = await ctx.store.object(src.bucket, src.key);
  if (!o) throw noSuchKey(src.key);
  checkConditions(o, (n) => header(ctx.r, `x-amz-copy-source-${n}`), ctx.now, 'copy');
  return { ...src, record: o };
}

export async function copyObject(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  const { r } = ctx;
  const src = await copySource(ctx);
  const directive = (header(r, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  const requested = algorithmOf(header(r, 'x-amz-checksum-algorithm') ?? '');
  if (src.bucket === b.name && src.key === r.key && directive === 'COPY' && !requested && header(r, 'x-amz-storage-class') === undefined) {
    throw invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const read = await ctx.store.read(src.bucket, src.key);
  if (!read) throw noSuchKey(src.key);
  const algorithms = new Set<ChecksumAlgorithm>(Object.keys(read.record.checksums) as ChecksumAlgorithm[]);
  if (requested) algorithms.add(requested);
  const copied = await copyBytes(ctx, b.name, read.body, algorithms);
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const a of algorithms) checksums[a] = copied.digests.checksums.get(a);
  const record: ObjectRecord = {
    bucket: b.name,
    key: r.key,
    size: copied.size,
    etag: copied.digests.md5.toString('hex'),
    lastModified: ctx.deps.clock.now(),
    headers: directive === 'COPY' ? read.record.headers : contentHeadersOf(r),
    metadata: directive === 'COPY' ? read.record.metadata : metadataOf(r),
    checksums,
    checksumType: algorithms.size > 0 ? 'FULL_OBJECT' : undefined,
  };
  await ctx.store.putObject(record, copied.blob);
  const nodes: XmlNode[] = [['ETag', quoted(record.etag)], ['LastModified', isoDate(record.lastModified)]];
  for (const a of algorithms) nodes.push([checksumField(a), checksums[a]]);
  if (record.checksumType) nodes.push(['ChecksumType', record.checksumType]);
  return xmlResponse('CopyObjectResult', nodes, 200, { 'x-amz-copy-source-version-id': undefined });
}

export async function getObjectTagging(ctx: S3Context): Promise<S3Response> {
  const b = await ctx.bucket();
  if (!(await ctx.store.object(b.name, ctx.r.key))) throw noSuchKey(ctx.r.key);
  return xmlResponse('Tagging', [['TagSet', []]]);
}
