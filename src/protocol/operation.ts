import type { StructureShape } from './shape.js';

/**
 * One operation of a service that speaks the AWS JSON/CBOR protocols (Kinesis, DynamoDB,
 * Firehose, Analytics): its name, its input shape, the IAM action that authorizes it, and its
 * handler. The router finds it by `X-Amz-Target`, decodes and validates the body against
 * `input`, authorizes `action`, and only then calls `handle` with the validated input and the
 * service's context (`C`: the narrow interface the service gives its operations).
 */
export interface Operation<C, I = any, O = unknown> {
  /** The operation's name as it follows the target prefix: `PutRecord` in `Kinesis_20131202.PutRecord`. */
  readonly name: string;
  /** The request shape, checked by the one shared validator before the handler runs. */
  readonly input: StructureShape;
  /** The IAM action a caller needs, `<service>:<Operation>` (for example `kinesis:PutRecord`). */
  readonly action: string;
  handle(ctx: C, input: I): Promise<O | undefined>;
}

/** The operations of one service, by name. */
export type OperationTable<C> = ReadonlyMap<string, Operation<C>>;

/** Indexes a service's operations by name; a name given twice is a programming error. */
export function operationTable<C>(operations: readonly Operation<C>[]): OperationTable<C> {
  const table = new Map<string, Operation<C>>();
  for (const op of operations) {
    if (table.has(op.name)) throw new Error(`operation ${op.name} is defined twice`);
    table.set(op.name, op);
  }
  return table;
}
