import { resolveResource, type Resource } from '../resources.js';
import type { OperationContext } from './context.js';

const CHANNEL = /^arn:aws[a-z-]*:kinesis:[^:]*:\d{12}:channel\//;

/** The stream, consumer or channel a tag operation's ResourceARN names. */
export function resolveTaggable(k: OperationContext, arn: string): Promise<Resource> {
  return CHANNEL.test(arn) ? k.channels.resource(arn) : resolveResource(k, arn);
}
