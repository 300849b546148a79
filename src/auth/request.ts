import { AccessDeniedException } from '../protocol/errors.js';
import type { Credential } from './credentials.js';
import { accessDeniedMessage, type PolicyEvaluator, type RequestContext } from './policy.js';
import type { Caller } from './sigv4.js';

/** What the transport knows about a request, for condition keys. */
export interface RequestFacts {
  caller: Caller;
  sourceIp: string;
  secureTransport: boolean;
  now: number;
}

/**
 * The policy-evaluation context of a verified caller's request: `action` on `resource`, with the
 * global condition keys AWS sets for every service (aws:SourceIp, aws:CurrentTime, …).
 * `accountId` is the server's account, the principal's unless its ARN names another.
 */
export function requestContext(
  credential: Credential,
  facts: RequestFacts,
  where: { region: string; accountId: string },
  action: string,
  resource: string,
): RequestContext {
  const principalAccount = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(credential.principalArn)?.[1] ?? where.accountId;
  const keys = new Map<string, string>([
    ['aws:sourceip', facts.sourceIp],
    ['aws:currenttime', new Date(facts.now).toISOString().replace(/\.\d{3}Z$/, 'Z')],
    ['aws:epochtime', String(Math.floor(facts.now / 1000))],
    ['aws:securetransport', facts.secureTransport ? 'true' : 'false'],
    ['aws:principalarn', credential.principalArn],
    ['aws:principalaccount', principalAccount],
    ['aws:userid', credential.accessKeyId],
    ['aws:requestedregion', where.region],
  ]);
  if (credential.userName !== undefined) {
    keys.set('aws:username', credential.userName);
    keys.set('aws:principaltype', 'User');
  }
  return { action, resource, principalArn: credential.principalArn, account: principalAccount, keys };
}

/**
 * Refuses (AccessDeniedException, worded as AWS words it) a request that the caller's identity
 * policies and the resource's policy (if any) do not allow.
 */
export function requireAllowed(
  policies: PolicyEvaluator,
  credential: Credential,
  resourcePolicy: string | undefined,
  ctx: RequestContext,
): void {
  const decision = policies.evaluate(credential.policies, resourcePolicy, ctx);
  if (decision.effect !== 'allow') throw new AccessDeniedException(accessDeniedMessage(ctx, decision));
}
