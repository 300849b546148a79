import { project } from '../expressions/evaluate.js';
import { parseExpressions, type ExpressionInput } from '../requests.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';
import { consumed } from './returns.js';

interface Input extends ExpressionInput {
  TableName: string;
  Key: AttributeMap;
  ConsistentRead?: boolean;
  ReturnConsumedCapacity?: string;
}

export const getItem = defineOperation<Input, unknown>('GetItem', async (d, input) => {
  const exprs = parseExpressions(input);
  const t = await d.table(input.TableName);
  const key = d.keyOf(t, input.Key);
  const item = await d.getItem(t, key);
  return {
    Item: item && exprs.projection ? project(item, exprs.projection) : item,
    ConsumedCapacity: consumed(input.ReturnConsumedCapacity, t.name, 0.5),
  };
});
