import { ValidationException } from '../../protocol/errors.js';
import { checkConsistentRead, read, readSource } from '../reads.js';
import { parseExpressions, type ExpressionInput } from '../requests.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';
import { consumed } from './returns.js';
import { checkSelect } from './query.js';

interface Input extends ExpressionInput {
  TableName: string;
  IndexName?: string;
  Limit?: number;
  Select?: string;
  ExclusiveStartKey?: AttributeMap;
  ReturnConsumedCapacity?: string;
  TotalSegments?: number;
  Segment?: number;
  ConsistentRead?: boolean;
}

export const scan = defineOperation<Input, unknown>('Scan', async (d, input) => {
  if (input.Segment !== undefined && input.TotalSegments === undefined) {
    throw new ValidationException('The TotalSegments parameter is required but was not present in the request when Segment parameter is present');
  }
  if (input.TotalSegments !== undefined && input.Segment === undefined) {
    throw new ValidationException('The Segment parameter is required but was not present in the request when parameter TotalSegments is present');
  }
  if (input.Segment !== undefined && input.Segment >= input.TotalSegments!) {
    throw new ValidationException(
      `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${input.Segment} is not less than TotalSegments: ${input.TotalSegments}`,
    );
  }
  checkSelect(input);
  const exprs = parseExpressions(input);
  const t = await d.table(input.TableName);
  const src = readSource(t, input.IndexName);
  checkConsistentRead(src, input.ConsistentRead);
  const result = await read(d, src, {
    limit: input.Limit,
    exclusiveStartKey: input.ExclusiveStartKey,
    filter: exprs.filter,
    projection: exprs.projection,
    select: input.Select,
    segment: input.Segment,
    totalSegments: input.TotalSegments,
  });
  return { ...result, ConsumedCapacity: consumed(input.ReturnConsumedCapacity, t.name, Math.max(0.5, result.ScannedCount / 2)) };
});
