import type { Operation } from '../../protocol/operation.js';
import type { DynamoDb } from '../service.js';
import { dynamoDbShapes } from '../shapes.js';

/**
 * One DynamoDB operation: its name, its input shape (from ../shapes.ts, checked before the
 * handler runs), the IAM action `dynamodb:<Name>` that authorizes it, and its handler, which
 * gets the decoded, validated input.
 */
export function defineOperation<I, O>(name: string, handle: (d: DynamoDb, input: I) => Promise<O | undefined>): Operation<DynamoDb, I, O> {
  const input = dynamoDbShapes.get(name);
  if (!input) throw new Error(`DynamoDB operation ${name} has no input shape`);
  return { name, input, action: `dynamodb:${name}`, handle };
}
