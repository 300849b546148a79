import { ValidationException } from '../../protocol/errors.js';
import { lengthAtMost } from '../../protocol/shape.js';
import { validationError, violation } from '../../protocol/validate.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';

interface WriteRequest {
  PutRequest?: { Item: AttributeMap };
  DeleteRequest?: { Key: AttributeMap };
}

interface Input {
  RequestItems: Record<string, WriteRequest[]>;
}

/** DynamoDB writes at most 25 items in one BatchWriteItem. */
const MAX_WRITES = 25;

export const batchWriteItem = defineOperation<Input, unknown>('BatchWriteItem', async (d, input) => {
  const total = Object.values(input.RequestItems).reduce((n, r) => n + r.length, 0);
  if (total > MAX_WRITES) {
    throw validationError([violation(String(total), 'requestItems', lengthAtMost(MAX_WRITES))]);
  }
  const plans = [];
  for (const [name, requests] of Object.entries(input.RequestItems)) {
    const t = await d.table(name);
    const seen = new Set<string>();
    for (const r of requests) {
      // A WriteRequest names exactly one of its two requests (DynamoDB publishes no wording for this).
      if ((r.PutRequest === undefined) === (r.DeleteRequest === undefined)) {
        throw new ValidationException('Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest');
      }
      let key: string;
      if (r.PutRequest) {
        d.checkNewItem(r.PutRequest.Item);
        key = d.itemKeyOf(t, r.PutRequest.Item);
      } else {
        key = d.keyOf(t, r.DeleteRequest!.Key);
      }
      if (seen.has(key)) throw new ValidationException('Provided list of item keys contains duplicates');
      seen.add(key);
      plans.push({ t, key, item: r.PutRequest?.Item });
    }
  }
  for (const p of plans) {
    await d.writeItem(p.t, p.key, (old) => (p.item ? p.item : old === undefined ? undefined : null));
  }
  return { UnprocessedItems: {} };
});
