import { ValidationException } from '../../protocol/errors.js';
import { project } from '../expressions/evaluate.js';
import { parseExpressions, type ExpressionInput } from '../requests.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';

interface KeysAndAttributes extends ExpressionInput {
  Keys: AttributeMap[];
  ConsistentRead?: boolean;
}

interface Input {
  RequestItems: Record<string, KeysAndAttributes>;
  ReturnConsumedCapacity?: string;
}

/** DynamoDB reads at most 100 items in one BatchGetItem. */
const MAX_KEYS = 100;

export const batchGetItem = defineOperation<Input, unknown>('BatchGetItem', async (d, input) => {
  const total = Object.values(input.RequestItems).reduce((n, r) => n + r.Keys.length, 0);
  if (total > MAX_KEYS) throw new ValidationException('Too many items requested for the BatchGetItem call');
  const plans = [];
  for (const [name, request] of Object.entries(input.RequestItems)) {
    const exprs = parseExpressions(request);
    const t = await d.table(name);
    const keys = request.Keys.map((k) => d.keyOf(t, k));
    if (new Set(keys).size !== keys.length) throw new ValidationException('Provided list of item keys contains duplicates');
    plans.push({ name, t, keys, projection: exprs.projection });
  }
  const responses: Record<string, AttributeMap[]> = {};
  for (const p of plans) {
    const items: AttributeMap[] = [];
    for (const key of p.keys) {
      const item = await d.getItem(p.t, key);
      if (item) items.push(p.projection ? project(item, p.projection) : item);
    }
    responses[p.name] = items;
  }
  return { Responses: responses, UnprocessedKeys: {} };
});
