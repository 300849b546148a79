import { ValidationException } from '../../protocol/errors.js';
import type { UpdateAction } from '../expressions/ast.js';
import { project } from '../expressions/evaluate.js';
import type { AttributeMap } from '../values.js';

/** PutItem and DeleteItem return nothing or the old item. */
export function checkOldOnlyReturnValues(value: string | undefined): void {
  if (value !== undefined && value !== 'NONE' && value !== 'ALL_OLD') {
    throw new ValidationException('ReturnValues can only be ALL_OLD or NONE');
  }
}

/** The Attributes member of a write's response, or undefined when there is nothing to return. */
export function returnedAttributes(
  returnValues: string | undefined,
  old: AttributeMap | undefined,
  next: AttributeMap | undefined,
  actions?: UpdateAction[],
): AttributeMap | undefined {
  let out: AttributeMap | undefined;
  switch (returnValues) {
    case 'ALL_OLD':
      out = old;
      break;
    case 'ALL_NEW':
      out = next;
      break;
    case 'UPDATED_OLD':
      out = old && actions ? project(old, actions.map((a) => a.path)) : undefined;
      break;
    case 'UPDATED_NEW':
      out = next && actions ? project(next, actions.map((a) => a.path)) : undefined;
      break;
    default:
      out = undefined;
  }
  return out !== undefined && Object.keys(out).length > 0 ? out : undefined;
}

/** The ConsumedCapacity member when asked for it (units as DynamoDB counts a small item). */
export function consumed(mode: string | undefined, tableName: string, units: number): unknown {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  return mode === 'INDEXES'
    ? { TableName: tableName, CapacityUnits: units, Table: { CapacityUnits: units } }
    : { TableName: tableName, CapacityUnits: units };
}
