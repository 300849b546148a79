/**
 * The legacy request forms, translated into the expression trees: Expected (conditional writes),
 * ScanFilter / QueryFilter / KeyConditions (Condition maps), AttributeUpdates (updates) and
 * AttributesToGet (projections).
 */
import { ValidationException } from '../protocol/errors.js';
import type { Condition, Operand, Path, UpdateAction } from './expressions/ast.js';
import { checkValue, typeOf, type AttributeValue } from './values.js';

const INVALID = 'One or more parameter values were invalid: ';

export interface ExpectedAttributeValue {
  Value?: AttributeValue;
  Exists?: boolean;
  ComparisonOperator?: string;
  AttributeValueList?: AttributeValue[];
}

export interface LegacyCondition {
  AttributeValueList?: AttributeValue[];
  ComparisonOperator: string;
}

export interface AttributeValueUpdate {
  Value?: AttributeValue;
  Action?: 'ADD' | 'PUT' | 'DELETE';
}

const ARGUMENTS: Record<string, number | undefined> = {
  EQ: 1,
  NE: 1,
  LE: 1,
  LT: 1,
  GE: 1,
  GT: 1,
  CONTAINS: 1,
  NOT_CONTAINS: 1,
  BEGINS_WITH: 1,
  BETWEEN: 2,
  NULL: 0,
  NOT_NULL: 0,
  IN: undefined,
};

function combine(conditions: Condition[], operator: string | undefined): Condition {
  if (conditions.length === 0) return { kind: 'true' };
  return conditions.reduce((a, b) => ({ kind: operator === 'OR' ? 'or' : 'and', left: a, right: b }));
}

/** One comparison of the legacy forms as a condition on the top-level attribute `name`. */
export function comparison(name: string, operator: string, args: AttributeValue[]): Condition {
  const expected = ARGUMENTS[operator];
  if ((expected !== undefined && args.length !== expected) || (operator === 'IN' && args.length === 0)) {
    throw new ValidationException(`${INVALID}Invalid number of argument(s) for the ${operator} ComparisonOperator`);
  }
  for (const a of args) checkValue(a);
  const scalarOnly = ['LE', 'LT', 'GE', 'GT', 'BETWEEN', 'BEGINS_WITH', 'IN'];
  for (const a of args) {
    const t = typeOf(a);
    const allowed = operator === 'BEGINS_WITH' ? t === 'S' || t === 'B' : t === 'S' || t === 'N' || t === 'B';
    if (scalarOnly.includes(operator) && !allowed) {
      throw new ValidationException(`${INVALID}ComparisonOperator ${operator} is not valid for ${t} AttributeValue type`);
    }
    if ((operator === 'CONTAINS' || operator === 'NOT_CONTAINS') && !(t === 'S' || t === 'N' || t === 'B')) {
      throw new ValidationException(`${INVALID}ComparisonOperator ${operator} is not valid for ${t} AttributeValue type`);
    }
  }
  const path: Operand = { kind: 'path', path: [{ name }] };
  const value = (i: number): Operand => ({ kind: 'value', value: args[i]! });
  switch (operator) {
    case 'EQ':
      return { kind: 'compare', op: '=', left: path, right: value(0) };
    case 'NE':
      return { kind: 'compare', op: '<>', left: path, right: value(0) };
    case 'LE':
      return { kind: 'compare', op: '<=', left: path, right: value(0) };
    case 'LT':
      return { kind: 'compare', op: '<', left: path, right: value(0) };
    case 'GE':
      return { kind: 'compare', op: '>=', left: path, right: value(0) };
    case 'GT':
      return { kind: 'compare', op: '>', left: path, right: value(0) };
    case 'NULL':
      return { kind: 'function', name: 'attribute_not_exists', args: [path] };
    case 'NOT_NULL':
      return { kind: 'function', name: 'attribute_exists', args: [path] };
    case 'CONTAINS':
      return { kind: 'function', name: 'contains', args: [path, value(0)] };
    case 'NOT_CONTAINS':
      return {
        kind: 'and',
        left: { kind: 'function', name: 'attribute_exists', args: [path] },
        right: { kind: 'not', condition: { kind: 'function', name: 'contains', args: [path, value(0)] } },
      };
    case 'BEGINS_WITH':
      return { kind: 'function', name: 'begins_with', args: [path, value(0)] };
    case 'BETWEEN':
      return { kind: 'between', operand: path, low: value(0), high: value(1) };
    case 'IN':
      return { kind: 'in', operand: path, list: args.map((_, i) => value(i)) };
  }
  throw new ValidationException(`${INVALID}Unsupported operator on ExpectedAttributeValue or ConditionalOperator`);
}

