import http2 from 'node:http2';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export const SIGNED = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd',
  'x-amz-date': '20260101T000000Z',
};

/** One request over HTTP/1.1 with fetch (which speaks HTTP/1.1 to http:// URLs). */
export async function http1(
  endpoint: string,
  target: string | undefined,
  body: string | Buffer,
  headers: Record<string, string> = {},
  contentType = 'application/x-amz-json-1.1',
): Promise<RawResponse> {
  const h: Record<string, string> = { 'content-type': contentType, ...SIGNED, ...headers };
  if (target) h['x-amz-target'] = target;
  const res = await fetch(endpoint, { method: 'POST', headers: h, body });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) };
}

/** One request over HTTP/2 with prior knowledge (h2c). */
export function h2c(
  endpoint: string,
  target: string,
  body: string | Buffer,
  contentType = 'application/x-amz-json-1.1',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(endpoint);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': '/',
      'content-type': contentType,
      'x-amz-target': target,
      ...SIGNED,
    });
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h as typeof headers;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status, headers, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
    req.end(body);
  });
}
