/**
 * DynamoDB attribute values as the request decoder gives them (B and BS as Buffers), their checks,
 * equality and ordering, their stored size, and the order-preserving keys that items are stored
 * under.
 */
import { ValidationException } from '../protocol/errors.js';
import { canonicalNumber, checkNumber, compareNumbers, numberKeyBytes, numberSize } from './numbers.js';

export interface AttributeValue {
  S?: string;
  N?: string;
  B?: Buffer;
  BOOL?: boolean;
  NULL?: boolean;
  M?: AttributeMap;
  L?: AttributeValue[];
  SS?: string[];
  NS?: string[];
  BS?: Buffer[];
}

export type AttributeMap = Record<string, AttributeValue>;

/**
 * Attribute names are data: "__proto__" or "constructor" name attributes like any other. Maps are
 * read through own properties only and written so that "__proto__" stays an own property.
 */
export function memberOf<T>(obj: Record<string, T>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
}

export function setMember<T>(obj: Record<string | number, T>, name: string | number, value: T): void {
  if (name === '__proto__') Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  else obj[name] = value;
}

export type AttributeType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';

export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'];

/** The value's one type. Values are checked (checkValue) before anything asks. */
export function typeOf(v: AttributeValue): AttributeType {
  for (const t of ATTRIBUTE_TYPES) if (v[t] !== undefined) return t;
  throw new ValidationException(EMPTY_VALUE);
}

const EMPTY_VALUE = 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes';
const MANY_TYPES = 'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes';
const INVALID = 'One or more parameter values were invalid: ';
/** DynamoDB documents 32 levels of nesting. */
export const MAX_DEPTH = 32;
export const MAX_ITEM_BYTES = 400 * 1024;

/** Checks one value the way DynamoDB checks values in a request; throws ValidationException. */
export function checkValue(v: AttributeValue, depth = 1): void {
  let types = 0;
  for (const t of ATTRIBUTE_TYPES) if (v[t] !== undefined) types++;
  if (types === 0) throw new ValidationException(EMPTY_VALUE);
  if (types > 1) throw new ValidationException(MANY_TYPES);
  if (v.NULL !== undefined && v.NULL !== true) {
    throw new ValidationException(`${INVALID}Null attribute value types must have the value of true`);
  }
  if (v.N !== undefined) v.N = canonicalNumber(checkNumber(v.N));
  if (v.SS !== undefined) checkSet(v.SS, 'string', (s) => s);
  if (v.NS !== undefined) {
    const canonical = v.NS.map((n) => canonicalNumber(checkNumber(n)));
    // The duplicates message shows the numbers as sent.
    checkSet(v.NS, 'number', (n) => numberKeyBytes(n).toString('hex'));
    v.NS = canonical;
  }
  if (v.BS !== undefined) checkSet(v.BS, 'binary', (b) => b.toString('hex'));
  if (v.M !== undefined || v.L !== undefined) {
    if (depth > MAX_DEPTH) throw new ValidationException('Nesting Levels have exceeded supported limits');
    if (v.M !== undefined) for (const k of Object.keys(v.M)) checkValue(v.M[k]!, depth + 1);
    if (v.L !== undefined) for (const e of v.L) checkValue(e, depth + 1);
  }
}

function checkSet<T>(items: T[], kind: string, id: (x: T) => string): void {
  // Wording as DynamoDB returns it, including its double space.
  if (items.length === 0) throw new ValidationException(`${INVALID}An ${kind} set  may not be empty`);
  const seen = new Set<string>();
  for (const item of items) {
    const k = id(item);
    if (seen.has(k)) {
      const shown = items.map((i) => (Buffer.isBuffer(i) ? i.toString('base64') : String(i)));
      throw new ValidationException(`${INVALID}Input collection [${shown.join(', ')}] contains duplicates.`);
    }
    seen.add(k);
  }
}

export function checkItem(item: AttributeMap): void {
  for (const name of Object.keys(item)) checkValue(item[name]!);
}

/** Deep equality as DynamoDB compares values: numbers numerically, sets without order. */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const t = typeOf(a);
  if (t !== typeOf(b)) return false;
  switch (t) {
    case 'S':
      return a.S === b.S;
    case 'N':
      return compareNumbers(a.N!, b.N!) === 0;
    case 'B':
      return a.B!.equals(b.B!);
    case 'BOOL':
      return a.BOOL === b.BOOL;
    case 'NULL':
      return true;
    case 'SS':
      return sameSet(a.SS!, b.SS!, (s) => s);
    case 'NS':
      return sameSet(a.NS!, b.NS!, (n) => numberKeyBytes(n).toString('hex'));
    case 'BS':
      return sameSet(a.BS!, b.BS!, (x) => x.toString('hex'));
    case 'L':
      return a.L!.length === b.L!.length && a.L!.every((e, i) => valuesEqual(e, b.L![i]!));
    case 'M': {
      const ka = Object.keys(a.M!);
      if (ka.length !== Object.keys(b.M!).length) return false;
      return ka.every((k) => b.M![k] !== undefined && valuesEqual(a.M![k]!, b.M![k]!));
    }
  }
}

