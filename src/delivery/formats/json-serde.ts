/**
 * The JSON deserializers of record format conversion: one Firehose record (bytes holding one or
 * more concatenated JSON objects, `{"a":1}{"a":2}`) becomes rows of a Glue table's columns.
 *
 * Both SerDes drop keys that match no column and leave missing columns null. They differ in
 * what they forgive:
 *  - OpenX JSON SerDe: keys match columns case-insensitively unless `CaseInsensitive` is false;
 *    `ConvertDotsInJsonKeysToUnderscores` turns "a.b" into "a_b" before matching;
 *    `ColumnToJsonKeyMappings` names the JSON key of a column (or struct field). Numbers and
 *    booleans are read from strings ("42", "0x2A", "true"); a fraction is cut from a number read into an
 *    integer column; an object or array read into a string column becomes its JSON text.
 *    Timestamps per timestamps.ts (ISO with Z, "yyyy-M-d H:m:s", epoch seconds or millis).
 *  - Hive JSON SerDe: keys match case-insensitively; a string where the schema wants a number
 *    (int, bigint, float, double...) fails the record; timestamps follow `TimestampFormats`
 *    (Joda patterns, `millis`) and then java.sql.Timestamp.valueOf. Column names with dots are
 *    refused, as Firehose documents.
 *
 * Values handed to the Parquet writer: boolean; number for tinyint/smallint/int/float/double;
 * bigint for bigint; bigint unscaled value for decimal (rounded half-up to the scale; a value
 * with more integer digits than the precision allows becomes null, as Hive's decimal does);
 * string for string/char/varchar (char and varchar cut to their length); Uint8Array for binary
 * (base64 in the JSON); number of days for date; bigint microseconds for timestamp; arrays;
 * maps as arrays of {key, value}; structs as objects keyed by field name.
 *
 * A record that fails yields the error code and message Firehose writes under
 * `format-conversion-failed`: `DataFormatConversion.ParseError` ("Encountered malformed JSON.")
 * for text that is not JSON, `DataFormatConversion.MalformedData` for JSON that does not fit the
 * schema ("Data does not match the schema. ..."), for an empty record and for a bare primitive.
 * If any object in a record fails, the whole record fails: its raw bytes are what the error
 * record carries.
 */
import type { HiveType } from './hive-types.js';
import type { TableColumn } from './schema-catalog.js';
import { type TimestampParser, hiveTimestampParser, parseDate, parseOpenXTimestamp } from './timestamps.js';

export interface OpenXJsonSerDeSettings {
  readonly ConvertDotsInJsonKeysToUnderscores?: boolean;
  readonly CaseInsensitive?: boolean;
  readonly ColumnToJsonKeyMappings?: Readonly<Record<string, string>>;
}

export interface HiveJsonSerDeSettings {
  readonly TimestampFormats?: readonly string[];
}

/** Firehose's `InputFormatConfiguration.Deserializer`. */
export interface DeserializerSettings {
  readonly OpenXJsonSerDe?: OpenXJsonSerDeSettings;
  readonly HiveJsonSerDe?: HiveJsonSerDeSettings;
}

export type Row = Record<string, unknown>;

export const PARSE_ERROR = 'DataFormatConversion.ParseError';
export const MALFORMED_DATA = 'DataFormatConversion.MalformedData';

export type DecodeResult =
  | { readonly ok: true; readonly rows: Row[] }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string };

/** A deserializer configuration that cannot work with the table (bad pattern, dotted column...). */
export class DeserializerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeserializerConfigError';
  }
}

/** The value does not fit the column type; the message follows "Data does not match the schema. ". */
class Mismatch extends Error {}

type Coerce = (value: unknown, path: string) => unknown;

interface Rules {
  readonly openx: boolean;
  /** JSON key as found → the key to look up among expected keys. */
  readonly normalizeKey: (key: string) => string;
  /** Column or field name → the normalized JSON key expected for it. */
  readonly expectedKey: (name: string) => string;
  readonly timestamp: TimestampParser;
}

