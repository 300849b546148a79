/**
 * A small type language for operation shapes. An operation's input is one StructureShape built
 * with the constructors below; `decodeInput` converts a body by it and `validate` checks it.
 * Everything a check needs (compiled patterns, enum sets, rule texts) is computed here, once.
 */

export type Shape =
  | StringShape
  | IntegerShape
  | DoubleShape
  | BooleanShape
  | BlobShape
  | TimestampShape
  | ListShape
  | MapShape
  | StructureShape;

export interface StringShape {
  readonly kind: 'string';
  readonly min?: number;
  readonly max?: number;
  /** The pattern as the model writes it (and as messages print it). */
  readonly pattern?: string;
  /** The pattern compiled to match the whole string. */
  readonly regex?: RegExp;
  /** Allowed values, in the order messages list them. */
  readonly enum?: readonly string[];
  readonly enumSet?: ReadonlySet<string>;
}

/** `integer` is a 32-bit Java int, `long` a 64-bit Java long; both clamp on decode. */
export interface IntegerShape {
  readonly kind: 'integer' | 'long';
  readonly min?: number;
  readonly max?: number;
}

/** A Java double: any finite number. */
export interface DoubleShape {
  readonly kind: 'double';
  readonly min?: number;
  readonly max?: number;
}

export interface BooleanShape {
  readonly kind: 'boolean';
}

export interface BlobShape {
  readonly kind: 'blob';
  readonly min?: number;
  readonly max?: number;
}

export interface TimestampShape {
  readonly kind: 'timestamp';
}

export interface ListShape {
  readonly kind: 'list';
  readonly member: Shape;
  readonly min?: number;
  readonly max?: number;
  /** For scalar members with constraints: the one rule reported at the list's own path. */
  readonly memberRule?: string;
}

export interface MapShape {
  readonly kind: 'map';
  readonly key: StringShape;
  readonly value: Shape;
  readonly min?: number;
  readonly max?: number;
  readonly keyRule?: string;
  readonly valueRule?: string;
}

export interface Member {
  /** The wire name, e.g. `StreamName`. */
  readonly name: string;
  /** The name as validation paths print it, e.g. `streamName`. */
  readonly path: string;
  readonly shape: Shape;
  readonly required: boolean;
}

export interface StructureShape {
  readonly kind: 'structure';
  readonly name: string;
  /** In the order validation visits them. */
  readonly members: readonly Member[];
  readonly byName: ReadonlyMap<string, Member>;
  /** How an element of a list of this structure prints in a validation message. */
  readonly printedAs: string;
}

/** A structure member that must be present. */
export interface Required {
  readonly required: true;
  readonly shape: Shape;
}

interface Lengths {
  min?: number;
  max?: number;
}

export interface StringConstraints extends Lengths {
  pattern?: string;
  enum?: readonly string[];
}

export function string(c: StringConstraints = {}): StringShape {
  const shape: {
    kind: 'string';
    min?: number;
    max?: number;
    pattern?: string;
    regex?: RegExp;
    enum?: readonly string[];
    enumSet?: ReadonlySet<string>;
  } = { kind: 'string' };
  if (c.min !== undefined) shape.min = c.min;
  if (c.max !== undefined) shape.max = c.max;
  if (c.pattern !== undefined) {
    shape.pattern = c.pattern;
    // Patterns with Unicode property classes (`\p{L}`) need the `u` flag to mean what they say.
    shape.regex = new RegExp(`^(?:${c.pattern})$`, c.pattern.includes('\\p{') ? 'u' : '');
  }
  if (c.enum !== undefined) {
    shape.enum = Object.freeze([...c.enum]);
    shape.enumSet = new Set(c.enum);
  }
  return Object.freeze(shape);
}

export function integer(c: Lengths = {}): IntegerShape {
  return Object.freeze({ kind: 'integer', ...bounds(c) });
}

export function long(c: Lengths = {}): IntegerShape {
  return Object.freeze({ kind: 'long', ...bounds(c) });
}

export function double(c: Lengths = {}): DoubleShape {
  return Object.freeze({ kind: 'double', ...bounds(c) });
}

export function boolean(): BooleanShape {
  return BOOLEAN;
}

