import { ValidationException, type AwsError } from './errors.js';
import {
  NOT_NULL,
  enumRule,
  lengthAtLeast,
  lengthAtMost,
  patternRule,
  valueAtLeast,
  valueAtMost,
  type ListShape,
  type MapShape,
  type Shape,
  type StructureShape,
} from './shape.js';
import { valueText } from './value-text.js';

/** AWS lists at most this many violations, and counts no further. */
export const MAX_VIOLATIONS = 10;

/**
 * Checks a decoded input against its shape and throws one ValidationException naming the
 * violations in AWS's words and order:
 * `2 validation errors detected: Value null at 'records' failed to satisfy constraint: Member must not be null; …`
 *
 * Members are visited in the shape's order; per member: not-null, then pattern, minimum,
 * maximum, enum; a list's own length before its elements, whose paths read
 * `records.1.member.partitionKey`. Nothing is allocated while a value passes.
 */
export function validate(input: Record<string, unknown>, shape: StructureShape): void {
  const errors: string[] = [];
  checkMembers(input, shape, '', errors);
  if (errors.length > 0) throw validationError(errors);
}

/**
 * The one ValidationException for a list of violations (each written by `violation`), in AWS's
 * words: `2 validation errors detected: …; …`. Checks that the shape table cannot express (they
 * depend on the stream) report through this too, so every such message has one form.
 */
