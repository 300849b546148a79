import fc from 'fast-check';
import type { ListShape, MapShape, Shape, StringShape, StructureShape } from '../../../src/protocol/shape.js';

/**
 * Generators that walk an operation's input shape (src/protocol/shape.ts) and produce request
 * values in their wire form (blobs as base64 text, timestamps as epoch seconds), valid by every
 * constraint of the shape, and mutations of them. Values may hold the markers below, which the
 * body writers (./bodies.ts) emit verbatim: a number spelled any way (`1e400`, `-0`, `NaN`), raw
 * bytes inside a string (invalid UTF-8), and arrays or maps nested thousands of levels deep.
 */

/** A JSON number (or any other token) written exactly as given. */
export class RawToken {
  constructor(readonly text: string) {}
}

/** A string whose bytes are written as given between the quotes (may be invalid UTF-8). */
export class RawBytes {
  constructor(readonly bytes: Buffer) {}
}

/** An array (or object) nested `depth` levels deep. */
export class Nested {
  constructor(
    readonly depth: number,
    readonly asObject: boolean,
  ) {}
}

export type WireValue =
  | string
  | Nested
  | number
  | boolean
  | null
  | RawToken
  | RawBytes
  | WireValue[]
  | { [key: string]: WireValue };

/** Arbitraries to use for members of these names instead of the shape's own, at any depth. */
export type Overrides = Readonly<Record<string, fc.Arbitrary<WireValue>>>;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Strings no longer than this are generated freely; longer limits are reached by the boundary mutations. */
const FREE_LENGTH = 24;

function stringArb(shape: StringShape): fc.Arbitrary<WireValue> {
  if (shape.enum) return fc.constantFrom(...shape.enum);
  const min = shape.min ?? 0;
  const max = Math.min(shape.max ?? FREE_LENGTH + min, min + FREE_LENGTH);
  if (shape.regex) return patternArb(shape);
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: max }) },
    { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: max, unit: 'binary' }) },
  );
}

/**
 * The pattern to generate from: negated classes (`\\S`, `[^:*]`) become positive subsets of
 * themselves, which fast-check draws from far faster. Every string it makes still matches `re`.
 */
function generationRegex(re: RegExp): RegExp {
  return new RegExp(re.source.replace(/\\S/g, '[!-~\u00e9\u4e2d]').replace(/\[\^:\*\]/g, '[a-zA-Z0-9 /._-]'));
}

const patternPools = new Map<string, fc.Arbitrary<WireValue>>();

/**
 * Strings that match a shape's pattern and lengths. Drawing from a regular expression is slow in
 * fast-check, so each pattern draws a pool once and then mostly picks from it.
 */
function patternArb(shape: StringShape): fc.Arbitrary<WireValue> {
  const key = `${shape.pattern}/${shape.min}/${shape.max}`;
  let arb = patternPools.get(key);
  if (!arb) {
    const re = shape.regex!;
    // A lone character class repeated (`[a-zA-Z0-9_.-]+`) is drawn at lengths the shape allows.
    const single = /^\[[^\]]+\]\+$/.test(shape.pattern!) && (shape.min ?? 0) > 1;
    const source = single ? new RegExp(`^${shape.pattern!.slice(0, -1)}{${shape.min},${(shape.min ?? 0) + 16}}$`) : generationRegex(re);
    const live = fc
      .stringMatching(source, { size: 'xsmall' })
      .filter((s) => s.length >= (shape.min ?? 0) && s.length <= (shape.max ?? Infinity) && re.test(s));
    const pool = [...new Set(fc.sample(live, { seed: 42, numRuns: 200 }))];
    arb = fc.oneof({ weight: 19, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: live });
    patternPools.set(key, arb);
  }
  return arb;
}

