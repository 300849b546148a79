import { resolveConsumer } from '../kinesis/consumers.js';
import { resolveResource } from '../kinesis/resources.js';
import type { Kinesis } from '../kinesis/service.js';
import { AccessDeniedException } from '../protocol/errors.js';
import { kinesisActionResources } from './kinesis-actions.js';
import { accessDeniedMessage, type PolicyEvaluator, type RequestContext } from './policy.js';
import type { Caller } from './sigv4.js';

/** What the transport knows about a request, for condition keys. */
export interface RequestFacts {
  caller: Caller;
  sourceIp: string;
  secureTransport: boolean;
  now: number;
}

type Input = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The ARN an operation's request names, or undefined when it names none this can resolve. */
async function resourceArn(k: Kinesis, operation: string, input: Input): Promise<string | undefined> {
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

async function resourcePolicyOf(k: Kinesis, arn: string): Promise<string | undefined> {
  if (arn === '*' || arn.endsWith(':*')) return undefined;
  try {
    return (await resolveResource(k, arn)).policy();
  } catch {
    return undefined;
  }
}

/**
 * Authorizes one Kinesis request: the caller's identity policies and the resource policy of the
 * stream or consumer it names, evaluated for `kinesis:<Operation>` on that resource. Refuses with
 * AccessDeniedException worded as AWS words it.
 */
export function kinesisAuthorizer(k: Kinesis, policies: PolicyEvaluator) {
  const account = k.settings.accountId;
  return async function authorize(operation: string, input: Input, facts: RequestFacts): Promise<void> {
    const credential = facts.caller.credential;
    if (!credential) return;
    const arn = await resourceArn(k, operation, input);
    // A request naming nothing resolvable is refused by the operation itself; nothing is exposed.
    if (arn === undefined) return;
    const principalAccount = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(credential.principalArn)?.[1] ?? account;
    const keys = new Map<string, string>([
      ['aws:sourceip', facts.sourceIp],
      ['aws:currenttime', new Date(facts.now).toISOString().replace(/\.\d{3}Z$/, 'Z')],
      ['aws:epochtime', String(Math.floor(facts.now / 1000))],
      ['aws:securetransport', facts.secureTransport ? 'true' : 'false'],
      ['aws:principalarn', credential.principalArn],
      ['aws:principalaccount', principalAccount],
      ['aws:userid', credential.accessKeyId],
      ['aws:requestedregion', k.settings.region],
    ]);
    if (credential.userName !== undefined) {
      keys.set('aws:username', credential.userName);
      keys.set('aws:principaltype', 'User');
    }
    const ctx: RequestContext = {
      action: `kinesis:${operation}`,
      resource: arn,
      principalArn: credential.principalArn,
      account: principalAccount,
      keys,
    };
    const decision = policies.evaluate(credential.policies, await resourcePolicyOf(k, arn), ctx);
    if (decision.effect !== 'allow') throw new AccessDeniedException(accessDeniedMessage(ctx, decision));
  };
}
