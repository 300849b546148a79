import type { Operation } from '../protocol/operation.js';
import type { PolicyEvaluator } from './policy.js';
import { requestContext, requireAllowed, type RequestFacts } from './request.js';

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
    for (const resource of resources) {
      requireAllowed(policies, credential, undefined, requestContext(credential, facts, settings, op.action, resource));
    }
  };
}