/** A valid wire value of `shape`. */
export function validValue(shape: Shape, overrides: Overrides = {}, depth = 0): fc.Arbitrary<WireValue> {
  switch (shape.kind) {
    case 'string':
      return stringArb(shape);
    case 'integer':
    case 'long': {
      const lo = shape.min ?? (shape.kind === 'long' ? Number.MIN_SAFE_INTEGER : INT_MIN);
      const hi = shape.max ?? (shape.kind === 'long' ? Number.MAX_SAFE_INTEGER : INT_MAX);
      return fc.oneof(fc.integer({ min: Math.max(lo, -1000), max: Math.min(hi, Math.max(lo, -1000) + 2000) }), fc.constantFrom(lo, hi));
    }
    case 'double':
      return fc.double({ min: shape.min ?? -1e9, max: shape.max ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'blob': {
      const min = shape.min ?? 0;
      return fc.uint8Array({ minLength: min, maxLength: min + 48 }).map((a) => Buffer.from(a).toString('base64'));
    }
    case 'timestamp':
      return fc.oneof(fc.integer({ min: 0, max: 4_102_444_800 }), fc.double({ min: 0, max: 4e9, noNaN: true }));
    case 'list':
      return listArb(shape, overrides, depth);
    case 'map':
      return mapArb(shape, overrides, depth);
    case 'structure':
      return structureArb(shape, overrides, depth);
  }
}

/** Past this depth, generated values hold only what their shape requires (recursive shapes stay small). */
const DEEP = 5;

function listArb(shape: ListShape, overrides: Overrides, depth: number): fc.Arbitrary<WireValue> {
  const min = shape.min ?? 0;
  const max = depth > DEEP ? min : Math.min(shape.max ?? min + 3, min + 3);
  return fc.array(validValue(shape.member, overrides, depth + 1), { minLength: min, maxLength: max });
}

function mapArb(shape: MapShape, overrides: Overrides, depth: number): fc.Arbitrary<WireValue> {
  const min = shape.min ?? 0;
  const max = depth > DEEP ? min : Math.min(shape.max ?? min + 3, min + 3);
  return fc
    .uniqueArray(fc.tuple(stringArb(shape.key) as fc.Arbitrary<string>, validValue(shape.value, overrides, depth + 1)), {
      minLength: min,
      maxLength: max,
      selector: ([k]) => k,
    })
    .map((entries) => {
      const out: Record<string, WireValue> = {};
      for (const [k, v] of entries) define(out, k, v);
      return out;
    });
}

function structureArb(shape: StructureShape, overrides: Overrides, depth: number): fc.Arbitrary<WireValue> {
  const model: Record<string, fc.Arbitrary<WireValue>> = {};
  const requiredKeys: string[] = [];
  for (const m of shape.members) {
    if (depth > DEEP && !m.required) continue;
    model[m.name] = overrides[m.name] ?? validValue(m.shape, overrides, depth + 1);
    if (m.required) requiredKeys.push(m.name);
  }
  return fc.record(model, { requiredKeys }) as fc.Arbitrary<WireValue>;
}

/** Sets a key on a plain object, `__proto__` included, as an own enumerable property. */
export function define(obj: Record<string, WireValue>, key: string, value: WireValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/** Where a value sits inside a request: the member names and list indexes leading to it. */
type Path = Array<string | number>;

interface Site {
  path: Path;
  shape: Shape;
  required: boolean;
}

/** Every member reachable in `value` (present or not, for structures), with its shape. */
function sites(value: WireValue, shape: StructureShape, path: Path = [], out: Site[] = []): Site[] {
  if (!isObject(value)) return out;
  for (const m of shape.members) {
    const p = [...path, m.name];
    out.push({ path: p, shape: m.shape, required: m.required });
    const v = value[m.name];
    if (v === undefined) continue;
    if (m.shape.kind === 'structure') sites(v, m.shape, p, out);
    if (m.shape.kind === 'list' && Array.isArray(v)) {
      const member = m.shape.member;
      v.forEach((item, i) => {
        if (member.kind === 'structure') sites(item, member, [...p, i], out);
        else out.push({ path: [...p, i], shape: member, required: false });
      });
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, WireValue> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RawToken) && !(v instanceof RawBytes) && !(v instanceof Nested)
  );
}

/** A deep copy (markers are immutable and shared). */
export function clone(v: WireValue): WireValue {
  if (Array.isArray(v)) return v.map(clone);
  if (isObject(v)) {
    const out: Record<string, WireValue> = {};
    for (const k of Object.keys(v)) define(out, k, clone(v[k]!));
    return out;
  }
  return v;
}

/** Replaces (or, with `undefined`, deletes) the value at `path`; the parent must exist. */
function setAt(root: WireValue, path: Path, value: WireValue | undefined): void {
  let parent: WireValue = root;
  for (let i = 0; i < path.length - 1; i++) {
    const next: WireValue | undefined = (parent as Record<string | number, WireValue>)[path[i]!];
    if (next === undefined || next === null || typeof next !== 'object') return;
    parent = next;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') {
    if (value === undefined) parent.splice(last, 1);
    else parent[last] = value;
  } else if (isObject(parent)) {
    if (value === undefined) delete parent[last as string];
    else define(parent, last as string, value);
  }
}

/** A value of the wrong JSON kind for `shape` (every one of them is a SerializationException). */
function wrongKind(shape: Shape): fc.Arbitrary<WireValue> {
  const str = fc.string({ maxLength: 8 });
  const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const arr = fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }) as fc.Arbitrary<WireValue>;
  const obj = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) as fc.Arbitrary<WireValue>;
  switch (shape.kind) {
    case 'string':
      return fc.oneof(num, fc.boolean(), arr, obj);
    case 'integer':
    case 'long':
    case 'double':
      return fc.oneof(str, fc.boolean(), arr, obj);
    case 'boolean':
      return fc.oneof(str, num, arr, obj);
    case 'blob':
      return fc.oneof(num, fc.boolean(), arr, obj);
    case 'timestamp':
      return fc.oneof(str, fc.boolean(), arr, obj);
    case 'list':
      return fc.oneof(str, num, fc.boolean(), obj);
    case 'map':
    case 'structure':
      return fc.oneof(str, num, fc.boolean(), arr);
  }
}

