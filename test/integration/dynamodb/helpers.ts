import assert from 'node:assert/strict';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export function dynamoClient(endpoint: string, extra: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: 1,
    ...extra,
  });
}

/** A KCL-style lease table: `leaseKey` (S) as the only key, on demand. */
export async function createLeaseTable(client: DynamoDBClient, name: string, extra: Partial<CreateTableCommandInput> = {}): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      ...extra,
    }),
  );
}

/** Awaits a rejection and checks its error name, HTTP status and message. */
export async function expectError(
  promise: Promise<unknown>,
  name: string,
  message?: string | RegExp,
  status = 400,
): Promise<Error & { $metadata?: { httpStatusCode?: number }; [k: string]: unknown }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, status);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return e as Error & { $metadata?: { httpStatusCode?: number }; [k: string]: unknown };
  }
  assert.fail(`expected ${name}`);
}
