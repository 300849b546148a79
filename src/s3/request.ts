import type http from 'node:http';
import type http2 from 'node:http2';

export type IncomingRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** Where an S3 request points and what it carries, read once from the request line and Host. */
export interface S3Request {
  method: string;
  /** Path and query exactly as received (signatures are over these). */
  url: string;
  rawPath: string;
  /** Undefined for the service root (ListBuckets). */
  bucket?: string;
  /** The percent-decoded rest of the path, never normalized; '' for bucket operations. */
  key: string;
  /** Query parameters, decoded; a bare `uploads` is present with the value ''. */
  query: ReadonlyMap<string, string>;
  headers: http.IncomingHttpHeaders;
  /** Whether the bucket came from the Host header. */
  virtualHost: boolean;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Query values: `+` is a literal plus in S3's query strings only when encoded; a raw one is a space. */
function decodeQueryPart(s: string): string {
  return decode(s.replace(/\+/g, ' '));
}

export function header(req: { headers: http.IncomingHttpHeaders }, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Reads the bucket and key: virtual-hosted when Host is `<bucket>.<base>` for one of the base
 * hosts (longest first), path-style otherwise.
 */
export function parseS3Request(req: IncomingRequest, baseHosts: readonly string[]): S3Request {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = new Map<string, string>();
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = decodeQueryPart(eq < 0 ? part : part.slice(0, eq));
      if (!query.has(k)) query.set(k, eq < 0 ? '' : decodeQueryPart(part.slice(eq + 1)));
    }
  }
  const hostHeader = header(req, 'host') ?? header(req, ':authority') ?? '';
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  let bucket: string | undefined;
  let virtualHost = false;
  for (const base of baseHosts) {
    if (host.length > base.length + 1 && host.endsWith(`.${base}`)) {
      bucket = host.slice(0, host.length - base.length - 1);
      virtualHost = true;
      break;
    }
  }
  let key: string;
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (virtualHost) {
    key = decode(path);
  } else {
    const slash = path.indexOf('/');
    const first = slash < 0 ? path : path.slice(0, slash);
    bucket = first === '' ? undefined : decode(first);
    key = slash < 0 ? '' : decode(path.slice(slash + 1));
  }
  return { method: req.method ?? 'GET', url, rawPath, bucket, key, query, headers: req.headers as http.IncomingHttpHeaders, virtualHost };
}
