import { crc32 } from 'node:zlib';

/** A decoded event-stream message. Header values keep their type. */
export interface DecodedMessage {
  headers: Record<string, HeaderValue>;
  payload: Buffer;
  /** The whole frame, as received. */
  raw: Buffer;
}

export type HeaderValue =
  | { type: 'bool'; value: boolean }
  | { type: 'byte' | 'short' | 'int'; value: number }
  | { type: 'long' | 'timestamp'; value: bigint }
  | { type: 'bytes'; value: Buffer }
  | { type: 'string'; value: string }
  | { type: 'uuid'; value: string };

export class FrameError extends Error {}

/**
 * Decodes one message from the start of `buf`, checking both CRCs and every length. Written from
 * the framing description alone, to check the server's encoder against an independent reader.
 */
export function decodeMessage(buf: Buffer): DecodedMessage {
  if (buf.length < 16) throw new FrameError(`a message needs at least 16 bytes, got ${buf.length}`);
  const total = buf.readUInt32BE(0);
  const headersLength = buf.readUInt32BE(4);
  if (crc32(buf.subarray(0, 8)) !== buf.readUInt32BE(8)) throw new FrameError('prelude CRC mismatch');
  if (total < 16 || total > buf.length) throw new FrameError(`bad total length ${total}`);
  if (headersLength > total - 16) throw new FrameError(`bad headers length ${headersLength}`);
  if (crc32(buf.subarray(0, total - 4)) !== buf.readUInt32BE(total - 4)) throw new FrameError('message CRC mismatch');
  const headers: Record<string, HeaderValue> = {};
  let pos = 12;
  const end = 12 + headersLength;
  while (pos < end) {
    const nameLength = buf.readUInt8(pos);
    const name = buf.toString('utf8', pos + 1, pos + 1 + nameLength);
    pos += 1 + nameLength;
    const type = buf.readUInt8(pos);
    pos += 1;
    let value: HeaderValue;
    switch (type) {
      case 0:
      case 1:
        value = { type: 'bool', value: type === 0 };
        break;
      case 2:
        value = { type: 'byte', value: buf.readInt8(pos) };
        pos += 1;
        break;
      case 3:
        value = { type: 'short', value: buf.readInt16BE(pos) };
        pos += 2;
        break;
      case 4:
        value = { type: 'int', value: buf.readInt32BE(pos) };
        pos += 4;
        break;
      case 5:
      case 8:
        value = { type: type === 5 ? 'long' : 'timestamp', value: buf.readBigInt64BE(pos) };
        pos += 8;
        break;
      case 6:
      case 7: {
        const n = buf.readUInt16BE(pos);
        const bytes = buf.subarray(pos + 2, pos + 2 + n);
        value = type === 6 ? { type: 'bytes', value: Buffer.from(bytes) } : { type: 'string', value: bytes.toString('utf8') };
        pos += 2 + n;
        break;
      }
      case 9:
        value = { type: 'uuid', value: buf.toString('hex', pos, pos + 16) };
        pos += 16;
        break;
      default:
        throw new FrameError(`unknown header type ${type}`);
    }
    if (pos > end) throw new FrameError('header runs past the headers section');
    headers[name] = value;
  }
  return { headers, payload: Buffer.from(buf.subarray(end, total - 4)), raw: Buffer.from(buf.subarray(0, total)) };
}

/** The string value of a header, or undefined. */
export function header(m: DecodedMessage, name: string): string | undefined {
  const h = m.headers[name];
  return h?.type === 'string' ? h.value : undefined;
}

/** Splits a byte stream into messages as they complete. */
export class MessageReader {
  private chunks: Buffer[] = [];
  private length = 0;

  /** Feeds bytes; returns the messages they complete. */
  push(chunk: Buffer): DecodedMessage[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out: DecodedMessage[] = [];
    while (this.length >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.flatten();
      const total = head.readUInt32BE(0);
      if (this.length < total) break;
      const all = this.flatten();
      out.push(decodeMessage(all.subarray(0, total)));
      const rest = all.subarray(total);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.length = rest.length;
    }
    return out;
  }

  /** Bytes received that do not yet make a whole message. */
  get pending(): number {
    return this.length;
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0]!;
  }
}
