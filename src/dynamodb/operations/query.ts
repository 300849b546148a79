import { ValidationException } from '../../protocol/errors.js';
import { analyzeKeyCondition, checkConsistentRead, read, readSource } from '../reads.js';
import { parseExpressions, type ExpressionInput } from '../requests.js';
import type { AttributeMap } from '../values.js';
import { defineOperation } from './operation.js';
import { consumed } from './returns.js';

interface Input extends ExpressionInput {
  TableName: string;
  IndexName?: string;
  Select?: string;
  Limit?: number;
  ConsistentRead?: boolean;
  ScanIndexForward?: boolean;
  ExclusiveStartKey?: AttributeMap;
  ReturnConsumedCapacity?: string;
}

/** Select's agreements with projections, in DynamoDB's words. */
export function checkSelect(input: { Select?: string; ProjectionExpression?: string; AttributesToGet?: string[]; IndexName?: string }): void {
  if (input.Select === 'ALL_PROJECTED_ATTRIBUTES' && input.IndexName === undefined) {
    throw new ValidationException('ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName');
  }
  const projecting = input.ProjectionExpression !== undefined || input.AttributesToGet !== undefined;
  if (input.Select === 'SPECIFIC_ATTRIBUTES' && !projecting) {
    throw new ValidationException('Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression to be specified');
  }
  if (projecting && input.Select !== undefined && input.Select !== 'SPECIFIC_ATTRIBUTES') {
    throw new ValidationException(`Cannot specify the AttributesToGet or ProjectionExpression when choosing to get ${input.Select}`);
  }
}

export const query = defineOperation<Input, unknown>('Query', async (d, input) => {
  checkSelect(input);
  if (input.KeyConditionExpression === undefined && input.KeyConditions === undefined) {
    throw new ValidationException('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
  }
  const exprs = parseExpressions(input);
  const t = await d.table(input.TableName);
  const src = readSource(t, input.IndexName);
  checkConsistentRead(src, input.ConsistentRead);
  const { hash, range } = analyzeKeyCondition(src, exprs.keyCondition!);
  const result = await read(d, src, {
    limit: input.Limit,
    exclusiveStartKey: input.ExclusiveStartKey,
    filter: exprs.filter,
    projection: exprs.projection,
    select: input.Select,
    hash,
    rangeCondition: range,
    forward: input.ScanIndexForward ?? true,
  });
  return { ...result, ConsumedCapacity: consumed(input.ReturnConsumedCapacity, t.name, Math.max(0.5, result.ScannedCount / 2)) };
});