const INT_RANGES = {
  tinyint: [-128, 127],
  smallint: [-32768, 32767],
  int: [-2147483648, 2147483647],
} as const;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Decodes Firehose records into rows of `columns` with the chosen SerDe. */
export class RecordDecoder {
  private readonly decodeRow: Coerce;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(columns: readonly TableColumn[], settings: DeserializerSettings | undefined) {
    const openx = settings?.OpenXJsonSerDe;
    const hive = settings?.HiveJsonSerDe;
    if (openx && hive) throw new DeserializerConfigError('Only one of OpenXJsonSerDe and HiveJsonSerDe can be set.');
    let rules: Rules;
    if (hive) {
      const dotted = columns.find((c) => c.name.includes('.'));
      if (dotted) throw new DeserializerConfigError(`The Hive JSON SerDe does not allow periods in column names: '${dotted.name}'.`);
      let timestamp: TimestampParser;
      try {
        timestamp = hiveTimestampParser(hive.TimestampFormats);
      } catch (err) {
        throw new DeserializerConfigError((err as Error).message);
      }
      rules = { openx: false, normalizeKey: (k) => k.toLowerCase(), expectedKey: (n) => n.toLowerCase(), timestamp };
    } else {
      const caseInsensitive = openx?.CaseInsensitive ?? true;
      const dots = openx?.ConvertDotsInJsonKeysToUnderscores ?? false;
      const normalizeKey = (key: string) => {
        const k = dots ? key.replaceAll('.', '_') : key;
        return caseInsensitive ? k.toLowerCase() : k;
      };
      const mappings = new Map<string, string>();
      for (const [column, jsonKey] of Object.entries(openx?.ColumnToJsonKeyMappings ?? {})) {
        mappings.set(column.toLowerCase(), jsonKey);
      }
      const expectedKey = (name: string) => {
        const mapped = mappings.get(name.toLowerCase());
        return mapped !== undefined ? normalizeKey(mapped) : caseInsensitive ? name.toLowerCase() : name;
      };
      rules = { openx: true, normalizeKey, expectedKey, timestamp: parseOpenXTimestamp };
    }
    this.decodeRow = structCoercer(
      columns.map((c) => ({ name: c.name, type: c.type })),
      rules,
    );
  }

  decode(data: Uint8Array): DecodeResult {
    let text: string;
    try {
      text = this.utf8.decode(data);
    } catch {
      return { ok: false, errorCode: PARSE_ERROR, errorMessage: 'Encountered malformed JSON.' };
    }
    const parsed = splitJsonValues(text);
    if (!parsed.ok) return parsed;
    const rows: Row[] = [];
    for (const value of parsed.values) {
      if (typeof value !== 'object' || value === null) {
        return {
          ok: false,
          errorCode: MALFORMED_DATA,
          errorMessage: 'The input JSON contained a primitive at the top level. The top level must be an object or array.',
        };
      }
      if (Array.isArray(value)) {
        return { ok: false, errorCode: MALFORMED_DATA, errorMessage: 'Data does not match the schema. A JSON array is not a record: send concatenated objects.' };
      }
      try {
        rows.push(this.decodeRow(value, '') as Row);
      } catch (err) {
        if (err instanceof Mismatch) {
          return { ok: false, errorCode: MALFORMED_DATA, errorMessage: `Data does not match the schema. ${err.message}` };
        }
        throw err;
      }
    }
    return { ok: true, rows };
  }
}

/**
 * Splits text holding concatenated JSON values. A single value takes the fast path through
 * JSON.parse; otherwise objects and arrays are cut at their closing bracket (strings and escapes
 * respected) and each piece is parsed on its own.
 */
