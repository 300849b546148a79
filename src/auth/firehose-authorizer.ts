import type { AuthorizedOperation } from './dynamodb-authorizer.js';
import type { PolicyEvaluator } from './policy.js';
import { requestContext, requireAllowed, type RequestFacts } from './request.js';

type Input = Record<string, unknown>;

/** The delivery stream a Firehose request acts on, or `*` for ListDeliveryStreams. */
export function firehoseResource(settings: { region: string; accountId: string }, operation: string, input: Input): string | undefined {
  if (operation === 'ListDeliveryStreams') return '*';
  const name = input.DeliveryStreamName;
  return typeof name === 'string' && name !== ''
    ? `arn:aws:firehose:${settings.region}:${settings.accountId}:deliverystream/${name}`
    : undefined;
}

/**
 * Authorizes one Firehose request by the caller's identity policies, for the operation's action
 * (`firehose:<Operation>`) on the delivery stream's ARN. Refuses with AccessDeniedException worded
 * as AWS words it.
 */
export function firehoseAuthorizer(settings: { region: string; accountId: string }, policies: PolicyEvaluator) {
  return async function authorize(op: AuthorizedOperation, input: Input, facts: RequestFacts): Promise<void> {
    const credential = facts.caller.credential;
    if (!credential) return;
    const resource = firehoseResource(settings, op.name, input);
    if (resource === undefined) return;
    requireAllowed(policies, credential, undefined, requestContext(credential, facts, settings, op.action, resource));
  };
}
