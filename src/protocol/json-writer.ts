/**
 * JSON bytes for responses, written straight into one Buffer: blobs (Buffer/Uint8Array) as
 * base64 strings, Dates as epoch seconds with millisecond precision (`1459799926.48`), undefined
 * members omitted, non-finite numbers as null.
 *
 * A first pass bounds the size, so the output is allocated once; the second pass writes. Text is
 * kept ASCII (non-ASCII characters become \u escapes), so every string is copied byte for byte.
 * Each blob's base64 text is written as soon as it is made, which keeps a 10,000-record response
 * from holding 10,000 strings alive at once.
 */
export function jsonBytes(value: unknown): Buffer {
  const bound = sizeBound(value);
  out = Buffer.allocUnsafe(bound === undefined ? 4 : bound);
  pos = 0;
  try {
    if (bound === undefined) writeAscii('null');
    else writeValue(value);
    return out.subarray(0, pos);
  } finally {
    out = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
/** Characters that cannot be copied into the text as they are. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u007f-\uffff]/;
const NON_ASCII = /[\u007f-\uffff]/g;
/** Longest text of a JS number, e.g. `-1.2345678901234567e-308`. */
const NUMBER_BOUND = 25;
/** Below this length a JS loop beats a call into the native writer. */
const SHORT = 48;

let out: Buffer = EMPTY;
let pos = 0;

/** An upper bound on the bytes `writeValue` produces; undefined when the value is omitted. */
function sizeBound(value: unknown): number | undefined {
  switch (typeof value) {
    case 'string':
      return stringBound(value);
    case 'number':
      return NUMBER_BOUND;
    case 'boolean':
      return 5;
    case 'bigint':
      return value.toString().length;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let size = 2 + value.length;
        for (let i = 0; i < value.length; i++) size += sizeBound(value[i]) ?? 4;
        return size;
      }
      if (value instanceof Uint8Array) return 4 * Math.ceil(value.length / 3) + 2;
      if (value instanceof Date) return NUMBER_BOUND;
      let size = 2;
      const obj = value as Record<string, unknown>;
      for (const key in obj) {
        const member = sizeBound(obj[key]);
        if (member !== undefined) size += stringBound(key) + 2 + member;
      }
      return size;
    }
    default:
      return undefined;
  }
}

/** Strings are counted as if they need no escaping; `writeEscaped` grows the output when they do. */
function stringBound(s: string): number {
  return s.length + 2;
}

function writeValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeString(value);
      return;
    case 'number':
      writeAscii(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      writeAscii(value ? 'true' : 'false');
      return;
    case 'bigint':
      writeAscii(value.toString());
      return;
    case 'object':
      if (value === null) writeAscii('null');
      else if (Array.isArray(value)) writeArray(value);
      else if (value instanceof Uint8Array) writeBlob(value);
      else if (value instanceof Date) writeEpochSeconds(value);
      else writeObject(value as Record<string, unknown>);
      return;
    default:
      writeAscii('null');
  }
}

function writeArray(items: unknown[]): void {
  out[pos++] = 0x5b; // [
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[pos++] = 0x2c; // ,
    writeValue(items[i]);
  }
  out[pos++] = 0x5d; // ]
}