export function splitJsonValues(text: string): { ok: true; values: unknown[] } | { ok: false; errorCode: string; errorMessage: string } {
  if (/^\s*$/.test(text)) {
    return { ok: false, errorCode: MALFORMED_DATA, errorMessage: 'The record was empty or contained only whitespace.' };
  }
  try {
    return { ok: true, values: [JSON.parse(text)] };
  } catch {
    // not one value: maybe several
  }
  const malformed = { ok: false as const, errorCode: PARSE_ERROR, errorMessage: 'Encountered malformed JSON.' };
  const values: unknown[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    const first = text.charCodeAt(i);
    if (first === 0x7b || first === 0x5b) {
      let depth = 0;
      let inString = false;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
          if (c === 0x5c) i++;
          else if (c === 0x22) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
      if (depth !== 0) return malformed;
    } else {
      while (i < n && !isSpace(text.charCodeAt(i)) && text.charCodeAt(i) !== 0x7b && text.charCodeAt(i) !== 0x5b) i++;
    }
    try {
      values.push(JSON.parse(text.slice(start, i)));
    } catch {
      return malformed;
    }
  }
  return { ok: true, values };
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function where(path: string): string {
  return path === '' ? 'the record' : `'${path}'`;
}

function coercer(type: HiveType, rules: Rules): Coerce {
  switch (type.kind) {
    case 'boolean':
      return (v, path) => {
        if (typeof v === 'boolean') return v;
        if (typeof v === 'string') {
          const lower = v.toLowerCase();
          if (lower === 'true') return true;
          if (lower === 'false') return false;
        }
        throw new Mismatch(`Expected a boolean at ${where(path)} but found ${describe(v)}.`);
      };
    case 'tinyint':
    case 'smallint':
    case 'int': {
      const [min, max] = INT_RANGES[type.kind];
      const kind = type.kind;
      return (v, path) => {
        let n: number;
        if (typeof v === 'number') n = Math.trunc(v);
        else if (typeof v === 'string' && rules.openx) n = Number(parseIntegerText(v));
        else throw new Mismatch(`Expected ${kind} at ${where(path)} but found ${describe(v)}.`);
        if (!(n >= min && n <= max)) throw new Mismatch(`Value ${typeof v === 'string' ? v : String(v)} at ${where(path)} is out of range for ${kind}.`);
        return n;
      };
    }
    case 'bigint':
      return (v, path) => {
        let n: bigint;
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) throw new Mismatch(`Expected bigint at ${where(path)} but found ${describe(v)}.`);
          n = BigInt(Math.trunc(v));
        } else if (typeof v === 'string' && rules.openx) n = parseIntegerText(v);
        else throw new Mismatch(`Expected bigint at ${where(path)} but found ${describe(v)}.`);
        if (n < INT64_MIN || n > INT64_MAX) throw new Mismatch(`Value ${String(v)} at ${where(path)} is out of range for bigint.`);
        return n;
      };
    case 'float':
    case 'double': {
      const kind = type.kind;
      const round = kind === 'float' ? Math.fround : (x: number) => x;
      return (v, path) => {
        if (typeof v === 'number') return round(v);
        if (typeof v === 'string' && rules.openx) {
          const t = v.trim();
          if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(t)) return round(Number(t.replace(/[dDfF]$/, '')));
          if (/^[+-]?(NaN|Infinity)$/.test(t)) return round(Number(t));
          throw new Mismatch(`For input string: ${JSON.stringify(v)}`);
        }
        throw new Mismatch(`Expected ${kind} at ${where(path)} but found ${describe(v)}.`);
      };
    }
    case 'decimal': {
      const { precision, scale } = type;
      return (v, path) => {
        const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : undefined;
        const unscaled = text === undefined ? undefined : parseDecimal(text, scale);
        if (unscaled === undefined) {
          if (typeof v === 'string') throw new Mismatch(`For input string: ${JSON.stringify(v)}`);
          throw new Mismatch(`Expected decimal(${precision},${scale}) at ${where(path)} but found ${describe(v)}.`);
        }
        const limit = 10n ** BigInt(precision);
        return unscaled <= -limit || unscaled >= limit ? null : unscaled;
      };
    }
    case 'string':
    case 'char':
    case 'varchar': {
      const length = type.kind === 'char' || type.kind === 'varchar' ? type.length : undefined;
      const cut = (s: string) => (length === undefined || s.length <= length ? s : [...s].slice(0, length).join(''));
      return (v, path) => {
        if (typeof v === 'string') return cut(v);
        if (typeof v === 'number' || typeof v === 'boolean') return cut(String(v));
        if (rules.openx) return cut(JSON.stringify(v));
        throw new Mismatch(`Expected a string at ${where(path)} but found ${describe(v)}.`);
      };
    }
    case 'binary':
      return (v, path) => {
        if (typeof v === 'string' && /^[A-Za-z0-9+/\s]*={0,2}$/.test(v)) return new Uint8Array(Buffer.from(v, 'base64'));
        throw new Mismatch(`Expected base64 binary at ${where(path)} but found ${describe(v)}.`);
      };
    case 'date':
      return (v, path) => {
        const days = typeof v === 'string' ? parseDate(v.trim()) : undefined;
        if (days === undefined) throw new Mismatch(`Expected a date (yyyy-mm-dd) at ${where(path)} but found ${describe(v)}.`);
        return days;
      };
    case 'timestamp':
      return (v, path) => {
        const micros = typeof v === 'number' || typeof v === 'string' ? rules.timestamp(typeof v === 'string' ? v.trim() : v) : undefined;
        if (micros === undefined) throw new Mismatch(`Expected a timestamp at ${where(path)} but found ${describe(v)}.`);
        return micros;
      };
    case 'array': {
      const element = coercer(type.element, rules);
      return (v, path) => {
        if (!Array.isArray(v)) throw new Mismatch(`Expected an array at ${where(path)} but found ${describe(v)}.`);
        return v.map((item, i) => (item === null ? null : element(item, `${path}[${i}]`)));
      };
    }
    case 'map': {
      const key = coercer(type.key, { ...rules, openx: true });
      const value = coercer(type.value, rules);
      return (v, path) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          throw new Mismatch(`Expected an object for a map at ${where(path)} but found ${describe(v)}.`);
        }
        const entries: { key: unknown; value: unknown }[] = [];
        for (const [k, item] of Object.entries(v)) {
          const sub = `${path}.${k}`;
          entries.push({ key: key(k, sub), value: item === null ? null : value(item, sub) });
        }
        return entries;
      };
    }
    case 'struct':
      return structCoercer(type.fields, rules);
  }
}

