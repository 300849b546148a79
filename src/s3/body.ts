import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsChunkedDecoder, type ChunkSigning } from './chunked.js';
import {
  BodyDigests,
  DIGEST_BYTES,
  algorithmOf,
  checksumHeader,
  type ChecksumAlgorithm,
  CHECKSUM_ALGORITHMS,
} from './checksums.js';
import {
  badDigest,
  checksumMismatch,
  entityTooLarge,
  incompleteBody,
  invalidDigest,
  invalidRequest,
  missingContentLength,
  notImplemented,
  sha256Mismatch,
} from './errors.js';
import { header, type IncomingRequest, type S3Request } from './request.js';

/** What a received body turned out to be, once every declared digest has been checked. */
export interface ReceivedBody {
  size: number;
  md5: Buffer;
  /** Base64 checksums of the algorithms the client sent or named. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** How the payload is framed and signed, from `x-amz-content-sha256`. */
function payloadMode(r: S3Request): { chunked: boolean; signedChunks: boolean; hash?: string } {
  const v = header(r, 'x-amz-content-sha256');
  if (v === undefined || v === 'UNSIGNED-PAYLOAD') return { chunked: false, signedChunks: false };
  if (HEX64.test(v)) return { chunked: false, signedChunks: false, hash: v };
  if (v === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return { chunked: true, signedChunks: false };
  if (v === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || v === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') {
    return { chunked: true, signedChunks: true };
  }
  if (v.startsWith('STREAMING-AWS4-ECDSA')) throw notImplemented();
  throw invalidRequest(`x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a valid sha256 value.`);
}

class Meter extends Transform {
  constructor(private readonly digests: BodyDigests, private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.digests.update(chunk);
    if (this.digests.size > this.max) done(entityTooLarge());
    else done(null, chunk);
  }
}

/**
 * Streams a request body, decoded from aws-chunked when so framed, into `dest`, feeding the MD5
 * and checksums as it goes; then checks Content-MD5, `x-amz-checksum-*` headers and trailers, the
 * hex payload hash and the declared length, throwing S3's error for the first that fails.
 */
export async function receiveBody(
  req: IncomingRequest,
  r: S3Request,
  dest: Writable,
  opts: { max: number; signing?: ChunkSigning; algorithms?: readonly ChecksumAlgorithm[] },
): Promise<ReceivedBody> {
  const mode = payloadMode(r);
  const md5Header = header(r, 'content-md5');
  let md5Wanted: Buffer | undefined;
  if (md5Header !== undefined) {
    md5Wanted = Buffer.from(md5Header, 'base64');
    if (md5Wanted.length !== 16 || md5Wanted.toString('base64') !== md5Header.trim()) throw invalidDigest();
  }
  const wanted = new Map<ChecksumAlgorithm, string | undefined>();
  for (const a of CHECKSUM_ALGORITHMS) {
    const v = header(r, checksumHeader(a));
    if (v === undefined) continue;
    const raw = Buffer.from(v, 'base64');
    if (raw.length !== DIGEST_BYTES[a]) throw invalidRequest(`Value for ${checksumHeader(a)} header is invalid.`);
    wanted.set(a, v);
  }
  const trailer = header(r, 'x-amz-trailer')?.trim().toLowerCase();
  let trailerAlgorithm: ChecksumAlgorithm | undefined;
  if (trailer) {
    if (!mode.chunked) throw invalidRequest('x-amz-trailer is only allowed with an aws-chunked body.');
    trailerAlgorithm = trailer.startsWith('x-amz-checksum-') ? algorithmOf(trailer.slice('x-amz-checksum-'.length)) : undefined;
    if (!trailerAlgorithm) throw invalidRequest(`The value specified in the x-amz-trailer header is not supported`);
  }
  const named = algorithmOf(header(r, 'x-amz-sdk-checksum-algorithm') ?? '');
  const algorithms = new Set<ChecksumAlgorithm>([...wanted.keys(), ...(opts.algorithms ?? [])]);
  if (trailerAlgorithm) algorithms.add(trailerAlgorithm);
  if (named) algorithms.add(named);

  let declared: number | undefined;
  const lengthHeader = header(r, mode.chunked ? 'x-amz-decoded-content-length' : 'content-length');
  if (lengthHeader !== undefined) {
    declared = Number(lengthHeader);
    if (!Number.isSafeInteger(declared) || declared < 0) throw invalidRequest('Invalid content length.');
    if (declared > opts.max) throw entityTooLarge();
  } else if (mode.chunked) {
    throw missingContentLength();
  }

  const digests = new BodyDigests(algorithms);
  const meter = new Meter(digests, opts.max);
  const decoder = mode.chunked ? new AwsChunkedDecoder(mode.signedChunks ? opts.signing : undefined) : undefined;
  if (decoder) await pipeline(req, decoder, meter, dest);
  else await pipeline(req, meter, dest);

  const done = digests.finish();
  if (declared !== undefined && digests.size !== declared) throw incompleteBody();
  if (mode.hash !== undefined && done.sha256.toString('hex') !== mode.hash) {
    throw sha256Mismatch(mode.hash, done.sha256.toString('hex'));
  }
  if (md5Wanted && !md5Wanted.equals(done.md5)) throw badDigest();
  if (trailerAlgorithm) {
    const v = decoder!.trailers.get(checksumHeader(trailerAlgorithm));
    if (v === undefined) throw invalidRequest(`The ${checksumHeader(trailerAlgorithm)} trailer was not sent.`);
    wanted.set(trailerAlgorithm, v);
  }
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const [a, v] of wanted) {
    if (v !== undefined && v !== done.checksums.get(a)) throw checksumMismatch(a);
  }
  for (const a of algorithms) checksums[a] = done.checksums.get(a);
  return { size: digests.size, md5: done.md5, checksums };
}

/** Collects a small body (an XML document) in memory, checked like any other body. */
export async function readSmallBody(req: IncomingRequest, r: S3Request, opts: { max: number; signing?: ChunkSigning }) {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      parts.push(chunk);
      done();
    },
  });
  const received = await receiveBody(req, r, sink, opts);
  return { body: Buffer.concat(parts), received };
}
