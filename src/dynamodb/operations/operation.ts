import type { DynamoDb } from '../service.js';

/**
 * One DynamoDB operation: its name and its handler. The input shape lives in ../shapes.ts and is
 * checked before the handler runs; the handler gets the decoded, validated input.
 */
export interface Operation<I = any, O = unknown> {
  readonly name: string;
  handle(d: DynamoDb, input: I): Promise<O | undefined>;
}

export function defineOperation<I, O>(name: string, handle: (d: DynamoDb, input: I) => Promise<O | undefined>): Operation<I, O> {
  return { name, handle };
}
