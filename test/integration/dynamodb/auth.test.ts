import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, ListTablesCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { removeDir, startTestServer, tempDir, type TestServer } from '../../helpers/server.js';
import { createLeaseTable, dynamoClient, expectError } from './helpers.js';

const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/leases`;

describe('DynamoDB authorization by IAM policies', () => {
  let dir: string;
  let server: TestServer;
  let admin: DynamoDBClient;
  let reader: DynamoDBClient;
  before(async () => {
    dir = tempDir();
    const file = path.join(dir, 'credentials.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          accessKeyId: 'AKIDADMIN',
          secretAccessKey: 'admin-secret',
          principal: 'admin',
          policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }],
        },
        {
          accessKeyId: 'AKIDREADER',
          secretAccessKey: 'reader-secret',
          principal: 'reader',
          policies: [
            {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [TABLE, `${TABLE}/index/*`] }],
            },
          ],
        },
      ]),
    );
    server = await startTestServer({ credentials: file, accountId: ACCOUNT });
    admin = dynamoClient(server.endpoint, { credentials: { accessKeyId: 'AKIDADMIN', secretAccessKey: 'admin-secret' } });
    reader = dynamoClient(server.endpoint, { credentials: { accessKeyId: 'AKIDREADER', secretAccessKey: 'reader-secret' } });
    await createLeaseTable(admin, 'leases');
    await admin.send(new PutItemCommand({ TableName: 'leases', Item: { leaseKey: { S: 'a' } } }));
  });
  after(async () => {
    admin.destroy();
    reader.destroy();
    await server.destroy();
    removeDir(dir);
  });

  it('lets a caller do what its policies allow on the tables they name', async () => {
    const got = await reader.send(new GetItemCommand({ TableName: 'leases', Key: { leaseKey: { S: 'a' } } }));
    assert.deepEqual(got.Item, { leaseKey: { S: 'a' } });
    const q = await reader.send(
      new QueryCommand({ TableName: 'leases', KeyConditionExpression: 'leaseKey = :k', ExpressionAttributeValues: { ':k': { S: 'a' } } }),
    );
    assert.equal(q.Count, 1);
  });

  it('refuses anything else with AccessDeniedException', async () => {
    await expectError(
      reader.send(new PutItemCommand({ TableName: 'leases', Item: { leaseKey: { S: 'b' } } })),
      'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    await expectError(
      reader.send(new ListTablesCommand({})),
      'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: dynamodb:ListTables on resource: * because no identity-based policy allows the dynamodb:ListTables action`,
    );
    await expectError(reader.send(new GetItemCommand({ TableName: 'other', Key: { leaseKey: { S: 'a' } } })), 'AccessDeniedException');
  });
});