function sameSet<T>(a: T[], b: T[], id: (x: T) => string): boolean {
  if (a.length !== b.length) return false;
  const ids = new Set(a.map(id));
  return b.every((x) => ids.has(id(x)));
}

/** Order of two scalars of one type (S by UTF-8 bytes, N numerically, B by unsigned bytes); undefined otherwise. */
export function compareValues(a: AttributeValue, b: AttributeValue): number | undefined {
  if (a.S !== undefined && b.S !== undefined) return Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8'));
  if (a.N !== undefined && b.N !== undefined) return compareNumbers(a.N, b.N);
  if (a.B !== undefined && b.B !== undefined) return Buffer.compare(a.B, b.B);
  return undefined;
}

/** Bytes a value counts toward the 400 KB item limit. */
export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((n, b) => n + b.length, 0);
  if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (v.M !== undefined) {
    let n = 3;
    for (const k of Object.keys(v.M)) n += 1 + Buffer.byteLength(k, 'utf8') + valueSize(v.M[k]!);
    return n;
  }
  return 0;
}

export function itemSize(item: AttributeMap): number {
  let n = 0;
  for (const k of Object.keys(item)) n += Buffer.byteLength(k, 'utf8') + valueSize(item[k]!);
  return n;
}

export function checkItemSize(item: AttributeMap): void {
  if (itemSize(item) > MAX_ITEM_BYTES) throw new ValidationException('Item size has exceeded the maximum allowed size');
}

/** Order-preserving bytes of one key attribute (S, N or B), self-delimiting. */
function keyPartBytes(v: AttributeValue): Buffer {
  if (v.N !== undefined) return numberKeyBytes(v.N);
  const raw = v.S !== undefined ? Buffer.from(v.S, 'utf8') : v.B!;
  // 0x00 becomes 0x00 0xFF and the end is 0x00 0x00: shorter values sort first.
  let zeros = 0;
  for (const b of raw) if (b === 0) zeros++;
  const out = Buffer.alloc(raw.length + zeros + 2);
  let j = 0;
  for (const b of raw) {
    out[j++] = b;
    if (b === 0) out[j++] = 0xff;
  }
  out[j++] = 0;
  out[j] = 0;
  return out;
}

/** The storage key of a hash key value alone: a prefix of the keys of every item with that hash key. */
export function hashKeyPrefix(hash: AttributeValue): string {
  return keyPartBytes(hash).toString('hex');
}

/** The storage key of an item's primary key. */
export function storageKey(hash: AttributeValue, range?: AttributeValue): string {
  return range === undefined ? hashKeyPrefix(hash) : hashKeyPrefix(hash) + keyPartBytes(range).toString('hex');
}

/** A deep copy, so that updates never touch a value another request holds. */
export function cloneValue(v: AttributeValue): AttributeValue {
  if (v.M !== undefined) {
    const m: AttributeMap = {};
    for (const k of Object.keys(v.M)) setMember(m, k, cloneValue(v.M[k]!));
    return { M: m };
  }
  if (v.L !== undefined) return { L: v.L.map(cloneValue) };
  if (v.SS !== undefined) return { SS: [...v.SS] };
  if (v.NS !== undefined) return { NS: [...v.NS] };
  if (v.BS !== undefined) return { BS: [...v.BS] };
  return { ...v };
}

export function cloneItem(item: AttributeMap): AttributeMap {
  const out: AttributeMap = {};
  for (const k of Object.keys(item)) setMember(out, k, cloneValue(item[k]!));
  return out;
}

/** An item as stored: JSON with binary values in base64. */
export function itemToJson(item: AttributeMap): string {
  return JSON.stringify(item, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
      return Buffer.from((value as { data: number[] }).data).toString('base64');
    }
    return value;
  });
}

export function itemFromJson(text: string): AttributeMap {
  const raw = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const out: AttributeMap = {};
  for (const k of Object.keys(raw)) setMember(out, k, valueFromJson(raw[k]!));
  return out;
}

function valueFromJson(raw: Record<string, unknown>): AttributeValue {
  if (raw.B !== undefined) return { B: Buffer.from(raw.B as string, 'base64') };
  if (raw.BS !== undefined) return { BS: (raw.BS as string[]).map((b) => Buffer.from(b, 'base64')) };
  if (raw.M !== undefined) {
    const m: AttributeMap = {};
    const src = raw.M as Record<string, Record<string, unknown>>;
    for (const k of Object.keys(src)) setMember(m, k, valueFromJson(src[k]!));
    return { M: m };
  }
  if (raw.L !== undefined) return { L: (raw.L as Record<string, unknown>[]).map(valueFromJson) };
  return raw as AttributeValue;
}
