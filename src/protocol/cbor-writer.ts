/**
 * CBOR bytes for responses, written straight into one Buffer, the AWS way: Dates as tag 1 around
 * integer epoch milliseconds, integers in their shortest form (beyond 32 bits as 8-byte
 * integers, never doubles), other numbers as 64-bit floats, Buffers as byte strings, strings as
 * text strings, arrays and objects with definite lengths, undefined members omitted.
 *
 * A first pass computes the exact size, so the output is allocated once and each blob is copied
 * once; the second pass writes.
 */
export function cborBytes(value: unknown): Buffer {
  const size = sizeOf(value);
  out = Buffer.allocUnsafe(size);
  pos = 0;
  try {
    writeValue(value);
    return out.subarray(0, pos);
  } finally {
    out = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
let out: Buffer = EMPTY;
let pos = 0;
/** Below this length a JS loop beats a call into the native writer. */
const SHORT = 64;

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;

function isMember(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

/** Bytes of a head (major type and argument) for `n`. */
function headSize(n: number): number {
  if (n < 24) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffffff) return 5;
  return 9;
}

/** UTF-8 length of a string; for ASCII (the common case) its length. */
function textBytes(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

function sizeOf(value: unknown): number {
  switch (typeof value) {
    case 'string': {
      const n = textBytes(value);
      return headSize(n) + n;
    }
    case 'number':
      if (Number.isSafeInteger(value)) return headSize(value < 0 ? -1 - value : value);
      return 9;
    case 'boolean':
      return 1;
    case 'bigint':
      return 9;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return headSize(value.length) + value.length;
      if (value instanceof Date) return 1 + sizeOf(value.getTime());
      if (Array.isArray(value)) {
        let size = headSize(value.length);
        for (let i = 0; i < value.length; i++) size += isMember(value[i]) ? sizeOf(value[i]) : 1;
        return size;
      }
      const obj = value as Record<string, unknown>;
      let count = 0;
      let size = 0;
      for (const key in obj) {
        const member = obj[key];
        if (!isMember(member)) continue;
        count++;
        size += sizeOf(key) + sizeOf(member);
      }
      return headSize(count) + size;
    }
    default:
      return 1;
  }
}

function writeHead(major: number, n: number): void {
  const m = major << 5;
  if (n < 24) {
    out[pos++] = m | n;
  } else if (n <= 0xff) {
    out[pos++] = m | 24;
    out[pos++] = n;
  } else if (n <= 0xffff) {
    out[pos++] = m | 25;
    out.writeUInt16BE(n, pos);
    pos += 2;
  } else if (n <= 0xffffffff) {
    out[pos++] = m | 26;
    out.writeUInt32BE(n, pos);
    pos += 4;
  } else {
    out[pos++] = m | 27;
    const hi = Math.floor(n / 0x100000000);
    out.writeUInt32BE(hi, pos);
    out.writeUInt32BE(n - hi * 0x100000000, pos + 4);
    pos += 8;
  }
}

function writeInteger(n: number): void {
  if (n >= 0) writeHead(MAJOR_UNSIGNED, n);
  else writeHead(MAJOR_NEGATIVE, -1 - n);
}

function writeValue(value: unknown): void {
  switch (typeof value) {
    case 'string': {
      const n = textBytes(value);
      writeHead(MAJOR_TEXT, n);
      if (n !== value.length) {
        pos += out.write(value, pos, n, 'utf8');
      } else if (n < SHORT) {
        for (let i = 0; i < n; i++) out[pos++] = value.charCodeAt(i);
      } else {
        pos += out.write(value, pos, n, 'latin1');
      }
      return;
    }
    case 'number':
      if (Number.isSafeInteger(value)) {
        writeInteger(value);
      } else {
        out[pos++] = 0xfb;
        out.writeDoubleBE(value, pos);
        pos += 8;
      }
      return;
    case 'boolean':
      out[pos++] = value ? 0xf5 : 0xf4;
      return;
    case 'bigint':
      if (value >= 0n) {
        out[pos++] = (MAJOR_UNSIGNED << 5) | 27;
        out.writeBigUInt64BE(value, pos);
      } else {
        out[pos++] = (MAJOR_NEGATIVE << 5) | 27;
        out.writeBigUInt64BE(-1n - value, pos);
      }
      pos += 8;
      return;
    case 'object':
      if (value === null) {
        out[pos++] = 0xf6;
      } else if (value instanceof Uint8Array) {
        writeHead(MAJOR_BYTES, value.length);
        out.set(value, pos);
        pos += value.length;
      } else if (value instanceof Date) {
        out[pos++] = 0xc1; // tag 1
        writeInteger(value.getTime());
      } else if (Array.isArray(value)) {
        writeHead(MAJOR_ARRAY, value.length);
        for (let i = 0; i < value.length; i++) writeValue(isMember(value[i]) ? value[i] : null);
      } else {
        const obj = value as Record<string, unknown>;
        let count = 0;
        for (const key in obj) if (isMember(obj[key])) count++;
        writeHead(MAJOR_MAP, count);
        for (const key in obj) {
          const member = obj[key];
          if (!isMember(member)) continue;
          writeValue(key);
          writeValue(member);
        }
      }
      return;
    default:
      out[pos++] = 0xf6;
  }
}
