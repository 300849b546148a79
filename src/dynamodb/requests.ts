/**
 * The expression part of an item request: placeholders checked, expressions parsed, legacy forms
 * translated, and the rules that tie them together (no mixing of the two styles, no unused
 * placeholders).
 */
import { ValidationException } from '../protocol/errors.js';
import { pathText, type Condition, type Path, type UpdateAction } from './expressions/ast.js';
import { checkPlaceholdersUsed, parseCondition, parseProjection, parseUpdate, placeholders } from './expressions/parser.js';
import { checkKeyUpdates, checkUpdateActions, overlaps } from './expressions/update.js';

export { checkKeyUpdates };
import {
  attributeUpdateActions,
  attributesToGetPaths,
  expectedCondition,
  filterCondition,
  keyConditions,
  type AttributeValueUpdate,
  type ExpectedAttributeValue,
  type LegacyCondition,
} from './legacy.js';
import { checkValue, type AttributeValue } from './values.js';

export interface ExpressionInput {
  ConditionExpression?: string;
  UpdateExpression?: string;
  ProjectionExpression?: string;
  FilterExpression?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
  Expected?: Record<string, ExpectedAttributeValue>;
  ConditionalOperator?: string;
  AttributeUpdates?: Record<string, AttributeValueUpdate>;
  AttributesToGet?: string[];
  ScanFilter?: Record<string, LegacyCondition>;
  QueryFilter?: Record<string, LegacyCondition>;
  KeyConditions?: Record<string, LegacyCondition>;
}

export interface ParsedExpressions {
  condition?: Condition;
  update?: UpdateAction[];
  projection?: Path[];
  filter?: Condition;
  keyCondition?: Condition;
}

const EXPRESSIONS = ['ConditionExpression', 'UpdateExpression', 'ProjectionExpression', 'FilterExpression', 'KeyConditionExpression'] as const;
const LEGACY = ['AttributesToGet', 'AttributeUpdates', 'Expected', 'ConditionalOperator', 'ScanFilter', 'QueryFilter', 'KeyConditions'] as const;
const NAME_KEY = /^#[A-Za-z0-9_]+$/;
const MAX_EXPRESSION_BYTES = 4096;
const VALUE_KEY = /^:[A-Za-z0-9_]+$/;

/**
 * Parses the expressions of a request. This needs no table, so that malformed requests are refused
 * before the table is looked up, as DynamoDB does; `checkKeyUpdates` then checks an update against
 * the table's key.
 */
export function parseExpressions(input: ExpressionInput): ParsedExpressions {
  const usedExpressions = EXPRESSIONS.filter((e) => input[e] !== undefined);
  const usedLegacy = LEGACY.filter((e) => input[e] !== undefined);
  if (usedExpressions.length > 0 && usedLegacy.length > 0) {
    throw new ValidationException(
      `Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${usedLegacy.join(', ')}} Expression parameters: {${usedExpressions.join(', ')}}`,
    );
  }
  const names = input.ExpressionAttributeNames;
  const values = input.ExpressionAttributeValues;
  if (names !== undefined && usedExpressions.length === 0) {
    throw new ValidationException('ExpressionAttributeNames can only be specified when using expressions');
  }
  if (values !== undefined && usedExpressions.length === 0) {
    throw new ValidationException('ExpressionAttributeValues can only be specified when using expressions');
  }
  if (names !== undefined) {
    if (Object.keys(names).length === 0) throw new ValidationException('ExpressionAttributeNames must not be empty');
    for (const k of Object.keys(names)) {
      if (!NAME_KEY.test(k)) throw new ValidationException(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${k}"`);
    }
  }
  if (values !== undefined) {
    if (Object.keys(values).length === 0) throw new ValidationException('ExpressionAttributeValues must not be empty');
    for (const [k, v] of Object.entries(values)) {
      if (!VALUE_KEY.test(k)) throw new ValidationException(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
      try {
        checkValue(v);
      } catch (err) {
        if (err instanceof ValidationException) {
          throw new ValidationException(`ExpressionAttributeValues contains invalid value: ${err.message} for key ${k}`);
        }
        throw err;
      }
    }
  }

  for (const e of usedExpressions) {
    const size = Buffer.byteLength(input[e]!, 'utf8');
    // DynamoDB documents a 4 KB limit on an expression; it publishes no message, so this one is ours.
    if (size > MAX_EXPRESSION_BYTES) {
      throw new ValidationException(`Invalid ${e}: Expression size has exceeded the maximum allowed size; expression size: ${size}`);
    }
  }
  const ph = placeholders(names, values);
  const out: ParsedExpressions = {};
  if (input.KeyConditionExpression !== undefined) {
    out.keyCondition = parseCondition(input.KeyConditionExpression, 'KeyConditionExpression', ph);
  }
  if (input.ConditionExpression !== undefined) out.condition = parseCondition(input.ConditionExpression, 'ConditionExpression', ph);
  if (input.FilterExpression !== undefined) out.filter = parseCondition(input.FilterExpression, 'FilterExpression', ph);
  if (input.UpdateExpression !== undefined) {
    out.update = parseUpdate(input.UpdateExpression, ph);
  }
  if (input.ProjectionExpression !== undefined) {
    out.projection = parseProjection(input.ProjectionExpression, ph);
    checkNoOverlap(out.projection, 'ProjectionExpression');
  }
  checkPlaceholdersUsed(ph);
  if (out.update) checkUpdateActions(out.update);

  if (input.Expected !== undefined) out.condition = expectedCondition(input.Expected, input.ConditionalOperator);
  if (input.AttributeUpdates !== undefined) out.update = attributeUpdateActions(input.AttributeUpdates);
  if (input.AttributesToGet !== undefined) out.projection = attributesToGetPaths(input.AttributesToGet);
  if (input.ScanFilter !== undefined) out.filter = filterCondition(input.ScanFilter, input.ConditionalOperator);
  if (input.QueryFilter !== undefined) out.filter = filterCondition(input.QueryFilter, input.ConditionalOperator);
  if (input.KeyConditions !== undefined) out.keyCondition = keyConditions(input.KeyConditions);
  return out;
}

function checkNoOverlap(paths: Path[], kind: string): void {
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < i; j++) {
      if (overlaps(paths[j]!, paths[i]!)) {
        throw new ValidationException(
          `Invalid ${kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${pathText(paths[j]!)}, path two: ${pathText(paths[i]!)}`,
        );
      }
    }
  }
}
