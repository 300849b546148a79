import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shard iterators are opaque to clients: a version byte, the time of issue, the shard and the
 * offset to read from, and the stream's storage key, followed by a truncated HMAC so that a
 * forged or damaged iterator is refused. They stay valid across restarts (the key is kept in the
 * catalog).
 */
export interface IteratorPosition {
  streamKey: string;
  shardIndex: number;
  offset: number;
  /** Epoch ms when the iterator was issued. */
  issuedAt: number;
}

const VERSION = 1;
const MAC_BYTES = 16;
const FIXED = 1 + 8 + 4 + 8;

export class IteratorCodec {
  constructor(private readonly secret: Buffer) {}

  encode(p: IteratorPosition): string {
    const key = Buffer.from(p.streamKey, 'utf8');
    const buf = Buffer.allocUnsafe(FIXED + key.length + MAC_BYTES);
    buf.writeUInt8(VERSION, 0);
    buf.writeDoubleBE(p.issuedAt, 1);
    buf.writeUInt32BE(p.shardIndex, 9);
    buf.writeDoubleBE(p.offset, 13);
    key.copy(buf, FIXED);
    this.mac(buf.subarray(0, FIXED + key.length)).copy(buf, FIXED + key.length);
    return buf.toString('base64');
  }

  /** The position an iterator names, or undefined when it is not a valid iterator of ours. */
  decode(iterator: string): IteratorPosition | undefined {
    const buf = Buffer.from(iterator, 'base64');
    if (buf.length < FIXED + 1 + MAC_BYTES || buf.toString('base64') !== iterator) return undefined;
    if (buf.readUInt8(0) !== VERSION) return undefined;
    const body = buf.subarray(0, buf.length - MAC_BYTES);
    if (!timingSafeEqual(this.mac(body), buf.subarray(buf.length - MAC_BYTES))) return undefined;
    const offset = buf.readDoubleBE(13);
    const issuedAt = buf.readDoubleBE(1);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isFinite(issuedAt)) return undefined;
    return {
      issuedAt,
      shardIndex: buf.readUInt32BE(9),
      offset,
      streamKey: body.subarray(FIXED).toString('utf8'),
    };
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(data).digest().subarray(0, MAC_BYTES);
  }
}
