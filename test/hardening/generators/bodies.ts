import fc from 'fast-check';
import { Nested, RawBytes, RawToken, type WireValue } from './shapes.js';

/**
 * Request bodies from wire values, in JSON (AWS JSON 1.1) and CBOR, written by hand so that the
 * markers of ./shapes.ts come out exactly as meant: numbers spelled as given, strings holding
 * bytes that are not UTF-8, nesting thousands of levels deep. Then body-level damage: truncation,
 * flipped bytes, trailing garbage, and documents no well-behaved writer produces.
 */

export type Format = 'json' | 'cbor';

// ---------------------------------------------------------------------------------------------
// JSON.

export function jsonBody(value: WireValue): Buffer {
  const parts: Buffer[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push(Buffer.from(text, 'utf8'));
    text = '';
  };
  const write = (v: WireValue): void => {
    if (v instanceof RawToken) {
      text += v.text;
    } else if (v instanceof RawBytes) {
      text += '"';
      flush();
      parts.push(v.bytes);
      text += '"';
    } else if (v instanceof Nested) {
      text += v.asObject ? '{"a":'.repeat(v.depth) + '1' + '}'.repeat(v.depth) : '['.repeat(v.depth) + ']'.repeat(v.depth);
    } else if (Array.isArray(v)) {
      text += '[';
      v.forEach((item, i) => {
        if (i > 0) text += ',';
        write(item);
      });
      text += ']';
    } else if (v !== null && typeof v === 'object') {
      text += '{';
      let first = true;
      for (const k of Object.keys(v)) {
        if (!first) text += ',';
        first = false;
        text += JSON.stringify(k) + ':';
        write(v[k]!);
      }
      text += '}';
    } else {
      text += JSON.stringify(v) ?? 'null';
    }
  };
  write(value);
  flush();
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// CBOR (RFC 8949), enough of it to write any wire value and to break the rules on purpose.

function head(major: number, n: number | bigint): Buffer {
  const m = major << 5;
  const v = BigInt(n);
  if (v < 24n) return Buffer.from([m | Number(v)]);
  if (v < 0x100n) return Buffer.from([m | 24, Number(v)]);
  if (v < 0x10000n) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(Number(v), 1);
    return b;
  }
  if (v < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(v), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(v & 0xffffffffffffffffn, 1);
  return b;
}

function float64(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0xfb;
  b.writeDoubleBE(n, 1);
  return b;
}

function cborNumber(n: number): Buffer {
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return n >= 0 ? head(0, n) : head(1, -1 - n);
  return float64(n);
}

/** A numeric token as CBOR: integers of any size (bignums past 64 bits), floats, or its text. */
function cborToken(text: string): Buffer {
  if (/^-?\d+$/.test(text)) {
    const v = BigInt(text);
    if (v >= 0n && v < 1n << 64n) return head(0, v);
    if (v < 0n && -1n - v < 1n << 64n) return head(1, -1n - v);
    const mag = v < 0n ? -1n - v : v;
    let hex = mag.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    const bytes = Buffer.from(hex, 'hex');
    return Buffer.concat([Buffer.from([v < 0n ? 0xc3 : 0xc2]), head(2, bytes.length), bytes]);
  }
  const n = Number(text);
  if (text.trim() !== '' && (!Number.isNaN(n) || text === 'NaN')) return float64(n);
  const t = Buffer.from(text, 'utf8');
  return Buffer.concat([head(3, t.length), t]);
}

export function cborBody(value: WireValue, blobsAsBytes = true, blobMembers: ReadonlySet<string> = BLOB_MEMBERS): Buffer {
  const parts: Buffer[] = [];
  const write = (v: WireValue, key?: string): void => {
    if (v instanceof RawToken) {
      parts.push(cborToken(v.text));
    } else if (v instanceof RawBytes) {
      parts.push(head(3, v.bytes.length), v.bytes);
    } else if (v instanceof Nested) {
      if (v.asObject) {
        parts.push(Buffer.alloc(v.depth * 3).fill(Buffer.from([0xa1, 0x61, 0x61])), Buffer.from([0x01]));
      } else {
        parts.push(Buffer.alloc(v.depth, 0x81), Buffer.from([0x80]));
      }
    } else if (Array.isArray(v)) {
      parts.push(head(4, v.length));
      for (const item of v) write(item, key);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      parts.push(head(5, keys.length));
      for (const k of keys) {
        const kb = Buffer.from(k, 'utf8');
        parts.push(head(3, kb.length), kb);
        write(v[k]!, k);
      }
    } else if (typeof v === 'string') {
      // Blob members travel as byte strings in CBOR; base64 text is what JSON would carry.
      if (blobsAsBytes && key !== undefined && blobMembers.has(key) && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0) {
        const b = Buffer.from(v, 'base64');
        parts.push(head(2, b.length), b);
      } else {
        const b = Buffer.from(v, 'utf8');
        parts.push(head(3, b.length), b);
      }
    } else if (typeof v === 'number') {
      parts.push(cborNumber(v));
    } else if (typeof v === 'boolean') {
      parts.push(Buffer.from([v ? 0xf5 : 0xf4]));
    } else {
      parts.push(Buffer.from([0xf6]));
    }
  };
  write(value);
  return Buffer.concat(parts);
}

/** Members that are blobs in some Kinesis input. */
export const BLOB_MEMBERS: ReadonlySet<string> = new Set(['Data']);

export function body(value: WireValue, format: Format): Buffer {
  return format === 'json' ? jsonBody(value) : cborBody(value);
}

// ---------------------------------------------------------------------------------------------
// Body-level damage.

export type Damage =
  | 'truncate'
  | 'flip-bytes'
  | 'insert-bytes'
  | 'trailing-garbage'
  | 'bom'
  | 'utf16'
  | 'whitespace-flood'
  | 'duplicate-keys';

/** Damages a well-formed body; the result may still parse (a flipped space, a bom the parser takes). */
export function damaged(good: Buffer, format: Format): fc.Arbitrary<{ damage: Damage; body: Buffer }> {
  const kinds: Damage[] =
    format === 'json'
      ? ['truncate', 'flip-bytes', 'insert-bytes', 'trailing-garbage', 'bom', 'utf16', 'whitespace-flood', 'duplicate-keys']
      : ['truncate', 'flip-bytes', 'insert-bytes', 'trailing-garbage'];
  return fc.tuple(fc.constantFrom(...kinds), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([damage, n, bytes]) => {
    const at = good.length === 0 ? 0 : n % good.length;
    switch (damage) {
      case 'truncate':
        return { damage, body: good.subarray(0, at) };
      case 'flip-bytes': {
        const b = Buffer.from(good);
        for (let i = 0; i < bytes.length && b.length > 0; i++) b[(at + i * 7) % b.length]! ^= bytes[i]! | 1;
        return { damage, body: b };
      }
      case 'insert-bytes':
        return { damage, body: Buffer.concat([good.subarray(0, at), Buffer.from(bytes), good.subarray(at)]) };
      case 'trailing-garbage':
        return { damage, body: Buffer.concat([good, format === 'json' ? Buffer.from(['}', ']', 'x', '{}', ' 1', '\u0000'][n % 6]!) : Buffer.from(bytes)]) };
      case 'bom':
        return { damage, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good]) };
      case 'utf16':
        return { damage, body: Buffer.from(good.toString('utf8'), 'utf16le') };
      case 'whitespace-flood':
        return { damage, body: Buffer.concat([Buffer.alloc(1000 + (n % 50_000), 0x20), good, Buffer.alloc(100, 0x0a)]) };
      case 'duplicate-keys': {
        const text = good.toString('utf8');
        return { damage, body: Buffer.from(text.startsWith('{') && text.length > 2 ? `{"StreamName":1,${text.slice(1)}` : `${text}`) };
      }
    }
  });
}

