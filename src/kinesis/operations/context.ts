import type { KinesisContext } from '../context.js';
import type { Channels } from '../channels.js';
import type { FanOut } from '../subscriptions.js';

export type { StreamRef } from '../context.js';

/**
 * What an operation gets to work with: the service's context (../context.ts), and the fan-out
 * registry itself, which SubscribeToShard admits and opens subscriptions through, and the channels.
 */
export interface OperationContext extends KinesisContext {
  readonly fanOut: FanOut;
  /** The Channel operations' state and delivery. */
  readonly channels: Channels;
}
