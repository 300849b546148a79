import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { chunkStringToSign, trailerStringToSign } from '../auth/sigv4.js';
import { incompleteBody, invalidRequest, signatureDoesNotMatch } from './errors.js';

/** What checking chunk signatures needs: the seed signature and the request's signing material. */
export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

const MAX_LINE = 8192;

type State = 'size' | 'data' | 'crlf' | 'trailer' | 'done';

/**
 * Decodes an aws-chunked body (`<hex>[;chunk-signature=<sig>]\r\n<data>\r\n … 0…\r\n[trailer]\r\n`)
 * into its data as it streams. With `signing`, every chunk's signature (and the trailer's, when
 * present) is checked against the chain seeded by the request's own signature. Trailer lines are
 * kept in `trailers` (lower-case names) once the stream ends.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private previous: string | undefined;
  private readonly trailerLines: string[] = [];

  constructor(private readonly signing?: ChunkSigning) {
    super();
    this.previous = signing?.seed;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // A sender may leave out the final blank line after the last chunk or trailer.
    if (this.state === 'trailer' && this.line === '') this.finishTrailer();
    if (this.state !== 'done') done(incompleteBody());
    else done();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'data': {
          const take = Math.min(this.remaining, buf.length - i);
          const piece = buf.subarray(i, i + take);
          this.chunkHash?.update(piece);
          this.push(piece);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 'crlf';
          break;
        }
        case 'done':
          if (buf.subarray(i).toString('latin1').trim() !== '') throw invalidRequest('Data found after the final chunk.');
          return;
        default: {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl;
          this.line += buf.toString('latin1', i, end);
          if (this.line.length > MAX_LINE) throw invalidRequest('A chunk header or trailer line is too long.');
          i = end;
          if (nl < 0) break;
          i = nl + 1;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          this.onLine(line);
        }
      }
    }
  }

  private onLine(line: string): void {
    if (this.state === 'crlf') {
      if (line !== '') throw invalidRequest('A chunk did not end where its size said.');
      this.endChunk();
      this.state = 'size';
      return;
    }
    if (this.state === 'size') {
      const semi = line.indexOf(';');
      const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
      if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw invalidRequest(`Invalid chunk size '${hex}'.`);
      const size = parseInt(hex, 16);
      const ext = semi < 0 ? '' : line.slice(semi + 1);
      const sig = /(?:^|;)\s*chunk-signature=([0-9a-f]{64})/.exec(ext)?.[1];
      this.chunkSignature = sig;
      if (this.signing && sig === undefined) throw signatureDoesNotMatch('A chunk has no chunk-signature.');
      this.chunkHash = this.signing ? createHash('sha256') : undefined;
      if (size === 0) {
        this.endChunk();
        this.state = 'trailer';
      } else {
        this.remaining = size;
        this.state = 'data';
      }
      return;
    }
    // trailer
    if (line === '') {
      this.finishTrailer();
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalidRequest('Malformed trailer.');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    this.trailers.set(name, value);
    if (name !== 'x-amz-trailer-signature') this.trailerLines.push(`${name}:${value}\n`);
  }

  private endChunk(): void {
    if (!this.signing) return;
    const data = this.chunkHash!.digest();
    const toSign = chunkStringToSignFromHash(this.signing, this.previous!, data);
    this.check(toSign, this.chunkSignature!);
  }

  private finishTrailer(): void {
    this.state = 'done';
    if (!this.signing) return;
    const sig = this.trailers.get('x-amz-trailer-signature');
    if (this.trailerLines.length === 0 && sig === undefined) return;
    if (sig === undefined) throw signatureDoesNotMatch('The trailer has no x-amz-trailer-signature.');
    this.check(trailerStringToSign(this.signing.amzDate, this.signing.scope, this.previous!, this.trailerLines.join('')), sig);
  }

  private check(toSign: string, given: string): void {
    const expected = createHmac('sha256', this.signing!.signingKey).update(toSign).digest('hex');
    const a = Buffer.from(given);
    if (a.length !== expected.length || !timingSafeEqual(a, Buffer.from(expected))) throw signatureDoesNotMatch();
    this.previous = expected;
  }
}

/** chunkStringToSign over a digest already taken (the chunk itself has streamed on). */
function chunkStringToSignFromHash(s: ChunkSigning, previous: string, digest: Buffer): string {
  const empty = chunkStringToSign(s.amzDate, s.scope, previous, Buffer.alloc(0));
  return empty.slice(0, empty.lastIndexOf('\n') + 1) + digest.toString('hex');
}
