/**
 * Applying update expressions (and the legacy AttributeUpdates translated into the same actions)
 * to a copy of an item. Every operand is read from the item as it was before the update, as
 * DynamoDB does; then the actions are applied in order.
 */
import { ValidationException } from '../../protocol/errors.js';
import { addNumbers } from '../numbers.js';
import { cloneItem, cloneValue, setMember, typeOf, type AttributeMap, type AttributeValue } from '../values.js';
import { pathText, type Operand, type Path, type UpdateAction } from './ast.js';
import { resolvePath } from './evaluate.js';

const MISSING = 'The provided expression refers to an attribute that does not exist in the item';
const WRONG_TYPE = 'An operand in the update expression has an incorrect data type';
const BAD_PATH = 'The document path provided in the update expression is invalid for update';

const TYPE_NAMES: Record<string, string> = {
  S: 'STRING',
  N: 'NUMBER',
  B: 'BINARY',
  BOOL: 'BOOLEAN',
  NULL: 'NULL',
  M: 'MAP',
  L: 'LIST',
  SS: 'STRING_SET',
  NS: 'NUMBER_SET',
  BS: 'BINARY_SET',
};

/** Static checks of a parsed update: operand types of ADD and DELETE, and overlapping paths. */
export function checkUpdateActions(actions: UpdateAction[]): void {
  for (const a of actions) {
    if (a.kind === 'ADD' || a.kind === 'DELETE') {
      const t = typeOf(a.value);
      const ok = a.kind === 'ADD' ? t === 'N' || t === 'SS' || t === 'NS' || t === 'BS' : t === 'SS' || t === 'NS' || t === 'BS';
      if (!ok) {
        throw new ValidationException(
          `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${a.kind}, operand type: ${TYPE_NAMES[t]}`,
        );
      }
    }
    if (a.kind === 'SET') checkSetOperand(a.value);
  }
  for (let i = 0; i < actions.length; i++) {
    for (let j = 0; j < i; j++) {
      if (overlaps(actions[j]!.path, actions[i]!.path)) {
        throw new ValidationException(
          `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${pathText(actions[j]!.path)}, path two: ${pathText(actions[i]!.path)}`,
        );
      }
    }
  }
}

/** Refuses an update that touches a key attribute. */
export function checkKeyUpdates(actions: UpdateAction[], keyNames: readonly string[]): void {
  for (const a of actions) {
    const first = a.path[0]!;
    if ('name' in first && keyNames.includes(first.name)) {
      throw new ValidationException(`One or more parameter values were invalid: Cannot update attribute ${first.name}. This attribute is part of the key`);
    }
  }
}

function checkSetOperand(o: Operand): void {
  if (o.kind === 'arithmetic') {
    for (const side of [o.left, o.right]) {
      if (side.kind === 'value' && side.value.N === undefined) {
        throw new ValidationException(
          `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${o.op}, operand type: ${TYPE_NAMES[typeOf(side.value)]}`,
        );
      }
      checkSetOperand(side);
    }
  } else if (o.kind === 'list_append') {
    for (const side of [o.first, o.second]) {
      if (side.kind === 'value' && side.value.L === undefined) {
        throw new ValidationException(
          `Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: ${TYPE_NAMES[typeOf(side.value)]}`,
        );
      }
      checkSetOperand(side);
    }
  } else if (o.kind === 'if_not_exists') {
    checkSetOperand(o.fallback);
  }
}

/** Whether one path is a prefix of the other (equal paths included). */
export function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ('name' in x !== 'name' in y) return false;
    if ('name' in x ? x.name !== (y as { name: string }).name : x.index !== (y as { index: number }).index) return false;
  }
  return true;
}

function setValue(item: AttributeMap, o: Operand): AttributeValue {
  switch (o.kind) {
    case 'value':
      return o.value;
    case 'path': {
      const v = resolvePath(item, o.path);
      if (v === undefined) throw new ValidationException(MISSING);
      return v;
    }
    case 'if_not_exists':
      return resolvePath(item, o.path) ?? setValue(item, o.fallback);
    case 'list_append': {
      const a = setValue(item, o.first);
      const b = setValue(item, o.second);
      if (a.L === undefined || b.L === undefined) throw new ValidationException(WRONG_TYPE);
      return { L: [...a.L, ...b.L] };
    }
    case 'arithmetic': {
      const a = setValue(item, o.left);
      const b = setValue(item, o.right);
      if (a.N === undefined || b.N === undefined) throw new ValidationException(WRONG_TYPE);
      return { N: addNumbers(a.N, b.N, o.op === '-') };
    }
    case 'size':
      throw new ValidationException(MISSING);
  }
}

