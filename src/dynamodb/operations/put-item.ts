import { parseExpressions, type ExpressionInput } from '../requests.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';
import { checkOldOnlyReturnValues, consumed, returnedAttributes } from './returns.js';

interface Input extends ExpressionInput {
  TableName: string;
  Item: AttributeMap;
  ReturnValues?: string;
  ReturnConsumedCapacity?: string;
  ReturnValuesOnConditionCheckFailure?: string;
}

export const putItem = defineOperation<Input, unknown>('PutItem', async (d, input) => {
  checkOldOnlyReturnValues(input.ReturnValues);
  const exprs = parseExpressions(input);
  d.checkNewItem(input.Item);
  const t = await d.table(input.TableName);
  const key = d.itemKeyOf(t, input.Item);
  const returnOld = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
  const { old } = await d.writeItem(t, key, (old) => {
    d.checkCondition(exprs.condition, old, returnOld);
    return input.Item;
  });
  return {
    Attributes: returnedAttributes(input.ReturnValues, old, input.Item),
    ConsumedCapacity: consumed(input.ReturnConsumedCapacity, t.name, 1),
  };
});
