import type { Operation } from '../../protocol/operation.js';
import type { Firehose } from '../service.js';
import { firehoseShapes } from '../shapes.js';

/** What Firehose operations are given: the service. */
export type FirehoseContext = Firehose;

/**
 * One Firehose operation: its input shape comes from ../shapes.ts (generated from the API model),
 * its IAM action is `firehose:<Name>`, and the handler gets the decoded, validated input.
 */
export function defineOperation<I, O>(name: string, handle: (f: FirehoseContext, input: I) => Promise<O | undefined>): Operation<FirehoseContext, I, O> {
  const input = firehoseShapes.get(name);
  if (!input) throw new Error(`Firehose operation ${name} has no input shape`);
  return { name, input, action: `firehose:${name}`, handle };
}