/** The Expected map of PutItem, UpdateItem and DeleteItem as one condition. */
export function expectedCondition(expected: Record<string, ExpectedAttributeValue>, operator?: string): Condition {
  const parts: Condition[] = [];
  for (const [name, e] of Object.entries(expected)) {
    if (e.ComparisonOperator !== undefined) {
      if (e.Exists !== undefined && e.Exists !== true) {
        throw new ValidationException(`${INVALID}Exists and ComparisonOperator cannot be used together for Attribute: ${name}`);
      }
      if (e.Value !== undefined && e.AttributeValueList !== undefined) {
        throw new ValidationException(`${INVALID}Value and AttributeValueList cannot be used together for Attribute: ${name}`);
      }
      const args = e.AttributeValueList ?? (e.Value !== undefined ? [e.Value] : []);
      parts.push(comparison(name, e.ComparisonOperator, args));
      continue;
    }
    if (e.AttributeValueList !== undefined) {
      throw new ValidationException(`${INVALID}AttributeValueList can only be used with a ComparisonOperator for Attribute: ${name}`);
    }
    if (e.Exists === false) {
      if (e.Value !== undefined) {
        throw new ValidationException(`${INVALID}Value cannot be used when Exists is false for Attribute: ${name}`);
      }
      parts.push({ kind: 'function', name: 'attribute_not_exists', args: [{ kind: 'path', path: [{ name }] }] });
      continue;
    }
    if (e.Value === undefined) {
      throw new ValidationException(
        `${INVALID}Value must be provided when Exists is ${e.Exists === undefined ? 'null' : 'true'} for Attribute: ${name}`,
      );
    }
    checkValue(e.Value);
    parts.push({ kind: 'compare', op: '=', left: { kind: 'path', path: [{ name }] }, right: { kind: 'value', value: e.Value } });
  }
  return combine(parts, operator);
}

/** A ScanFilter or QueryFilter as one condition. */
export function filterCondition(filter: Record<string, LegacyCondition>, operator?: string): Condition {
  const parts = Object.entries(filter).map(([name, c]) => comparison(name, c.ComparisonOperator, c.AttributeValueList ?? []));
  return combine(parts, operator);
}

/** KeyConditions as one condition (always AND). */
export function keyConditions(conditions: Record<string, LegacyCondition>): Condition {
  return filterCondition(conditions, 'AND');
}

/** AttributeUpdates as update actions. */
export function attributeUpdateActions(updates: Record<string, AttributeValueUpdate>): UpdateAction[] {
  const actions: UpdateAction[] = [];
  for (const [name, u] of Object.entries(updates)) {
    const path: Path = [{ name }];
    const action = u.Action ?? 'PUT';
    if (u.Value !== undefined) checkValue(u.Value);
    switch (action) {
      case 'PUT':
        if (u.Value === undefined) throw new ValidationException(`${INVALID}Only DELETE action is allowed when no attribute value is specified`);
        actions.push({ kind: 'SET', path, value: { kind: 'value', value: u.Value } });
        break;
      case 'DELETE':
        if (u.Value === undefined) {
          actions.push({ kind: 'REMOVE', path });
        } else {
          const t = typeOf(u.Value);
          if (t !== 'SS' && t !== 'NS' && t !== 'BS') {
            throw new ValidationException(`${INVALID}DELETE action with value is not supported for the type ${t}`);
          }
          actions.push({ kind: 'DELETE', path, value: u.Value });
        }
        break;
      case 'ADD': {
        if (u.Value === undefined) throw new ValidationException(`${INVALID}Only DELETE action is allowed when no attribute value is specified`);
        const t = typeOf(u.Value);
        if (t === 'L') {
          actions.push({
            kind: 'SET',
            path,
            value: {
              kind: 'list_append',
              first: { kind: 'if_not_exists', path, fallback: { kind: 'value', value: { L: [] } } },
              second: { kind: 'value', value: u.Value },
            },
          });
        } else if (t === 'N' || t === 'SS' || t === 'NS' || t === 'BS') {
          actions.push({ kind: 'ADD', path, value: u.Value });
        } else {
          throw new ValidationException(`${INVALID}ADD action is not supported for the type ${t}`);
        }
        break;
      }
    }
  }
  return actions;
}

/** AttributesToGet as projection paths. */
export function attributesToGetPaths(names: string[]): Path[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new ValidationException(`${INVALID}Duplicate value in attribute name: ${n}`);
    seen.add(n);
  }
  return names.map((name) => [{ name }]);
}