export function validationError(errors: readonly string[]): AwsError {
  const n = errors.length;
  return new ValidationException(`${n} validation error${n === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
}

/**
 * One violation: `Value 'v' at 'path' failed to satisfy constraint: rule`, given the value as
 * Java prints it (`valueText`), or null for a missing value.
 */
export function violation(text: string | null, path: string, rule: string): string {
  return `Value ${text === null ? 'null' : `'${text}'`} at '${path}' failed to satisfy constraint: ${rule}`;
}

function checkMembers(obj: Record<string, unknown>, shape: StructureShape, prefix: string, errors: string[]): void {
  const members = shape.members;
  for (let i = 0; i < members.length; i++) {
    if (errors.length >= MAX_VIOLATIONS) return;
    const member = members[i]!;
    const value = obj[member.name];
    if (value === undefined || value === null) {
      if (member.required) report(errors, null, member.shape, prefix, member.path, NOT_NULL);
      continue;
    }
    checkValue(value, member.shape, prefix, member.path, errors);
  }
}

/** `prefix + name` is the value's path; it is only built when something is reported. */
function checkValue(value: unknown, shape: Shape, prefix: string, name: string, errors: string[]): void {
  switch (shape.kind) {
    case 'string': {
      const s = value as string;
      if (shape.regex !== undefined && !shape.regex.test(s)) {
        report(errors, s, shape, prefix, name, patternRule(shape.pattern!));
      }
      if (shape.min !== undefined && s.length < shape.min) report(errors, s, shape, prefix, name, lengthAtLeast(shape.min));
      if (shape.max !== undefined && s.length > shape.max) report(errors, s, shape, prefix, name, lengthAtMost(shape.max));
      if (shape.enumSet !== undefined && !shape.enumSet.has(s)) {
        report(errors, s, shape, prefix, name, enumRule(shape.enum!));
      }
      return;
    }
    case 'integer':
    case 'long':
    case 'double': {
      const n = value as number;
      if (shape.min !== undefined && n < shape.min) report(errors, n, shape, prefix, name, valueAtLeast(shape.min));
      if (shape.max !== undefined && n > shape.max) report(errors, n, shape, prefix, name, valueAtMost(shape.max));
      return;
    }
    case 'blob': {
      const length = (value as Uint8Array).length;
      if (shape.min !== undefined && length < shape.min) report(errors, value, shape, prefix, name, lengthAtLeast(shape.min));
      if (shape.max !== undefined && length > shape.max) report(errors, value, shape, prefix, name, lengthAtMost(shape.max));
      return;
    }
    case 'list':
      checkList(value as unknown[], shape, prefix, name, errors);
      return;
    case 'map':
      checkMap(value as Record<string, unknown>, shape, prefix, name, errors);
      return;
    case 'structure':
      checkMembers(value as Record<string, unknown>, shape, `${prefix}${name}.`, errors);
      return;
    default:
      return;
  }
}

function checkList(items: unknown[], shape: ListShape, prefix: string, name: string, errors: string[]): void {
  const count = items.length;
  if (shape.min !== undefined && count < shape.min) report(errors, items, shape, prefix, name, lengthAtLeast(shape.min));
  if (shape.max !== undefined && count > shape.max) report(errors, items, shape, prefix, name, lengthAtMost(shape.max));
  const member = shape.member;
  if (shape.memberRule !== undefined) {
    for (let i = 0; i < count; i++) {
      const item = items[i];
      if (item !== null && item !== undefined && !scalarPasses(item, member)) {
        report(errors, items, shape, prefix, name, shape.memberRule);
        break;
      }
    }
  }
  const nested = member.kind === 'structure' || member.kind === 'list' || member.kind === 'map';
  const base = `${prefix}${name}.`;
  for (let i = 0; i < count; i++) {
    if (errors.length >= MAX_VIOLATIONS) return;
    const item = items[i];
    if (item === null || item === undefined) {
      report(errors, null, member, base, `${i + 1}.member`, NOT_NULL);
    } else if (nested) {
      checkValue(item, member, base, `${i + 1}.member`, errors);
    }
  }
}

function checkMap(obj: Record<string, unknown>, shape: MapShape, prefix: string, name: string, errors: string[]): void {
  const keys = Object.keys(obj);
  if (shape.min !== undefined && keys.length < shape.min) report(errors, obj, shape, prefix, name, lengthAtLeast(shape.min));
  if (shape.max !== undefined && keys.length > shape.max) report(errors, obj, shape, prefix, name, lengthAtMost(shape.max));
  if (shape.keyRule !== undefined) {
    for (const key of keys) {
      if (!scalarPasses(key, shape.key)) {
        report(errors, obj, shape, prefix, name, shape.keyRule);
        break;
      }
    }
  }
  const value = shape.value;
  if (shape.valueRule !== undefined) {
    for (const key of keys) {
      const v = obj[key];
      if (v !== null && v !== undefined && !scalarPasses(v, value)) {
        report(errors, obj, shape, prefix, name, shape.valueRule);
        break;
      }
    }
  }
  const nested = value.kind === 'structure' || value.kind === 'list' || value.kind === 'map';
  const base = `${prefix}${name}.`;
  for (const key of keys) {
    if (errors.length >= MAX_VIOLATIONS) return;
    const v = obj[key];
    if (v === null || v === undefined) {
      report(errors, null, value, base, `${key}.member`, NOT_NULL);
    } else if (nested) {
      checkValue(v, value, base, `${key}.member`, errors);
    }
  }
}

/** Whether a list member or map key/value satisfies every constraint of its scalar shape. */
function scalarPasses(value: unknown, shape: Shape): boolean {
  switch (shape.kind) {
    case 'string': {
      const s = value as string;
      return (
        (shape.min === undefined || s.length >= shape.min) &&
        (shape.max === undefined || s.length <= shape.max) &&
        (shape.regex === undefined || shape.regex.test(s)) &&
        (shape.enumSet === undefined || shape.enumSet.has(s))
      );
    }
    case 'blob': {
      const length = (value as Uint8Array).length;
      return (shape.min === undefined || length >= shape.min) && (shape.max === undefined || length <= shape.max);
    }
    case 'integer':
    case 'long':
    case 'double': {
      const n = value as number;
      return (shape.min === undefined || n >= shape.min) && (shape.max === undefined || n <= shape.max);
    }
    default:
      return true;
  }
}

function report(
  errors: string[],
  value: unknown,
  shape: Shape,
  prefix: string,
  name: string,
  rule: string,
): void {
  if (errors.length >= MAX_VIOLATIONS) return;
  errors.push(violation(value === null || value === undefined ? null : valueText(value, shape), `${prefix}${name}`, rule));
}
