import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

function bytes(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** The SDK's hash interface over node:crypto, so the SDK's own signer can sign test requests. */
export class NodeSha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export interface SignOptions {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region?: string;
  service?: string;
  date?: Date;
  /** Presign (query string) for this many seconds instead of an Authorization header. */
  presignSeconds?: number;
}

export interface SignedParts {
  path: string;
  headers: Record<string, string>;
}

/** Signs a POST of `body` to `host` with the AWS SDK's own SigV4 signer. */
export async function signPost(
  host: string,
  target: string,
  body: Buffer,
  opts: SignOptions,
  extraHeaders: Record<string, string> = {},
): Promise<SignedParts> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, sessionToken: opts.sessionToken },
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'kinesis',
    sha256: NodeSha256,
  });
  const request = {
    method: 'POST',
    protocol: 'http:',
    hostname: host.split(':')[0]!,
    port: Number(host.split(':')[1]),
    path: '/',
    query: {} as Record<string, string>,
    headers: {
      host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      ...extraHeaders,
    } as Record<string, string>,
    body,
  };
  if (opts.presignSeconds !== undefined) {
    const signed = await signer.presign(request, {
      signingDate: opts.date,
      expiresIn: opts.presignSeconds,
      // The operation travels in its header, as the router reads it; the header is signed.
      unhoistableHeaders: new Set(['x-amz-target', ...Object.keys(extraHeaders)]),
    });
    const q = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return { path: `/?${q}`, headers: signed.headers as Record<string, string> };
  }
  const signed = await signer.sign(request, { signingDate: opts.date });
  return { path: '/', headers: signed.headers as Record<string, string> };
}

export interface PlainResponse {
  status: number;
  type: string | undefined;
  body: Record<string, unknown>;
}

/** Sends a signed request as given (fetch adds nothing that is signed). */
export async function sendSigned(endpoint: string, parts: SignedParts, body: Buffer): Promise<PlainResponse> {
  const headers = { ...parts.headers };
  delete headers.host;
  const res = await fetch(`${endpoint}${parts.path}`, { method: 'POST', headers, body });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('x-amzn-errortype') ?? undefined,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