function structCoercer(fields: readonly { name: string; type: HiveType }[], rules: Rules): Coerce {
  const coercers = fields.map((f) => coercer(f.type, rules));
  const names = fields.map((f) => f.name);
  const index = new Map<string, number>();
  fields.forEach((f, i) => index.set(rules.expectedKey(f.name), i));
  const normalize = rules.normalizeKey;
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new Mismatch(`Expected an object at ${where(path)} but found ${describe(v)}.`);
    }
    const out: Row = {};
    for (const name of names) out[name] = null;
    for (const key in v) {
      const i = index.get(normalize(key));
      if (i === undefined) continue;
      const item = (v as Record<string, unknown>)[key];
      const name = names[i]!;
      out[name] = item === null || item === undefined ? null : coercers[i]!(item, path === '' ? name : `${path}.${name}`);
    }
    return out;
  };
}

/** OpenX's integer text: decimal digits with an optional sign, or 0x-prefixed hexadecimal. */
function parseIntegerText(text: string): bigint {
  if (/^[+-]?\d+$/.test(text)) return BigInt(text);
  const hex = /^0[xX]([0-9a-fA-F]+)$/.exec(text);
  if (hex) return BigInt(`0x${hex[1]}`);
  throw new Mismatch(`For input string: ${JSON.stringify(text)}`);
}

/** Exact decimal text → unscaled bigint at `scale`, rounding half away from zero; undefined if not a number. */
export function parseDecimal(text: string, scale: number): bigint | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const negative = m[1] === '-';
  let digits = `${m[2]}${m[3] ?? ''}`;
  const exponent = -(m[3] ?? '').length + (m[4] ? Number(m[4]) : 0);
  if (Math.abs(exponent) > 400) return undefined;
  // shift to the target scale: value = digits * 10^exponent, want digits' * 10^-scale
  const shift = exponent + scale;
  let unscaled: bigint;
  if (shift >= 0) unscaled = BigInt(digits || '0') * 10n ** BigInt(shift);
  else {
    const drop = -shift;
    if (drop > digits.length) digits = digits.padStart(drop, '0');
    const kept = digits.slice(0, digits.length - drop) || '0';
    const firstDropped = Number(digits[digits.length - drop]);
    unscaled = BigInt(kept) + (firstDropped >= 5 ? 1n : 0n);
  }
  return negative ? -unscaled : unscaled;
}