/** The parent container of a path's last element, or undefined when the path leads nowhere. */
function parentOf(item: AttributeMap, path: Path): AttributeValue | AttributeMap | undefined {
  if (path.length === 1) return item;
  const v = resolvePath(item, path.slice(0, -1));
  return v;
}

function assign(item: AttributeMap, path: Path, value: AttributeValue): void {
  const last = path[path.length - 1]!;
  if (path.length === 1) {
    if (!('name' in last)) throw new ValidationException(BAD_PATH);
    setMember(item, last.name, value);
    return;
  }
  const parent = parentOf(item, path) as AttributeValue | undefined;
  if (parent === undefined) throw new ValidationException(BAD_PATH);
  if ('name' in last) {
    if (parent.M === undefined) throw new ValidationException(BAD_PATH);
    setMember(parent.M, last.name, value);
  } else {
    if (parent.L === undefined) throw new ValidationException(BAD_PATH);
    if (last.index >= parent.L.length) parent.L.push(value);
    else parent.L[last.index] = value;
  }
}

function remove(item: AttributeMap, path: Path): void {
  const last = path[path.length - 1]!;
  if (path.length === 1) {
    if ('name' in last) delete item[last.name];
    return;
  }
  const parent = parentOf(item, path) as AttributeValue | undefined;
  if (parent === undefined) return;
  if ('name' in last) {
    if (parent.M !== undefined) delete parent.M[last.name];
  } else if (parent.L !== undefined && last.index < parent.L.length) {
    parent.L.splice(last.index, 1);
  }
}

function setKey(v: AttributeValue): (x: never) => string {
  if (v.NS !== undefined) return ((n: string) => JSON.stringify(addNumbers(n, '0'))) as (x: never) => string;
  if (v.BS !== undefined) return ((b: Buffer) => b.toString('hex')) as (x: never) => string;
  return ((s: string) => s) as (x: never) => string;
}

function add(item: AttributeMap, path: Path, value: AttributeValue): void {
  const current = resolvePath(item, path);
  if (current === undefined) {
    assign(item, path, cloneValue(value));
    return;
  }
  const t = typeOf(current);
  if (t !== typeOf(value)) throw new ValidationException(WRONG_TYPE);
  if (t === 'N') {
    assign(item, path, { N: addNumbers(current.N!, value.N!) });
    return;
  }
  const key = setKey(current);
  const members = (current[t as 'SS'] as unknown[]).slice();
  const seen = new Set(members.map((m) => key(m as never)));
  for (const m of value[t as 'SS'] as unknown[]) {
    if (!seen.has(key(m as never))) {
      seen.add(key(m as never));
      members.push(m);
    }
  }
  assign(item, path, { [t]: members } as AttributeValue);
}

function del(item: AttributeMap, path: Path, value: AttributeValue): void {
  const current = resolvePath(item, path);
  if (current === undefined) return;
  const t = typeOf(current);
  if (t !== typeOf(value)) throw new ValidationException(WRONG_TYPE);
  const key = setKey(current);
  const drop = new Set((value[t as 'SS'] as unknown[]).map((m) => key(m as never)));
  const rest = (current[t as 'SS'] as unknown[]).filter((m) => !drop.has(key(m as never)));
  if (rest.length === 0) remove(item, path);
  else assign(item, path, { [t]: rest } as AttributeValue);
}

/** The updated copy of `item` (which may be empty for a new item); the input is not changed. */
export function applyUpdate(item: AttributeMap, actions: UpdateAction[]): AttributeMap {
  const before = item;
  // Right-hand sides read the item as it was before any action.
  const values = actions.map((a) => (a.kind === 'SET' ? setValue(before, a.value) : undefined));
  const out = cloneItem(item);
  // Removals of list elements run last, from the highest index down, so that every index names an
  // element of the list as it was.
  const indexRemovals: UpdateAction[] = [];
  actions.forEach((a, i) => {
    if (a.kind === 'REMOVE' && 'index' in a.path[a.path.length - 1]!) {
      indexRemovals.push(a);
      return;
    }
    switch (a.kind) {
      case 'SET':
        assign(out, a.path, cloneValue(values[i]!));
        break;
      case 'REMOVE':
        remove(out, a.path);
        break;
      case 'ADD':
        add(out, a.path, a.value);
        break;
      case 'DELETE':
        del(out, a.path, a.value);
        break;
    }
  });
  const lastIndex = (a: UpdateAction) => (a.path[a.path.length - 1] as { index: number }).index;
  indexRemovals.sort((a, b) => lastIndex(b) - lastIndex(a));
  for (const a of indexRemovals) remove(out, a.path);
  return out;
}
