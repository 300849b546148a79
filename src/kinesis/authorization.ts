import type { PolicyEvaluator } from '../auth/policy.js';
import { requestContext, requireAllowed, type RequestFacts } from '../auth/request.js';
import { kinesisActionResources } from './action-resources.js';
import { resolveConsumer } from './consumers.js';
import type { KinesisContext } from './context.js';
import { resolveResource, type Resource } from './resources.js';

/** The service as the authorizer sees it: its context, and its channels as policy resources. */
type AuthorizerContext = KinesisContext & { readonly channels: { resource(arn: string): Promise<Resource> } };

const CHANNEL_ARN = /^arn:aws[a-z-]*:kinesis:[^:]*:\d{12}:channel\//;

type Input = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The ARN an operation's request names, or undefined when it names none this can resolve. */
async function resourceArn(k: KinesisContext, operation: string, input: Input): Promise<string | undefined> {
  const kind = kinesisActionResources[operation];
  const streamArn = (ref: Input): string | undefined => {
    const arn = str(ref.StreamARN);
    if (arn) return arn;
    const name = str(ref.StreamName);
    return name ? k.streamArn(name) : undefined;
  };
  switch (kind) {
    case 'account':
      return '*';
    case 'resource':
      return str(input.ResourceARN);
    case 'channel': {
      const name = str(input.ChannelName);
      return str(input.ChannelARN) ?? (name ? `arn:aws:kinesis:${k.settings.region}:${k.settings.accountId}:channel/${name}` : undefined);
    }
    case 'stream': {
      const arn = streamArn(input);
      if (arn || operation !== 'ListShards') return arn;
      // ListShards with only a NextToken: the token names the stream.
      const token = str(input.NextToken);
      if (!token) return undefined;
      try {
        const s = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { s?: unknown }).s;
        return typeof s === 'string' ? k.streamArn(s) : undefined;
      } catch {
        return undefined;
      }
    }
    case 'iterator': {
      const it = str(input.ShardIterator);
      const pos = it ? k.iterators.decode(it) : undefined;
      return pos ? k.byStreamKey(pos.streamKey)?.arn : undefined;
    }
    case 'consumer': {
      const arn = str(input.ConsumerARN);
      if (arn) return arn;
      const stream = str(input.StreamARN);
      const name = str(input.ConsumerName);
      if (!stream || !name) return undefined;
      try {
        const { consumer, stream: s } = await resolveConsumer(k, { StreamARN: stream, ConsumerName: name });
        return `${s.arn}/consumer/${consumer.name}:${Math.floor(consumer.createdAt / 1000)}`;
      } catch {
        return `${stream}/consumer/${name}:*`;
      }
    }
    default:
      return undefined;
  }
}

async function resourcePolicyOf(k: AuthorizerContext, arn: string): Promise<string | undefined> {
  if (arn === '*' || arn.endsWith(':*')) return undefined;
  try {
    return (await (CHANNEL_ARN.test(arn) ? k.channels.resource(arn) : resolveResource(k, arn))).policy();
  } catch {
    return undefined;
  }
}

/**
 * Authorizes one Kinesis request: the caller's identity policies and the resource policy of the
 * stream, consumer or channel it names, evaluated for `kinesis:<Operation>` on that resource. Refuses with
 * AccessDeniedException worded as AWS words it.
 */
export function kinesisAuthorizer(k: AuthorizerContext, policies: PolicyEvaluator) {
  return async function authorize(operation: string, input: Input, facts: RequestFacts): Promise<void> {
    const credential = facts.caller.credential;
    if (!credential) return;
    const arn = await resourceArn(k, operation, input);
    // A request naming nothing resolvable is refused by the operation itself; nothing is exposed.
    if (arn === undefined) return;
    const ctx = requestContext(credential, facts, k.settings, `kinesis:${operation}`, arn);
    requireAllowed(policies, credential, await resourcePolicyOf(k, arn), ctx);
  };
}
