import { accessDeniedMessage, evaluate, type RequestContext } from './policy.js';
import type { RequestFacts } from './kinesis-authorizer.js';

/** One permission an S3 request needs: an `s3:*` action on a bucket or object ARN (or `*`). */
export interface S3Permission {
  action: string;
  resource: string;
}

/** `arn:aws:s3:::bucket` and `arn:aws:s3:::bucket/key`. */
export const s3BucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const s3ObjectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

/**
 * Authorizes S3 requests by the caller's identity policies (buckets have no policies here):
 * returns undefined when allowed, else AWS's refusal message. Callers without a credential
 * (development mode) are allowed.
 */
export function s3Authorizer(settings: { region: string; accountId: string }) {
  return function authorize(facts: RequestFacts, permission: S3Permission): string | undefined {
    const credential = facts.caller.credential;
    if (!credential) return undefined;
    const principalAccount = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(credential.principalArn)?.[1] ?? settings.accountId;
    const keys = new Map<string, string>([
      ['aws:sourceip', facts.sourceIp],
      ['aws:currenttime', new Date(facts.now).toISOString().replace(/\.\d{3}Z$/, 'Z')],
      ['aws:epochtime', String(Math.floor(facts.now / 1000))],
      ['aws:securetransport', facts.secureTransport ? 'true' : 'false'],
      ['aws:principalarn', credential.principalArn],
      ['aws:principalaccount', principalAccount],
      ['aws:userid', credential.accessKeyId],
      ['aws:requestedregion', settings.region],
    ]);
    if (credential.userName !== undefined) {
      keys.set('aws:username', credential.userName);
      keys.set('aws:principaltype', 'User');
    }
    const ctx: RequestContext = {
      action: permission.action,
      resource: permission.resource,
      principalArn: credential.principalArn,
      account: principalAccount,
      keys,
    };
    const decision = evaluate(credential.policies, undefined, ctx);
    return decision.effect === 'allow' ? undefined : accessDeniedMessage(ctx, decision);
  };
}

export type S3Authorize = ReturnType<typeof s3Authorizer>;
