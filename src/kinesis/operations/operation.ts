import type { Operation } from '../../protocol/operation.js';
import { defaultOperationRates } from '../limits/control-plane.js';
import { kinesisShapes } from '../shapes.js';
import type { OperationContext } from './context.js';

/** One Kinesis operation (see protocol/operation.ts): its input shape is in ../shapes.ts. */
export type KinesisOperation<I = any, O = unknown> = Operation<OperationContext, I, O>;

/**
 * Defines a Kinesis operation from its name and handler: the input shape comes from ../shapes.ts
 * and the IAM action is `kinesis:<Name>`. The handler gets the decoded, validated input. An
 * operation with a documented control-plane rate counts each call against it before the handler.
 * `check`, when given, holds the argument checks that need no stored state: it runs before the
 * call is counted, so a malformed request gets its own error even when the caller is over the rate.
 */
export function defineOperation<I, O>(
  name: string,
  handle: (k: OperationContext, input: I) => Promise<O | undefined>,
  opts: { check?: (input: I) => void } = {},
): KinesisOperation<I, O> {
  const input = kinesisShapes.get(name);
  if (!input) throw new Error(`no input shape for the Kinesis operation ${name}`);
  const limited = name in defaultOperationRates;
  const check = opts.check;
  return {
    name,
    input,
    action: `kinesis:${name}`,
    handle: limited
      ? (k, request) => {
          check?.(request);
          k.limits.checkOperation(name, request as Record<string, unknown>, k.now);
          return handle(k, request);
        }
      : check
        ? (k, request) => {
            check(request);
            return handle(k, request);
          }
        : handle,
  };
}