function writeObject(obj: Record<string, unknown>): void {
  out[pos++] = 0x7b; // {
  let first = true;
  for (const key in obj) {
    const member = obj[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    if (!first) out[pos++] = 0x2c; // ,
    writeKey(key);
    writeValue(member);
    first = false;
  }
  out[pos++] = 0x7d; // }
}

/**
 * Member names that repeat in every entry of a large response (records, result entries, shards,
 * DynamoDB attribute values), with their `"Name":` bytes made once at load and copied in one
 * step. A fixed table: names a request brings (DynamoDB attribute names) never enter it.
 */
const REPEATED_MEMBERS = [
  // Kinesis records, put results, shards and subscription events
  'Records',
  'SequenceNumber',
  'ApproximateArrivalTimestamp',
  'Data',
  'PartitionKey',
  'EncryptionType',
  'ShardId',
  'ErrorCode',
  'ErrorMessage',
  'ContinuationSequenceNumber',
  'MillisBehindLatest',
  'NextShardIterator',
  'ChildShards',
  'ParentShards',
  'ParentShardId',
  'AdjacentParentShardId',
  'HashKeyRange',
  'StartingHashKey',
  'EndingHashKey',
  'SequenceNumberRange',
  'StartingSequenceNumber',
  'EndingSequenceNumber',
  // DynamoDB items and attribute values
  'Items',
  'Item',
  'S',
  'N',
  'B',
  'SS',
  'NS',
  'BS',
  'M',
  'L',
  'NULL',
  'BOOL',
] as const;

const KEY_BYTES: ReadonlyMap<string, Uint8Array> = new Map(
  REPEATED_MEMBERS.map((name) => [name, Uint8Array.from(Buffer.from(`"${name}":`, 'latin1'))]),
);

function writeKey(key: string): void {
  const bytes = KEY_BYTES.get(key);
  if (bytes === undefined) {
    writeString(key);
    out[pos++] = 0x3a; // :
    return;
  }
  out.set(bytes, pos);
  pos += bytes.length;
}

function writeString(s: string): void {
  const n = s.length;
  if (n < SHORT) {
    // Copy and check in one loop; start over escaped at the first character that needs it.
    const target = out;
    let p = pos;
    target[p++] = 0x22; // "
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
        writeEscaped(s);
        return;
      }
      target[p++] = c;
    }
    target[p++] = 0x22;
    pos = p;
    return;
  }
  if (NEEDS_ESCAPE.test(s)) {
    writeEscaped(s);
    return;
  }
  out[pos++] = 0x22;
  pos += out.write(s, pos, 'latin1');
  out[pos++] = 0x22;
}

/** Writes `s` with JSON escapes, first growing the output by what the escapes add. */
function writeEscaped(s: string): void {
  const text = JSON.stringify(s).replace(NON_ASCII, unicodeEscape);
  const extra = text.length - (s.length + 2);
  if (extra > 0) {
    const grown = Buffer.allocUnsafe(out.length + extra);
    out.copy(grown, 0, 0, pos);
    out = grown;
  }
  writeAscii(text);
}

function writeBlob(bytes: Uint8Array): void {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  out[pos++] = 0x22;
  if (buffer.length > 0) pos += out.write(buffer.toString('base64'), pos, 'latin1');
  out[pos++] = 0x22;
}

/** Copies text known to be ASCII. */
function writeAscii(s: string): void {
  const n = s.length;
  if (n < SHORT) {
    const target = out;
    let p = pos;
    for (let i = 0; i < n; i++) target[p++] = s.charCodeAt(i);
    pos = p;
  } else {
    pos += out.write(s, pos, 'latin1');
  }
}

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Epoch seconds with up to three decimals and no trailing zeros (`1459799926.48`), which is
 * also the shortest text of ms / 1000; written from integers, which is much faster.
 */
function writeEpochSeconds(date: Date): void {
  let ms = date.getTime();
  if (Number.isNaN(ms)) {
    writeAscii('null');
    return;
  }
  if (ms < 0) {
    out[pos++] = 0x2d; // -
    ms = -ms;
  }
  const seconds = Math.floor(ms / 1000);
  if (seconds >= 1e9 && seconds < 1e10) {
    // Every date from 2001 to 2286: ten digits.
    const target = out;
    let rest = seconds;
    for (let p = pos + 9; p >= pos; p--) {
      target[p] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    pos += 10;
  } else {
    writeDigits(seconds);
  }
  let fraction = ms - seconds * 1000;
  if (fraction === 0) return;
  out[pos++] = 0x2e; // .
  out[pos++] = 0x30 + Math.floor(fraction / 100);
  fraction %= 100;
  if (fraction === 0) return;
  out[pos++] = 0x30 + Math.floor(fraction / 10);
  fraction %= 10;
  if (fraction === 0) return;
  out[pos++] = 0x30 + fraction;
}

/** A non-negative integer's decimal digits. */
function writeDigits(n: number): void {
  const target = out;
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let p = pos + digits;
  pos = p;
  do {
    target[--p] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
}
