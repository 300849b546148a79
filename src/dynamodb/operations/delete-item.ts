import { parseExpressions, type ExpressionInput } from '../requests.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';
import { checkOldOnlyReturnValues, consumed, returnedAttributes } from './returns.js';

interface Input extends ExpressionInput {
  TableName: string;
  Key: AttributeMap;
  ReturnValues?: string;
  ReturnConsumedCapacity?: string;
  ReturnValuesOnConditionCheckFailure?: string;
}

export const deleteItem = defineOperation<Input, unknown>('DeleteItem', async (d, input) => {
  checkOldOnlyReturnValues(input.ReturnValues);
  const exprs = parseExpressions(input);
  const t = await d.table(input.TableName);
  const key = d.keyOf(t, input.Key);
  const returnOld = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
  const { old } = await d.writeItem(t, key, (old) => {
    d.checkCondition(exprs.condition, old, returnOld);
    return old === undefined ? undefined : null;
  });
  return {
    Attributes: returnedAttributes(input.ReturnValues, old, undefined),
    ConsumedCapacity: consumed(input.ReturnConsumedCapacity, t.name, 1),
  };
});