/** Whole JSON documents that are not requests, or not JSON at all. */
export const JSON_GARBAGE: readonly string[] = [
  '',
  ' ',
  '{',
  '}',
  '[',
  'null',
  'true',
  '0',
  '-0',
  '1e400',
  'NaN',
  '"x"',
  '[]',
  '[{}]',
  '{"a"}',
  '{"a":}',
  '{,}',
  "{'StreamName':'a'}",
  '{"StreamName":"a",}',
  '{"StreamName":"a" /* c */}',
  '{"StreamName":"a\u0001"}',
  '{"StreamName":"\\ud800"}',
  '{"StreamName":"\\u00"}',
  '{"StreamName":"\\x41"}',
  '{"Limit":1e400}',
  '{"Limit":-1e400}',
  '{"Limit":NaN}',
  '{"Limit":Infinity}',
  '{"Limit":0x10}',
  '{"Limit":01}',
  '{"Limit":9223372036854775808}',
  '{"Limit":-0}',
  '{"Limit":1.0e+2}',
  '{"__proto__":{"Limit":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '\u0000',
  '\ufeff{}',
  '{}{}',
  '{} x',
];

/** Whole bodies that are not valid CBOR, or CBOR that is not a request. */
export const CBOR_GARBAGE: readonly Buffer[] = [
  [],
  [0xff],
  [0x1c],
  [0xa1],
  [0xa1, 0x61],
  [0xbf],
  [0xbf, 0x61, 0x61, 0x01],
  [0x9f, 0x01, 0x02],
  [0x5f, 0x41, 0x00],
  [0x7f, 0x61, 0x61],
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
  [0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
  [0xa1, 0x01, 0x02],
  [0xa1, 0x41, 0x61, 0x02],
  [0xa1, 0xa0, 0x01],
  [0xa1, 0x80, 0x01],
  [0xc1, 0x61, 0x61],
  [0xc1, 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
  [0xc2, 0x41, 0x01],
  [0xd9, 0xd9, 0xf7, 0xa0],
  [0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0],
  [0xf7],
  [0xf8, 0x10],
  [0xf9, 0x7e, 0x00],
  [0xfa, 0x7f, 0x80, 0x00, 0x00],
  [0x62, 0xc3, 0x28],
  [0xa1, 0x62, 0xc3, 0x28, 0x01],
  [0xa1, 0x6a, ...Buffer.from('StreamName'), 0x62, 0xed, 0xa0],
  [0xa1, 0x65, ...Buffer.from('Limit'), 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
  [0xa1, 0x65, ...Buffer.from('Limit'), 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xa1, 0x65, ...Buffer.from('Limit'), 0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  [0xa0, 0xa0],
  [0xd8, 0x1c, 0x80],
  [0xd8, 0x1d, 0x00],
].map((b) => Buffer.from(b));

/** A deeply nested document: thousands of arrays or maps opening inside each other. */
export function deepDocument(format: Format, depth: number, asObject: boolean, closed: boolean): Buffer {
  if (format === 'json') {
    const open = asObject ? '{"a":'.repeat(depth) : '['.repeat(depth);
    const close = closed ? (asObject ? '1' + '}'.repeat(depth) : ']'.repeat(depth)) : '';
    return Buffer.from(open + close);
  }
  if (asObject) {
    const unit = Buffer.from([0xa1, 0x61, 0x61]);
    return Buffer.concat([Buffer.alloc(depth * 3).fill(unit), closed ? Buffer.from([0x01]) : Buffer.alloc(0)]);
  }
  return Buffer.concat([Buffer.alloc(depth, closed ? 0x81 : 0x9f), closed ? Buffer.from([0x80]) : Buffer.alloc(0)]);
}

/** Any of the above, for an operation whose valid body is `good`. */
export function garbageBody(good: Buffer, format: Format, maxDepth: number): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 4, arbitrary: damaged(good, format).map((d) => d.body) },
    {
      weight: 2,
      arbitrary: format === 'json' ? fc.constantFrom(...JSON_GARBAGE).map((t) => Buffer.from(t, 'utf8')) : fc.constantFrom(...CBOR_GARBAGE),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 100, max: maxDepth }), fc.boolean(), fc.boolean())
        .map(([depth, asObject, closed]) => deepDocument(format, depth, asObject, closed)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  );
}
