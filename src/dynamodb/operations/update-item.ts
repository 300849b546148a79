import { applyUpdate } from '../expressions/update.js';
import { checkKeyUpdates, parseExpressions, type ExpressionInput } from '../requests.js';
import { keyNames } from '../tables.js';
import { cloneItem, type AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';
import { consumed, returnedAttributes } from './returns.js';

interface Input extends ExpressionInput {
  TableName: string;
  Key: AttributeMap;
  ReturnValues?: string;
  ReturnConsumedCapacity?: string;
  ReturnValuesOnConditionCheckFailure?: string;
}

export const updateItem = defineOperation<Input, unknown>('UpdateItem', async (d, input) => {
  const exprs = parseExpressions(input);
  const t = await d.table(input.TableName);
  if (exprs.update) checkKeyUpdates(exprs.update, keyNames(t));
  const key = d.keyOf(t, input.Key);
  const returnOld = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
  const actions = exprs.update ?? [];
  const { old, next } = await d.writeItem(t, key, (old) => {
    d.checkCondition(exprs.condition, old, returnOld);
    // A missing item is created from its key, as DynamoDB does.
    const base = old ?? cloneItem(input.Key);
    return applyUpdate(base, actions);
  });
  return {
    Attributes: returnedAttributes(input.ReturnValues, old, next, actions),
    ConsumedCapacity: consumed(input.ReturnConsumedCapacity, t.name, 1),
  };
});
