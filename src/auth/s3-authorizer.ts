import type { PolicyEvaluator } from './policy.js';
import { accessDeniedMessage } from './policy.js';
import { requestContext, type RequestFacts } from './request.js';

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
export function s3Authorizer(settings: { region: string; accountId: string }, policies: PolicyEvaluator | undefined) {
  return function authorize(facts: RequestFacts, permission: S3Permission): string | undefined {
    const credential = facts.caller.credential;
    if (!credential || !policies) return undefined;
    const ctx = requestContext(credential, facts, settings, permission.action, permission.resource);
    const decision = policies.evaluate(credential.policies, undefined, ctx);
    return decision.effect === 'allow' ? undefined : accessDeniedMessage(ctx, decision);
  };
}

export type S3Authorize = ReturnType<typeof s3Authorizer>;
