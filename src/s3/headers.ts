import { checksumHeader, CHECKSUM_ALGORITHMS } from './checksums.js';
import { S3Error } from './errors.js';
import { header, type S3Request } from './request.js';
import type { ContentHeaders, ObjectRecord } from './store.js';
import { xmlDocument, type XmlNode } from './xml.js';
import type { S3Response } from './context.js';

export const MAX_METADATA_BYTES = 2048;

/** ISO 8601 with milliseconds, as S3 writes dates in XML. */
export const isoDate = (ms: number) => new Date(ms).toISOString();
/** RFC 1123, to the second, as in Last-Modified. */
export const httpDate = (ms: number) => new Date(ms).toUTCString();
export const quoted = (etag: string) => `"${etag}"`;

export function xmlResponse(root: string, nodes: readonly XmlNode[], status = 200, headers: S3Response['headers'] = {}): S3Response {
  return { status, headers: { 'Content-Type': 'application/xml', ...headers }, body: xmlDocument(root, nodes) };
}

/** The content headers a PUT or CreateMultipartUpload stores, `aws-chunked` left out of the encoding. */
export function contentHeadersOf(r: S3Request): ContentHeaders {
  const encoding = header(r, 'content-encoding')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
    .join(',');
  const h: ContentHeaders = {
    contentType: header(r, 'content-type') ?? 'binary/octet-stream',
    contentEncoding: encoding || undefined,
    contentDisposition: header(r, 'content-disposition'),
    contentLanguage: header(r, 'content-language'),
    cacheControl: header(r, 'cache-control'),
    expires: header(r, 'expires'),
  };
  for (const k of Object.keys(h) as (keyof ContentHeaders)[]) if (h[k] === undefined) delete h[k];
  return h;
}

/** `x-amz-meta-*` headers, names lower-cased without the prefix; MetadataTooLarge past 2 KB. */
export function metadataOf(r: S3Request): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(r.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    const k = name.slice('x-amz-meta-'.length);
    out[k] = v;
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size', {
      Size: String(bytes),
      MaxSizeAllowed: String(MAX_METADATA_BYTES),
    });
  }
  return out;
}

const RESPONSE_OVERRIDES: readonly [string, string][] = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

/** The headers GET and HEAD return for an object (checksums only in checksum mode, never for a range). */
export function objectHeaders(r: S3Request, o: ObjectRecord, opts: { checksums: boolean }): Record<string, string | number | undefined> {
  const h: Record<string, string | number | undefined> = {
    ETag: quoted(o.etag),
    'Last-Modified': httpDate(o.lastModified),
    'Accept-Ranges': 'bytes',
    'Content-Type': o.headers.contentType ?? 'binary/octet-stream',
    'Content-Encoding': o.headers.contentEncoding,
    'Content-Disposition': o.headers.contentDisposition,
    'Content-Language': o.headers.contentLanguage,
    'Cache-Control': o.headers.cacheControl,
    Expires: o.headers.expires,
    'x-amz-server-side-encryption': 'AES256',
  };
  for (const [k, v] of Object.entries(o.metadata)) h[`x-amz-meta-${k}`] = v;
  if (opts.checksums && header(r, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    for (const a of CHECKSUM_ALGORITHMS) {
      const v = o.checksums[a];
      if (v !== undefined) h[checksumHeader(a)] = v;
    }
    if (o.checksumType && Object.keys(o.checksums).length > 0) h['x-amz-checksum-type'] = o.checksumType;
  }
  for (const [q, name] of RESPONSE_OVERRIDES) {
    const v = r.query.get(q);
    if (v !== undefined) h[name] = v;
  }
  return h;
}

/** Checksum headers to echo on PUT/UploadPart. */
export function checksumEcho(checksums: Partial<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of CHECKSUM_ALGORITHMS) {
    const v = checksums[a];
    if (v !== undefined) out[checksumHeader(a)] = v;
  }
  return out;
}
