/**
 * The parsed forms of DynamoDB expressions. Placeholders are already resolved: a path holds real
 * attribute names, and a value operand holds the AttributeValue from ExpressionAttributeValues.
 * The legacy request forms (Expected, ScanFilter, QueryFilter, KeyConditions) are translated into
 * the same Condition trees.
 */
import type { AttributeValue } from '../values.js';

export type PathElement = { name: string } | { index: number };
export type Path = PathElement[];

export type Operand =
  | { kind: 'path'; path: Path }
  | { kind: 'value'; value: AttributeValue }
  | { kind: 'size'; path: Path }
  /** Update expressions only. */
  | { kind: 'if_not_exists'; path: Path; fallback: Operand }
  | { kind: 'list_append'; first: Operand; second: Operand }
  | { kind: 'arithmetic'; op: '+' | '-'; left: Operand; right: Operand };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type ConditionFunction = 'attribute_exists' | 'attribute_not_exists' | 'attribute_type' | 'begins_with' | 'contains';

export type Condition =
  | { kind: 'compare'; op: Comparator; left: Operand; right: Operand }
  | { kind: 'between'; operand: Operand; low: Operand; high: Operand }
  | { kind: 'in'; operand: Operand; list: Operand[] }
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; condition: Condition }
  | { kind: 'function'; name: ConditionFunction; args: Operand[] }
  /** Legacy forms that have no expression counterpart. */
  | { kind: 'true' };

export type UpdateAction =
  | { kind: 'SET'; path: Path; value: Operand }
  | { kind: 'REMOVE'; path: Path }
  | { kind: 'ADD'; path: Path; value: AttributeValue }
  | { kind: 'DELETE'; path: Path; value: AttributeValue };

/** How a path prints in DynamoDB's messages: `[a, b, [1]]`. */
export function pathText(path: Path): string {
  return `[${path.map((e) => ('name' in e ? e.name : `[${e.index}]`)).join(', ')}]`;
}
