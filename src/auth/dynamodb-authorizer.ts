import { AccessDeniedException } from '../protocol/errors.js';
import type { Operation } from '../protocol/operation.js';
import type { RequestFacts } from './kinesis-authorizer.js';
import { accessDeniedMessage, type PolicyEvaluator, type RequestContext } from './policy.js';

type Input = Record<string, unknown>;
/** What authorization needs of an operation: its name and its IAM action. */
export type AuthorizedOperation = Pick<Operation<unknown>, 'name' | 'action'>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The resources a DynamoDB request acts on: the table (or its index) it names, every table of a
 * batch, the ARN of a tagging call, or `*` for account-wide calls. Undefined when the request
 * names nothing; the operation then refuses it itself.
 */
export function dynamoDbResources(settings: { region: string; accountId: string }, operation: string, input: Input): string[] | undefined {
  const table = (name: string) => `arn:aws:dynamodb:${settings.region}:${settings.accountId}:table/${name}`;
  switch (operation) {
    case 'ListTables':
    case 'DescribeLimits':
      return ['*'];
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsOfResource': {
      const arn = str(input.ResourceArn);
      return arn ? [arn] : undefined;
    }
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const items = input.RequestItems;
      if (items === null || typeof items !== 'object') return undefined;
      return Object.keys(items).map(table);
    }
    default: {
      const name = str(input.TableName);
      if (!name) return undefined;
      const index = str(input.IndexName);
      return [index && (operation === 'Query' || operation === 'Scan') ? `${table(name)}/index/${index}` : table(name)];
    }
  }
}

/**
 * Authorizes one DynamoDB request by the caller's identity policies, evaluated for the
 * operation's action (`dynamodb:<Operation>`) on every resource it names (tables have no resource policies here).
 * Refuses with AccessDeniedException worded as AWS words it.
 */
export function dynamoDbAuthorizer(settings: { region: string; accountId: string }, policies: PolicyEvaluator) {
  return async function authorize(op: AuthorizedOperation, input: Input, facts: RequestFacts): Promise<void> {
    const credential = facts.caller.credential;
    if (!credential) return;
    const resources = dynamoDbResources(settings, op.name, input);
    if (resources === undefined) return;
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
    for (const resource of resources) {
      const ctx: RequestContext = {
        action: op.action,
        resource,
        principalArn: credential.principalArn,
        account: principalAccount,
        keys,
      };
      const decision = policies.evaluate(credential.policies, undefined, ctx);
      if (decision.effect !== 'allow') throw new AccessDeniedException(accessDeniedMessage(ctx, decision));
    }
  };
}