/** Lengths worth trying for a shape with these bounds: each side of each bound. */
function boundaryLengths(min: number | undefined, max: number | undefined, cap: number): number[] {
  const out = new Set<number>([0, 1]);
  if (min !== undefined) for (const n of [min - 1, min, min + 1]) if (n >= 0) out.add(n);
  if (max !== undefined && max <= cap) for (const n of [max - 1, max, max + 1]) out.add(n);
  return [...out];
}

/** Values at and around the length limits of a string, blob, list or map shape. */
function boundaryValue(shape: Shape, overrides: Overrides): fc.Arbitrary<WireValue> | undefined {
  switch (shape.kind) {
    case 'string': {
      if (shape.enum) return undefined;
      const lengths = boundaryLengths(shape.min, shape.max, 70_000);
      return fc.tuple(fc.constantFrom(...lengths), fc.constantFrom('a', '0', 'é', '\u{1F600}', ' ', '/')).map(([n, ch]) => {
        // Length is counted in UTF-16 code units, as Java counts it.
        const unit = ch.length;
        return ch.repeat(Math.floor(n / unit)) + 'a'.repeat(n % unit);
      });
    }
    case 'blob': {
      const lengths = boundaryLengths(shape.min, shape.max, 70_000);
      return fc.constantFrom(...lengths).map((n) => Buffer.alloc(n, 7).toString('base64'));
    }
    case 'list': {
      const lengths = boundaryLengths(shape.min, shape.max, 600);
      return fc.tuple(fc.constantFrom(...lengths), validValue(shape.member, overrides)).map(([n, item]) => Array.from({ length: n }, () => clone(item)));
    }
    case 'map': {
      const lengths = boundaryLengths(shape.min, shape.max, 300);
      return fc.constantFrom(...lengths).map((n) => {
        const out: Record<string, WireValue> = {};
        for (let i = 0; i < n; i++) out[`k${i}`] = 'v';
        return out;
      });
    }
    case 'integer':
    case 'long': {
      const values = new Set<number>([0, -1, 1]);
      for (const b of [shape.min, shape.max]) if (b !== undefined) for (const d of [-1, 0, 1]) values.add(b + d);
      return fc.constantFrom(...values);
    }
    default:
      return undefined;
  }
}

/** Numbers spelled the ways that break naive readers. */
export const STRANGE_NUMBERS = [
  '1e400',
  '-1e400',
  '-0',
  '0.0',
  '9223372036854775808',
  '9223372036854775807',
  '-9223372036854775809',
  '18446744073709551616',
  '2147483648',
  '-2147483649',
  '1.5',
  '0.999999999999999999999',
  '1e-400',
  '123456789012345678901234567890123456789012345678901234567890',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '01',
  '+1',
  '.5',
  '1.',
  '1e',
  '--1',
];

/** Byte sequences that are not UTF-8: lone continuation bytes, overlongs, surrogates, truncations. */
export const INVALID_UTF8 = [
  [0x80],
  [0xc0, 0x80],
  [0xc3],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff, 0xfe],
  [0xe2, 0x82],
  [0x00],
].map((b) => Buffer.from(b));

export type MutationKind =
  | 'wrong-type'
  | 'missing-required'
  | 'null-member'
  | 'extra-fields'
  | 'boundary'
  | 'strange-number'
  | 'invalid-utf8'
  | 'deep-nesting'
  | 'not-an-object';

export interface Mutated {
  kind: MutationKind;
  value: WireValue;
}

/** A deeply nested array or object, `depth` levels. */
export function nested(depth: number, asObject: boolean): Nested {
  return new Nested(depth, asObject);
}