export function blob(c: Lengths = {}): BlobShape {
  return Object.freeze({ kind: 'blob', ...bounds(c) });
}

export function timestamp(): TimestampShape {
  return TIMESTAMP;
}

export function list(member: Shape, c: Lengths = {}): ListShape {
  const rules = scalarRules(member);
  return Object.freeze({
    kind: 'list',
    member,
    ...bounds(c),
    ...(rules.length > 0 ? { memberRule: `Member must satisfy constraint: [${rules.join(', ')}]` } : {}),
  });
}

export function map(key: StringShape, value: Shape, c: Lengths = {}): MapShape {
  const keyRules = scalarRules(key);
  const valueRules = scalarRules(value);
  return Object.freeze({
    kind: 'map',
    key,
    value,
    ...bounds(c),
    ...(keyRules.length > 0 ? { keyRule: `Map keys must satisfy constraint: [${keyRules.join(', ')}]` } : {}),
    ...(valueRules.length > 0
      ? { valueRule: `Map value must satisfy constraint: [${valueRules.join(', ')}]` }
      : {}),
  });
}

/**
 * A structure whose members are listed in validation order. A member is a shape (optional) or
 * `required(shape)`. `printedAs` is how a list element of this structure prints in messages.
 */
export function structure(
  name: string,
  members: Readonly<Record<string, Shape | Required>>,
  printedAs: string = name,
): StructureShape {
  const list: Member[] = [];
  for (const [memberName, entry] of Object.entries(members)) {
    const isRequired = 'required' in entry && entry.required === true;
    const shape = isRequired ? (entry as Required).shape : (entry as Shape);
    list.push(Object.freeze({ name: memberName, path: lowerFirst(memberName), shape, required: isRequired }));
  }
  const byName = new Map(list.map((m) => [m.name, m] as const));
  return Object.freeze({ kind: 'structure', name, members: Object.freeze(list), byName, printedAs });
}

export function required(shape: Shape): Required {
  return Object.freeze({ required: true, shape });
}

export function lowerFirst(name: string): string {
  return name.length === 0 ? name : name[0]!.toLowerCase() + name.slice(1);
}

/** The rules of a scalar shape as a list member or map key/value lists them: maximum first. */
function scalarRules(shape: Shape): string[] {
  const rules: string[] = [];
  switch (shape.kind) {
    case 'string':
      if (shape.max !== undefined) rules.push(lengthAtMost(shape.max));
      if (shape.min !== undefined) rules.push(lengthAtLeast(shape.min));
      if (shape.pattern !== undefined) rules.push(patternRule(shape.pattern));
      if (shape.enum !== undefined) rules.push(enumRule(shape.enum));
      break;
    case 'blob':
      if (shape.max !== undefined) rules.push(lengthAtMost(shape.max));
      if (shape.min !== undefined) rules.push(lengthAtLeast(shape.min));
      break;
    case 'integer':
    case 'long':
    case 'double':
      if (shape.max !== undefined) rules.push(valueAtMost(shape.max));
      if (shape.min !== undefined) rules.push(valueAtLeast(shape.min));
      break;
    default:
      break;
  }
  return rules;
}

export const lengthAtMost = (n: number): string => `Member must have length less than or equal to ${n}`;
export const lengthAtLeast = (n: number): string => `Member must have length greater than or equal to ${n}`;
export const valueAtMost = (n: number): string => `Member must have value less than or equal to ${n}`;
export const valueAtLeast = (n: number): string => `Member must have value greater than or equal to ${n}`;
export const patternRule = (p: string): string => `Member must satisfy regular expression pattern: ${p}`;
export const enumRule = (values: readonly string[]): string =>
  `Member must satisfy enum value set: [${values.join(', ')}]`;
export const NOT_NULL = 'Member must not be null';

function bounds(c: Lengths): Lengths {
  const out: Lengths = {};
  if (c.min !== undefined) out.min = c.min;
  if (c.max !== undefined) out.max = c.max;
  return out;
}

const BOOLEAN: BooleanShape = Object.freeze({ kind: 'boolean' });
const TIMESTAMP: TimestampShape = Object.freeze({ kind: 'timestamp' });
