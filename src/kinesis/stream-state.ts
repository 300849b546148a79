import { ResourceInUseException } from '../protocol/errors.js';
import type { StreamMeta, StreamStatus } from '../storage/catalog.js';
import type { KinesisContext } from './context.js';
import type { Stream } from './stream.js';

/**
 * Refuses an operation on a stream whose status is not one of `allowed` (ACTIVE unless given),
 * with AWS's ResourceInUseException.
 */
export function requireStatus(k: KinesisContext, stream: Stream, ...allowed: StreamStatus[]): void {
  const status = stream.meta.status;
  if (allowed.length === 0 ? status === 'ACTIVE' : allowed.includes(status)) return;
  throw new ResourceInUseException(
    `Stream ${stream.name} under account ${k.settings.accountId} not ACTIVE, instead in state ${status}`,
  );
}

/**
 * Changes a stream's catalog document: `change` gets the current document and returns the new
 * one (or undefined to leave it as it is), and may throw to refuse. The write is a compare-and-set
 * on the catalog's newest document (Kinesis.write), so no writer, on this node or another, undoes
 * another's change; `change` may run more than once. Changes to one stream from this node also run
 * one at a time, so that they do not race each other for the same revision.
 */
export function changeStream(
  k: KinesisContext,
  stream: Stream,
  change: (meta: StreamMeta) => StreamMeta | undefined,
): Promise<StreamMeta> {
  const run = stream.runtime.changes.then(
    () => apply(k, stream, change),
    () => apply(k, stream, change),
  );
  stream.runtime.changes = run.catch(() => undefined);
  return run;
}

function apply(k: KinesisContext, stream: Stream, change: (meta: StreamMeta) => StreamMeta | undefined): Promise<StreamMeta> {
  return k.write(stream, change);
}
