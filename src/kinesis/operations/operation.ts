import type { Kinesis } from '../service.js';

/**
 * One Kinesis operation: its name and its handler. The input shape lives in ../shapes.ts and is
 * checked before the handler runs; the handler gets the decoded, validated input.
 */
export interface Operation<I = any, O = unknown> {
  readonly name: string;
  handle(k: Kinesis, input: I): Promise<O | undefined>;
}

export function defineOperation<I, O>(name: string, handle: (k: Kinesis, input: I) => Promise<O | undefined>): Operation<I, O> {
  return { name, handle };
}