/**
 * A valid request to `shape` with one mutation applied at a random member. The result is meant to
 * be invalid but need not be (a boundary value may be inside the bounds, an extra field is
 * ignored): callers decide what it is by decoding it as the server does.
 */
export function mutatedValue(shape: StructureShape, overrides: Overrides = {}, maxDepth = 3000): fc.Arbitrary<Mutated> {
  return fc
    .tuple(
      validValue(shape, overrides),
      fc.constantFrom<MutationKind>(
        'wrong-type',
        'wrong-type',
        'missing-required',
        'null-member',
        'extra-fields',
        'boundary',
        'boundary',
        'strange-number',
        'invalid-utf8',
        'deep-nesting',
        'not-an-object',
      ),
      fc.nat(),
      fc.nat(),
    )
    .chain(([base, kind, pick, pick2]): fc.Arbitrary<Mutated> => {
      const all = sites(base, shape);
      if (all.length === 0 || kind === 'not-an-object') {
        return fc
          .constantFrom<WireValue>([], 'x', 1, true, [base], new RawToken('null'))
          .map((value) => ({ kind: 'not-an-object' as const, value }));
      }
      const site = all[pick % all.length]!;
      const at = (value: WireValue | undefined): WireValue => {
        const copy = clone(base);
        setAt(copy, site.path, value);
        return copy;
      };
      switch (kind) {
        case 'wrong-type':
          return wrongKind(site.shape).map((v) => ({ kind, value: at(v) }));
        case 'missing-required': {
          const req = all.filter((s) => s.required);
          const s = req.length > 0 ? req[pick2 % req.length]! : site;
          const copy = clone(base);
          setAt(copy, s.path, undefined);
          return fc.constant({ kind, value: copy });
        }
        case 'null-member':
          return fc.constant({ kind, value: at(null) });
        case 'extra-fields':
          return fc
            .dictionary(
              fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'streamName', 'STREAMNAME', '')),
              fc.oneof(fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<WireValue>, fc.constant(nested(200, false))),
              { minKeys: 1, maxKeys: 4 },
            )
            .map((extra) => {
              const copy = clone(base) as Record<string, WireValue>;
              for (const k of Object.keys(extra)) if (!shape.byName.has(k)) define(copy, k, extra[k]!);
              return { kind, value: copy };
            });
        case 'boundary': {
          const arb = boundaryValue(site.shape, overrides);
          if (!arb) return wrongKind(site.shape).map((v) => ({ kind: 'wrong-type' as const, value: at(v) }));
          return arb.map((v) => ({ kind, value: at(v) }));
        }
        case 'strange-number':
          return fc.constantFrom(...STRANGE_NUMBERS).map((t) => ({ kind, value: at(new RawToken(t)) }));
        case 'invalid-utf8':
          return fc
            .tuple(fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }))
            .map(([bad, before, after]) => ({
              kind,
              value: at(new RawBytes(Buffer.concat([Buffer.from(before), bad, Buffer.from(after)]))),
            }));
        case 'deep-nesting':
          return fc
            .tuple(fc.integer({ min: 2, max: maxDepth }), fc.boolean())
            .map(([depth, asObject]) => ({ kind, value: at(nested(depth, asObject)) }));
        default:
          return fc.constant({ kind, value: base });
      }
    });
}

/**
 * Makes a request certainly invalid: its first member that is not a boolean becomes `true`, any
 * other `"x"` (both are type mismatches the decoder refuses). For operations without members the
 * body becomes a JSON list.
 */
export function forceInvalid(value: WireValue, shape: StructureShape): WireValue {
  const first = shape.members[0];
  if (!first || !isObject(value)) return [];
  const copy = clone(value) as Record<string, WireValue>;
  define(copy, first.name, first.shape.kind === 'boolean' ? 'x' : true);
  // Members are decoded in the body's order: put the bad one first.
  const out: Record<string, WireValue> = {};
  define(out, first.name, copy[first.name]!);
  for (const k of Object.keys(copy)) if (k !== first.name) define(out, k, copy[k]!);
  return out;
}

/** Replaces members of these names, wherever they are in the value, by the given values. */
export function rewriteMembers(value: WireValue, replacements: Readonly<Record<string, WireValue>>): WireValue {
  if (Array.isArray(value)) return value.map((v) => rewriteMembers(v, replacements));
  if (!isObject(value)) return value;
  const out: Record<string, WireValue> = {};
  for (const k of Object.keys(value)) {
    const v = value[k]!;
    const scalar = typeof v === 'string' || v instanceof RawBytes;
    define(out, k, Object.hasOwn(replacements, k) && scalar ? replacements[k]! : rewriteMembers(v, replacements));
  }
  return out;
}
