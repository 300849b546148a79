import { decodeBase64Strict } from './base64.js';
import { parseCbor, tag1Millis } from './cbor.js';
import { SerializationException } from './errors.js';
import type { Shape, StructureShape } from './shape.js';

export type WireFormat = 'json' | 'cbor';

/**
 * Parses a request body and converts it by the operation's input shape: blobs become Buffers,
 * timestamps Dates, integers are truncated and clamped, unknown members are dropped and `null`
 * members are absent. Any body that cannot be read this way is a SerializationException with
 * the text AWS sends. Constraints (required, lengths, patterns, …) are `validate`'s job.
 *
 * CBOR byte strings come back as views of `body`, not copies.
 */
export function decodeInput(body: Buffer, format: WireFormat, shape: StructureShape): Record<string, unknown> {
  return convertInput(parseBody(body, format), format, shape);
}

/**
 * The first half of decodeInput: a body that is JSON or CBOR at all, whatever its shape (AWS
 * answers one that is not with SerializationException before it looks at anything else).
 */
export function parseBody(body: Buffer, format: WireFormat): unknown {
  if (body.length === 0) throw new SerializationException();
  try {
    return format === 'json' ? JSON.parse(body.toString('utf8')) : parseCbor(body);
  } catch {
    throw new SerializationException();
  }
}

/** The second half of decodeInput: a parsed body converted by the operation's input shape. */
export function convertInput(parsed: unknown, format: WireFormat, shape: StructureShape): Record<string, unknown> {
  if (parsed === null || parsed === undefined) return {};
  return convert(parsed, shape, format === 'cbor') as Record<string, unknown>;
}

type Kind = 'string' | 'number' | 'boolean' | 'list' | 'object' | 'bytes' | 'date' | 'other';

const START_LIST = 'Start of list found where not expected';
const START_OBJECT = 'Start of structure or map found where not expected.';
const UNEXPECTED = 'Unexpected field type';
const BIG_NUMBER = 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber';
const JAVA_BOOLEAN = 'class java.lang.Boolean';
const JAVA_STRING = 'class java.lang.String';

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;
/** ±2^63 as doubles; messages print them as Java's Long.MAX_VALUE / MIN_VALUE. */
export const LONG_MAX = 9223372036854775807;
export const LONG_MIN = -9223372036854775808;

const hasOwn = Object.prototype.hasOwnProperty;

function kindOf(value: unknown): Kind {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object': {
      if (Array.isArray(value)) return 'list';
      if (value instanceof Uint8Array) return 'bytes';
      if (value instanceof Date) return 'date';
      const proto: unknown = Object.getPrototypeOf(value);
      return proto === Object.prototype || proto === null ? 'object' : 'other';
    }
    default:
      return 'other';
  }
}

/** Converts a present, non-null value; returns undefined for null (absent). */
function convert(value: unknown, shape: Shape, cbor: boolean): unknown {
  if (value === null || value === undefined) return undefined;
  const kind = kindOf(value);
  switch (shape.kind) {
    case 'string':
      if (kind === 'string') return value;
      break;
    case 'integer':
    case 'long':
      if (kind === 'number') return toInteger(value as number | bigint, shape.kind === 'long');
      break;
    case 'double':
      if (kind === 'number') return Number(value);
      break;
    case 'boolean':
      if (kind === 'boolean') return value;
      break;
    case 'blob':
      if (kind === 'string') return decodeBase64Strict(value as string);
      if (kind === 'bytes') return asBuffer(value as Uint8Array);
      break;
    case 'timestamp':
      if (kind === 'number') return toDate(Number(value), cbor ? 1 : 1000);
      if (kind === 'date') return toDate(tag1Millis(value as Date), 1);
      break;
    case 'list':
      if (kind === 'list') return convertList(value as unknown[], shape.member, cbor);
      break;
    case 'map':
      if (kind === 'object') return convertMap(value as Record<string, unknown>, shape.value, cbor);
      break;
    case 'structure':
      if (kind === 'object') return convertStructure(value as Record<string, unknown>, shape, cbor);
      break;
  }
  throw new SerializationException(mismatch(shape, kind, value));
}

function convertStructure(obj: Record<string, unknown>, shape: StructureShape, cbor: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // The body's own order, so the first bad member reported is the first one in the document.
  for (const key in obj) {
    if (!hasOwn.call(obj, key)) continue;
    const member = shape.byName.get(key);
    if (member === undefined) continue;
    const converted = convert(obj[key], member.shape, cbor);
    if (converted !== undefined) out[member.name] = converted;
  }
  return out;
}

/** Null elements are kept (as null) so that validation can name them. */
function convertList(items: unknown[], member: Shape, cbor: boolean): unknown[] {
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const converted = convert(items[i], member, cbor);
    out[i] = converted === undefined ? null : converted;
  }
  return out;
}

function convertMap(obj: Record<string, unknown>, value: Shape, cbor: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in obj) {
    if (!hasOwn.call(obj, key)) continue;
    const converted = convert(obj[key], value, cbor);
    const entry = converted === undefined ? null : converted;
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: entry, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = entry;
    }
  }
  return out;
}

function toInteger(value: number | bigint, isLong: boolean): number {
  const max = isLong ? LONG_MAX : INT_MAX;
  const min = isLong ? LONG_MIN : INT_MIN;
  if (typeof value === 'bigint') {
    if (value > BigInt(max)) return max;
    if (value < BigInt(min)) return min;
    return Number(value);
  }
  if (Number.isNaN(value)) throw new SerializationException(UNEXPECTED);
  const n = Math.trunc(value);
  if (n > max) return max;
  if (n < min) return min;
  return n === 0 ? 0 : n;
}

/** `unitMillis` is 1000 for JSON's epoch seconds and 1 for CBOR's epoch milliseconds. */
function toDate(value: number, unitMillis: number): Date {
  const date = new Date(Math.round(value * unitMillis));
  if (Number.isNaN(date.getTime())) throw new SerializationException();
  return date;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function mismatch(shape: Shape, kind: Kind, value: unknown): string {
  if (kind === 'bytes' || kind === 'date' || kind === 'other') return UNEXPECTED;
  switch (shape.kind) {
    case 'list':
      return kind === 'object' ? START_OBJECT : 'Expected list or null';
    case 'map':
      return kind === 'list' ? START_LIST : 'Expected map or null';
    case 'structure':
      return kind === 'list' ? START_LIST : 'Expected null';
    default:
      break;
  }
  if (kind === 'list') return START_LIST;
  if (kind === 'object') return START_OBJECT;
  switch (shape.kind) {
    case 'string':
      return `${kind === 'boolean' ? JAVA_BOOLEAN : BIG_NUMBER} can not be converted to an String`;
    case 'integer':
    case 'long': {
      const target = shape.kind === 'long' ? 'Long' : 'Integer';
      return `${kind === 'boolean' ? JAVA_BOOLEAN : JAVA_STRING} can not be converted to an ${target}`;
    }
    case 'double':
      return `${kind === 'boolean' ? JAVA_BOOLEAN : JAVA_STRING} can not be converted to an Double`;
    case 'boolean':
      return kind === 'string'
        ? `'${(value as string).toUpperCase()}' can not be converted to an Boolean`
        : `${BIG_NUMBER} can not be converted to an Boolean`;
    case 'blob':
      return `${kind === 'boolean' ? JAVA_BOOLEAN : BIG_NUMBER} can not be converted to a Blob`;
    case 'timestamp':
      return `${kind === 'boolean' ? JAVA_BOOLEAN : JAVA_STRING} can not be converted to milliseconds since epoch`;
  }
  return UNEXPECTED;
}
