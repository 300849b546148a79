/**
 * Evaluating parsed expressions against an item: document paths, conditions and projections.
 * Comparisons follow DynamoDB: ordering only between two S, two N or two B values; a missing
 * attribute makes every comparison false except `<>`.
 */
import { ValidationException } from '../../protocol/errors.js';
import { ATTRIBUTE_TYPES, compareValues, memberOf, setMember, typeOf, valuesEqual, type AttributeMap, type AttributeValue } from '../values.js';
import type { Condition, Operand, Path } from './ast.js';

/** The value at a document path, or undefined when the item has nothing there. */
export function resolvePath(item: AttributeMap, path: Path): AttributeValue | undefined {
  const first = path[0]!;
  if (!('name' in first)) return undefined;
  let v: AttributeValue | undefined = memberOf(item, first.name);
  for (let i = 1; i < path.length && v !== undefined; i++) {
    const e = path[i]!;
    if ('name' in e) v = v.M !== undefined ? memberOf(v.M, e.name) : undefined;
    else v = v.L !== undefined ? v.L[e.index] : undefined;
  }
  return v;
}

export function sizeOf(v: AttributeValue): number | undefined {
  if (v.S !== undefined) return [...v.S].length;
  if (v.B !== undefined) return v.B.length;
  if (v.SS !== undefined) return v.SS.length;
  if (v.NS !== undefined) return v.NS.length;
  if (v.BS !== undefined) return v.BS.length;
  if (v.L !== undefined) return v.L.length;
  if (v.M !== undefined) return Object.keys(v.M).length;
  return undefined;
}

/** A condition operand's value; undefined when it names nothing. */
export function operandValue(item: AttributeMap, o: Operand): AttributeValue | undefined {
  switch (o.kind) {
    case 'value':
      return o.value;
    case 'path':
      return resolvePath(item, o.path);
    case 'size': {
      const v = resolvePath(item, o.path);
      const n = v === undefined ? undefined : sizeOf(v);
      return n === undefined ? undefined : { N: String(n) };
    }
    default:
      return undefined;
  }
}

const VALID_TYPES = '{B,NULL,SS,BOOL,L,BS,N,NS,S,M}';

export function evaluate(c: Condition, item: AttributeMap, kind = 'ConditionExpression'): boolean {
  switch (c.kind) {
    case 'true':
      return true;
    case 'and':
      return evaluate(c.left, item, kind) && evaluate(c.right, item, kind);
    case 'or':
      return evaluate(c.left, item, kind) || evaluate(c.right, item, kind);
    case 'not':
      return !evaluate(c.condition, item, kind);
    case 'compare': {
      const a = operandValue(item, c.left);
      const b = operandValue(item, c.right);
      if (c.op === '<>') return a === undefined || b === undefined || !valuesEqual(a, b);
      if (a === undefined || b === undefined) return false;
      if (c.op === '=') return valuesEqual(a, b);
      const order = compareValues(a, b);
      if (order === undefined) return false;
      switch (c.op) {
        case '<':
          return order < 0;
        case '<=':
          return order <= 0;
        case '>':
          return order > 0;
        case '>=':
          return order >= 0;
      }
      return false;
    }
    case 'between': {
      const v = operandValue(item, c.operand);
      const low = operandValue(item, c.low);
      const high = operandValue(item, c.high);
      if (v === undefined || low === undefined || high === undefined) return false;
      const a = compareValues(v, low);
      const b = compareValues(v, high);
      return a !== undefined && b !== undefined && a >= 0 && b <= 0;
    }
    case 'in': {
      const v = operandValue(item, c.operand);
      if (v === undefined) return false;
      return c.list.some((o) => {
        const w = operandValue(item, o);
        return w !== undefined && valuesEqual(v, w);
      });
    }
    case 'function':
      return callFunction(c.name, c.args, item, kind);
  }
}

function callFunction(name: string, args: Operand[], item: AttributeMap, kind: string): boolean {
  const first = operandValue(item, args[0]!);
  switch (name) {
    case 'attribute_exists':
      return first !== undefined;
    case 'attribute_not_exists':
      return first === undefined;
    case 'attribute_type': {
      const t = operandValue(item, args[1]!);
      if (t === undefined || t.S === undefined || !(ATTRIBUTE_TYPES as readonly string[]).includes(t.S)) {
        const shown = t === undefined ? '' : t.S ?? typeOf(t);
        throw new ValidationException(`Invalid ${kind}: Invalid attribute type name found; type: ${shown}, valid types: ${VALID_TYPES}`);
      }
      return first !== undefined && typeOf(first) === t.S;
    }
    case 'begins_with': {
      const prefix = operandValue(item, args[1]!);
      if (first === undefined || prefix === undefined) return false;
      if (first.S !== undefined && prefix.S !== undefined) return first.S.startsWith(prefix.S);
      if (first.B !== undefined && prefix.B !== undefined) {
        return first.B.length >= prefix.B.length && first.B.subarray(0, prefix.B.length).equals(prefix.B);
      }
      return false;
    }
    case 'contains': {
      const needle = operandValue(item, args[1]!);
      if (first === undefined || needle === undefined) return false;
      if (first.S !== undefined) return needle.S !== undefined && first.S.includes(needle.S);
      if (first.B !== undefined) return needle.B !== undefined && first.B.includes(needle.B);
      if (first.SS !== undefined) return needle.S !== undefined && first.SS.includes(needle.S);
      if (first.NS !== undefined) return needle.N !== undefined && first.NS.some((n) => valuesEqual({ N: n }, needle));
      if (first.BS !== undefined) return needle.B !== undefined && first.BS.some((b) => b.equals(needle.B!));
      if (first.L !== undefined) return first.L.some((e) => valuesEqual(e, needle));
      return false;
    }
  }
  return false;
}

/**
 * The item cut down to the given paths: nested maps keep only the projected members, lists only
 * the projected elements (in order, packed together), as DynamoDB returns them.
 */
export function project(item: AttributeMap, paths: Path[]): AttributeMap {
  const out: AttributeMap = {};
  // Lists are built sparse while projecting, then packed.
  const sparse = new Set<AttributeValue[]>();
  for (const path of paths) {
    const v = resolvePath(item, path);
    if (v === undefined) continue;
    let container: AttributeMap | AttributeValue[] = out;
    for (let i = 0; i < path.length; i++) {
      const e = path[i]!;
      const last = i === path.length - 1;
      const key: string | number = 'name' in e ? e.name : e.index;
      const holder = container as Record<string | number, AttributeValue>;
      if (last) {
        setMember(holder, key, v);
        break;
      }
      const nextElement = path[i + 1]!;
      let child = typeof key === 'string' ? memberOf(holder, key) : holder[key];
      if (child === undefined) {
        child = 'name' in nextElement ? { M: {} } : { L: [] };
        setMember(holder, key, child);
        if (child.L) sparse.add(child.L);
      }
      if ('name' in nextElement) {
        if (child.M === undefined) break;
        container = child.M;
      } else {
        if (child.L === undefined) break;
        container = child.L;
      }
    }
  }
  for (const list of sparse) {
    const packed = list.filter((x) => x !== undefined);
    list.length = 0;
    list.push(...packed);
  }
  return out;
}
