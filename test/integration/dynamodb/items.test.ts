import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeLimitsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateContinuousBackupsCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { http1, SIGNED } from '../../helpers/raw.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { createLeaseTable, dynamoClient, expectError } from './helpers.js';

describe('DynamoDB through @aws-sdk/client-dynamodb', () => {
  let server: TestServer;
  let client: DynamoDBClient;
  before(async () => {
    server = await startTestServer();
    client = dynamoClient(server.endpoint);
    await createLeaseTable(client, 'leases');
    await client.send(
      new CreateTableCommand({
        TableName: 'events',
        KeySchema: [
          { AttributeName: 'topic', KeyType: 'HASH' },
          { AttributeName: 'seq', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'topic', AttributeType: 'S' },
          { AttributeName: 'seq', AttributeType: 'N' },
        ],
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 10 },
      }),
    );
  });
  after(async () => {
    client.destroy();
    await server.destroy();
  });

  const key = (k: string) => ({ leaseKey: { S: k } });

  describe('tables', () => {
    it('answers CreateTable with CREATING and DescribeTable with ACTIVE and the table facts', async () => {
      const created = await client.send(
        new CreateTableCommand({
          TableName: 'fresh.table-1',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'B' }],
          BillingMode: 'PAY_PER_REQUEST',
          Tags: [{ Key: 'team', Value: 'streams' }],
        }),
      );
      assert.equal(created.TableDescription?.TableStatus, 'CREATING');
      assert.equal(created.TableDescription?.TableArn, 'arn:aws:dynamodb:us-east-1:000000000000:table/fresh.table-1');
      const d = await client.send(new DescribeTableCommand({ TableName: 'fresh.table-1' }));
      assert.equal(d.Table?.TableStatus, 'ACTIVE');
      assert.equal(d.Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(d.Table?.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }]);
      assert.ok(d.Table?.CreationDateTime instanceof Date);
      const p = await client.send(new DescribeTableCommand({ TableName: 'events' }));
      assert.equal(p.Table?.ProvisionedThroughput?.ReadCapacityUnits, 10);
      assert.equal(p.Table?.BillingModeSummary?.BillingMode, 'PROVISIONED');
    });

    it('refuses a second table of the same name and unknown tables', async () => {
      await expectError(createLeaseTable(client, 'leases'), 'ResourceInUseException', 'Table already exists: leases');
      await expectError(
        client.send(new DescribeTableCommand({ TableName: 'missing' })),
        'ResourceNotFoundException',
        'Requested resource not found: Table: missing not found',
      );
      await expectError(client.send(new GetItemCommand({ TableName: 'missing', Key: key('a') })), 'ResourceNotFoundException', 'Requested resource not found');
    });

    it('checks key schemas and billing modes as DynamoDB does', async () => {
      await expectError(
        client.send(
          new CreateTableCommand({
            TableName: 'bad1',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'other', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        ),
        'ValidationException',
        'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]',
      );
      await expectError(
        client.send(
          new CreateTableCommand({
            TableName: 'bad2',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          }),
        ),
        'ValidationException',
        'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
      );
      await expectError(
        client.send(
          new CreateTableCommand({
            TableName: 'bad3',
            KeySchema: [{ AttributeName: 'id', KeyType: 'RANGE' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        ),
        'ValidationException',
        'Invalid KeySchema: The first KeySchemaElement is not a HASH key type',
      );
      await expectError(
        client.send(new DescribeTableCommand({ TableName: 'a!' })),
        'ValidationException',
        "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
      );
    });

    it('pages ListTables with Limit and ExclusiveStartTableName', async () => {
      for (const n of ['list-a', 'list-b', 'list-c']) await createLeaseTable(client, n);
      const all = await client.send(new ListTablesCommand({}));
      assert.deepEqual(all.TableNames, [...(all.TableNames ?? [])].sort());
      const names: string[] = [];
      let start: string | undefined;
      do {
        const page = await client.send(new ListTablesCommand({ Limit: 2, ExclusiveStartTableName: start }));
        assert.ok((page.TableNames ?? []).length <= 2);
        names.push(...(page.TableNames ?? []));
        start = page.LastEvaluatedTableName;
      } while (start);
      assert.deepEqual(names, all.TableNames);
      await expectError(
        client.send(new ListTablesCommand({ Limit: 101 })),
        'ValidationException',
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
      );
    });

    it('deletes a table with its items; the name can then be used again, empty', async () => {
      await createLeaseTable(client, 'doomed');
      await client.send(new PutItemCommand({ TableName: 'doomed', Item: { ...key('x'), v: { N: '1' } } }));
      const deleted = await client.send(new DeleteTableCommand({ TableName: 'doomed' }));
      assert.equal(deleted.TableDescription?.TableStatus, 'DELETING');
      await expectError(client.send(new DescribeTableCommand({ TableName: 'doomed' })), 'ResourceNotFoundException');
      await expectError(client.send(new GetItemCommand({ TableName: 'doomed', Key: key('x') })), 'ResourceNotFoundException', 'Requested resource not found');
      await expectError(
        client.send(new DeleteTableCommand({ TableName: 'doomed' })),
        'ResourceNotFoundException',
        'Requested resource not found: Table: doomed not found',
      );
      await createLeaseTable(client, 'doomed');
      const scan = await client.send(new ScanCommand({ TableName: 'doomed' }));
      assert.equal(scan.Count, 0);
    });

    it('records point-in-time recovery and TTL settings, and reports the default limits', async () => {
      const pitr = await client.send(
        new UpdateContinuousBackupsCommand({ TableName: 'leases', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      );
      assert.equal(pitr.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus, 'ENABLED');
      const ttl = await client.send(
        new UpdateTimeToLiveCommand({ TableName: 'leases', TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }),
      );
      assert.deepEqual(ttl.TimeToLiveSpecification, { Enabled: true, AttributeName: 'expiresAt' });
      const described = await client.send(new DescribeTimeToLiveCommand({ TableName: 'leases' }));
      assert.deepEqual(described.TimeToLiveDescription, { TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
      await expectError(
        client.send(new UpdateTimeToLiveCommand({ TableName: 'leases', TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } })),
        'ValidationException',
        'TimeToLive is already enabled',
      );
      const limits = await client.send(new DescribeLimitsCommand({}));
      assert.equal(limits.TableMaxWriteCapacityUnits, 40000);
    });

    it('tags tables by ARN', async () => {
      const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/leases';
      await client.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
      await client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['a'] }));
      const tags = await client.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
      assert.deepEqual(tags.Tags, [{ Key: 'b', Value: '2' }]);
    });
  });

  describe('items', () => {
    it('round-trips every attribute type', async () => {
      const item: Record<string, AttributeValue> = {
        ...key('all-types'),
        s: { S: 'text ✓ "quoted"' },
        empty: { S: '' },
        n: { N: '-12.50' },
        big: { N: '12345678901234567890123456789012345678' },
        b: { B: new Uint8Array([0, 1, 254, 255]) },
        t: { BOOL: true },
        f: { BOOL: false },
        nul: { NULL: true },
        ss: { SS: ['x', 'y'] },
        ns: { NS: ['1', '2.5', '-3'] },
        bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
        l: { L: [{ S: 'a' }, { N: '1' }, { L: [] }, { M: {} }] },
        m: { M: { nested: { M: { deep: { L: [{ BOOL: false }, { B: new Uint8Array([9]) }] } } } } },
      };
      await client.send(new PutItemCommand({ TableName: 'leases', Item: item }));
      const got = await client.send(new GetItemCommand({ TableName: 'leases', Key: key('all-types'), ConsistentRead: true }));
      // DynamoDB trims leading and trailing zeros from numbers.
      assert.deepEqual(got.Item, { ...item, n: { N: '-12.5' } });
      const missing = await client.send(new GetItemCommand({ TableName: 'leases', Key: key('nobody') }));
      assert.equal(missing.Item, undefined);
      const projected = await client.send(
        new GetItemCommand({
          TableName: 'leases',
          Key: key('all-types'),
          ProjectionExpression: '#m.nested.deep[1], ss',
          ExpressionAttributeNames: { '#m': 'm' },
        }),
      );
      assert.deepEqual(projected.Item, { m: { M: { nested: { M: { deep: { L: [{ B: new Uint8Array([9]) }] } } } } }, ss: { SS: ['x', 'y'] } });
    });

    it('writes conditionally with expressions and fails as AWS fails', async () => {
      const lease = { ...key('shard-0'), leaseCounter: { N: '1' }, leaseOwner: { S: 'w1' } };
      await client.send(new PutItemCommand({ TableName: 'leases', Item: lease, ConditionExpression: 'attribute_not_exists(leaseKey)' }));
      const err = await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: lease, ConditionExpression: 'attribute_not_exists(leaseKey)' })),
        'ConditionalCheckFailedException',
        'The conditional request failed',
      );
      assert.equal(err.Item, undefined);
      const withItem = await expectError(
        client.send(
          new UpdateItemCommand({
            TableName: 'leases',
            Key: key('shard-0'),
            UpdateExpression: 'SET leaseCounter = leaseCounter + :one',
            ConditionExpression: 'leaseCounter = :expected',
            ExpressionAttributeValues: { ':one': { N: '1' }, ':expected': { N: '5' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
        'ConditionalCheckFailedException',
        'The conditional request failed',
      );
      assert.deepEqual(withItem.Item, lease);
      const updated = await client.send(
        new UpdateItemCommand({
          TableName: 'leases',
          Key: key('shard-0'),
          UpdateExpression: 'SET leaseCounter = leaseCounter + :one, #o = :me REMOVE checkpointOwner ADD ownerSwitches :one',
          ConditionExpression: 'leaseCounter = :expected AND attribute_not_exists(checkpointOwner)',
          ExpressionAttributeNames: { '#o': 'leaseOwner' },
          ExpressionAttributeValues: { ':one': { N: '1' }, ':expected': { N: '1' }, ':me': { S: 'w2' } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      assert.deepEqual(updated.Attributes, { ...key('shard-0'), leaseCounter: { N: '2' }, leaseOwner: { S: 'w2' }, ownerSwitches: { N: '1' } });
      const updatedOld = await client.send(
        new UpdateItemCommand({
          TableName: 'leases',
          Key: key('shard-0'),
          UpdateExpression: 'SET leaseCounter = :three',
          ExpressionAttributeValues: { ':three': { N: '3' } },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      assert.deepEqual(updatedOld.Attributes, { leaseCounter: { N: '2' } });
      const updatedNew = await client.send(
        new UpdateItemCommand({
          TableName: 'leases',
          Key: key('shard-0'),
          UpdateExpression: 'SET checkpoint = :c',
          ExpressionAttributeValues: { ':c': { S: 'TRIM_HORIZON' } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      assert.deepEqual(updatedNew.Attributes, { checkpoint: { S: 'TRIM_HORIZON' } });
      const deleted = await expectError(
        client.send(
          new DeleteItemCommand({
            TableName: 'leases',
            Key: key('shard-0'),
            ConditionExpression: 'leaseOwner = :w',
            ExpressionAttributeValues: { ':w': { S: 'w1' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
        'ConditionalCheckFailedException',
      );
      assert.equal((deleted.Item as Record<string, AttributeValue>).leaseOwner?.S, 'w2');
      const gone = await client.send(
        new DeleteItemCommand({
          TableName: 'leases',
          Key: key('shard-0'),
          ConditionExpression: 'leaseOwner = :w',
          ExpressionAttributeValues: { ':w': { S: 'w2' } },
          ReturnValues: 'ALL_OLD',
        }),
      );
      assert.equal(gone.Attributes?.checkpoint?.S, 'TRIM_HORIZON');
      assert.equal((await client.send(new GetItemCommand({ TableName: 'leases', Key: key('shard-0') }))).Item, undefined);
      // A deleted item can be created again under the same condition.
      await client.send(new PutItemCommand({ TableName: 'leases', Item: lease, ConditionExpression: 'attribute_not_exists(leaseKey)' }));
      await client.send(new DeleteItemCommand({ TableName: 'leases', Key: key('shard-0') }));
    });

    it('creates an item from its key when UpdateItem finds none', async () => {
      const r = await client.send(
        new UpdateItemCommand({
          TableName: 'leases',
          Key: key('upsert'),
          UpdateExpression: 'SET visits = if_not_exists(visits, :zero) + :one',
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      assert.deepEqual(r.Attributes, { ...key('upsert'), visits: { N: '1' } });
    });

    it('serves the legacy Expected and AttributeUpdates forms the KCL uses', async () => {
      const lease = { ...key('legacy'), leaseCounter: { N: '0' }, checkpoint: { S: 'TRIM_HORIZON' } };
      await client.send(new PutItemCommand({ TableName: 'leases', Item: lease, Expected: { leaseKey: { Exists: false } } }));
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: lease, Expected: { leaseKey: { Exists: false } } })),
        'ConditionalCheckFailedException',
        'The conditional request failed',
      );
      const taken = await client.send(
        new UpdateItemCommand({
          TableName: 'leases',
          Key: key('legacy'),
          Expected: { leaseCounter: { Value: { N: '0' } }, checkpointOwner: { Exists: false } },
          AttributeUpdates: {
            leaseCounter: { Action: 'PUT', Value: { N: '1' } },
            leaseOwner: { Action: 'PUT', Value: { S: 'worker-1' } },
            ownerSwitchesSinceCheckpoint: { Action: 'ADD', Value: { N: '1' } },
            checkpoint: { Action: 'DELETE' },
            parentShardId: { Action: 'ADD', Value: { SS: ['shardId-0'] } },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      assert.deepEqual(taken.Attributes, {
        ...key('legacy'),
        leaseCounter: { N: '1' },
        leaseOwner: { S: 'worker-1' },
        ownerSwitchesSinceCheckpoint: { N: '1' },
        parentShardId: { SS: ['shardId-0'] },
      });
      const lost = await expectError(
        client.send(
          new UpdateItemCommand({
            TableName: 'leases',
            Key: key('legacy'),
            Expected: { leaseCounter: { Value: { N: '0' } } },
            AttributeUpdates: { leaseCounter: { Action: 'PUT', Value: { N: '1' } } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
        'ConditionalCheckFailedException',
      );
      assert.equal((lost.Item as Record<string, AttributeValue>).leaseOwner?.S, 'worker-1');
      const either = await client.send(
        new UpdateItemCommand({
          TableName: 'leases',
          Key: key('legacy'),
          Expected: {
            leaseOwner: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'nobody' }] },
            leaseCounter: { ComparisonOperator: 'GE', AttributeValueList: [{ N: '1' }] },
          },
          ConditionalOperator: 'OR',
          AttributeUpdates: { leaseCounter: { Action: 'ADD', Value: { N: '1' } } },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      assert.deepEqual(either.Attributes, { leaseCounter: { N: '2' } });
    });

    it('refuses bad requests with DynamoDB messages', async () => {
      await expectError(
        client.send(new GetItemCommand({ TableName: 'leases', Key: { leaseKey: { N: '1' } } })),
        'ValidationException',
        'The provided key element does not match the schema',
      );
      await expectError(
        client.send(new GetItemCommand({ TableName: 'leases', Key: { ...key('a'), extra: { S: 'x' } } })),
        'ValidationException',
        'The provided key element does not match the schema',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { other: { S: 'x' } } })),
        'ValidationException',
        'One or more parameter values were invalid: Missing the key leaseKey in the item',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { leaseKey: { N: '1' } } })),
        'ValidationException',
        'One or more parameter values were invalid: Type mismatch for key leaseKey expected: S actual: N',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { leaseKey: { S: '' } } })),
        'ValidationException',
        'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: leaseKey',
      );
      await expectError(
        client.send(
          new PutItemCommand({
            TableName: 'leases',
            Item: key('a'),
            ConditionExpression: 'attribute_not_exists(leaseKey)',
            ExpressionAttributeNames: { '#x': 'unused' },
          }),
        ),
        'ValidationException',
        'Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: key('a'), ConditionExpression: 'leaseKey = :v' })),
        'ValidationException',
        'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v',
      );
      await expectError(
        client.send(
          new UpdateItemCommand({
            TableName: 'leases',
            Key: key('a'),
            UpdateExpression: 'SET a = :v',
            Expected: { a: { Exists: false } },
            ExpressionAttributeValues: { ':v': { S: 'x' } },
          }),
        ),
        'ValidationException',
        'Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {UpdateExpression}',
      );
      await expectError(
        client.send(new UpdateItemCommand({ TableName: 'leases', Key: key('a'), UpdateExpression: 'SET leaseKey = :v', ExpressionAttributeValues: { ':v': { S: 'b' } } })),
        'ValidationException',
        'One or more parameter values were invalid: Cannot update attribute leaseKey. This attribute is part of the key',
      );
      await expectError(
        client.send(new UpdateItemCommand({ TableName: 'leases', Key: key('a'), UpdateExpression: 'SET a = :v,', ExpressionAttributeValues: { ':v': { S: 'b' } } })),
        'ValidationException',
        'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","',
      );
      // Malformed requests are refused before the table is looked up.
      await expectError(
        client.send(new PutItemCommand({ TableName: 'no-such-table', Item: key('a'), ConditionExpression: 'leaseKey = ' })),
        'ValidationException',
        'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "= "',
      );
      await expectError(
        client.send(
          new UpdateItemCommand({ TableName: 'leases', Key: key('a'), AttributeUpdates: { leaseKey: { Action: 'PUT', Value: { S: 'b' } } } }),
        ),
        'ValidationException',
        'One or more parameter values were invalid: Cannot update attribute leaseKey. This attribute is part of the key',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: key('a'), ReturnValues: 'ALL_NEW' })),
        'ValidationException',
        'ReturnValues can only be ALL_OLD or NONE',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { ...key('a'), s: { SS: ['x', 'x'] } } })),
        'ValidationException',
        'One or more parameter values were invalid: Input collection [x, x] contains duplicates.',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { ...key('a'), n: { N: 'twelve' } } })),
        'ValidationException',
        'A value provided cannot be converted into a number',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { ...key('big'), data: { S: 'x'.repeat(400 * 1024) } } })),
        'ValidationException',
        'Item size has exceeded the maximum allowed size',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: { ...key('a'), e: {} as AttributeValue } })),
        'ValidationException',
        'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
      );
      await expectError(
        client.send(new PutItemCommand({ TableName: 'leases', Item: key('a'), ReturnValuesOnConditionCheckFailure: 'SOME' as 'ALL_OLD' })),
        'ValidationException',
        "1 validation error detected: Value 'SOME' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]",
      );
    });

    it('writes DynamoDB JSON 1.0 errors with the namespaced __type and lower-case message', async () => {
      // A signature scoped to DynamoDB, as its clients make them.
      const dynamo = { authorization: SIGNED.authorization.replace('/kinesis/', '/dynamodb/') };
      const r = await http1(
        server.endpoint,
        'DynamoDB_20120810.GetItem',
        JSON.stringify({ TableName: 'missing', Key: key('a') }),
        dynamo,
        'application/x-amz-json-1.0',
      );
      assert.equal(r.status, 400);
      assert.equal(r.headers['content-type'], 'application/x-amz-json-1.0');
      assert.deepEqual(JSON.parse(r.body.toString()), {
        __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
        message: 'Requested resource not found',
      });
      const v = await http1(server.endpoint, 'DynamoDB_20120810.GetItem', JSON.stringify({ TableName: 'missing' }), dynamo, 'application/x-amz-json-1.0');
      assert.equal(JSON.parse(v.body.toString()).__type, 'com.amazon.coral.validate#ValidationException');
      const ok = await http1(server.endpoint, 'DynamoDB_20120810.ListTables', '{}', dynamo, 'application/x-amz-json-1.0');
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['content-type'], 'application/x-amz-json-1.0');
    });

    it('batches reads and writes', async () => {
      const w = await client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            leases: [
              { PutRequest: { Item: { ...key('batch-1'), v: { N: '1' } } } },
              { PutRequest: { Item: { ...key('batch-2'), v: { N: '2' } } } },
              { DeleteRequest: { Key: key('upsert') } },
            ],
          },
        }),
      );
      assert.deepEqual(w.UnprocessedItems, {});
      const r = await client.send(
        new BatchGetItemCommand({ RequestItems: { leases: { Keys: [key('batch-1'), key('batch-2'), key('upsert')], ProjectionExpression: 'v' } } }),
      );
      assert.deepEqual(
        r.Responses?.leases?.map((i) => i.v?.N).sort(),
        ['1', '2'],
      );
      assert.deepEqual(r.UnprocessedKeys, {});
    });
  });

  describe('Scan and Query', () => {
    before(async () => {
      for (const topic of ['alpha', 'beta']) {
        for (let seq = 1; seq <= 12; seq++) {
          await client.send(
            new PutItemCommand({
              TableName: 'events',
              Item: { topic: { S: topic }, seq: { N: String(seq) }, kind: { S: seq % 2 === 0 ? 'even' : 'odd' }, tag: { S: `t${seq}` } },
            }),
          );
        }
      }
    });

    it('scans in key order (hash key, then range key numerically) and pages with ExclusiveStartKey', async () => {
      const seen: string[] = [];
      let start: Record<string, AttributeValue> | undefined;
      let pages = 0;
      do {
        const page = await client.send(new ScanCommand({ TableName: 'events', Limit: 5, ExclusiveStartKey: start }));
        pages++;
        assert.ok((page.Items ?? []).length <= 5);
        seen.push(...(page.Items ?? []).map((i) => `${i.topic!.S}:${i.seq!.N}`));
        start = page.LastEvaluatedKey;
        if (start) assert.deepEqual(Object.keys(start).sort(), ['seq', 'topic']);
      } while (start);
      const expected = ['alpha', 'beta'].flatMap((s) => Array.from({ length: 12 }, (_, i) => `${s}:${i + 1}`));
      assert.deepEqual(seen, expected);
      assert.equal(pages, 5);
      // A page that reaches its Limit names its last key, even at the end of the table.
      const last = await client.send(new ScanCommand({ TableName: 'events', Limit: 4, ExclusiveStartKey: { topic: { S: 'beta' }, seq: { N: '8' } } }));
      assert.equal(last.Count, 4);
      assert.deepEqual(last.LastEvaluatedKey, { topic: { S: 'beta' }, seq: { N: '12' } });
      const empty = await client.send(new ScanCommand({ TableName: 'events', Limit: 4, ExclusiveStartKey: last.LastEvaluatedKey }));
      assert.equal(empty.Count, 0);
      assert.equal(empty.LastEvaluatedKey, undefined);
    });

    it('filters, projects and counts', async () => {
      const filtered = await client.send(
        new ScanCommand({
          TableName: 'events',
          FilterExpression: 'kind = :k AND seq > :n',
          ProjectionExpression: 'seq, #t',
          ExpressionAttributeNames: { '#t': 'tag' },
          ExpressionAttributeValues: { ':k': { S: 'even' }, ':n': { N: '8' } },
        }),
      );
      assert.equal(filtered.Count, 4);
      assert.equal(filtered.ScannedCount, 24);
      assert.deepEqual(filtered.Items?.[0], { seq: { N: '10' }, tag: { S: 't10' } });
      const counted = await client.send(new ScanCommand({ TableName: 'events', Select: 'COUNT', ScanFilter: { kind: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'odd' }] } } }));
      assert.equal(counted.Count, 12);
      assert.equal(counted.Items, undefined);
      const segments = await Promise.all(
        [0, 1, 2].map((Segment) => client.send(new ScanCommand({ TableName: 'events', Segment, TotalSegments: 3, Select: 'COUNT' }))),
      );
      assert.equal(segments.reduce((n, s) => n + (s.Count ?? 0), 0), 24);
    });

    it('queries by key condition, both directions, with paging and filters', async () => {
      const q = await client.send(
        new QueryCommand({
          TableName: 'events',
          KeyConditionExpression: 'topic = :s AND seq BETWEEN :a AND :b',
          ExpressionAttributeValues: { ':s': { S: 'beta' }, ':a': { N: '3' }, ':b': { N: '10' } },
        }),
      );
      assert.deepEqual(q.Items?.map((i) => i.seq!.N), ['3', '4', '5', '6', '7', '8', '9', '10']);
      const back: string[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: 'events',
            KeyConditionExpression: 'topic = :s AND seq >= :a',
            FilterExpression: 'kind = :odd',
            ExpressionAttributeValues: { ':s': { S: 'alpha' }, ':a': { N: '5' }, ':odd': { S: 'odd' } },
            ScanIndexForward: false,
            Limit: 3,
            ExclusiveStartKey: start,
          }),
        );
        back.push(...(page.Items ?? []).map((i) => i.seq!.N!));
        start = page.LastEvaluatedKey;
      } while (start);
      assert.deepEqual(back, ['11', '9', '7', '5']);
      const legacy = await client.send(
        new QueryCommand({
          TableName: 'events',
          KeyConditions: {
            topic: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'alpha' }] },
            seq: { ComparisonOperator: 'LT', AttributeValueList: [{ N: '3' }] },
          },
        }),
      );
      assert.equal(legacy.Count, 2);
      await expectError(
        client.send(new QueryCommand({ TableName: 'events', KeyConditionExpression: 'seq = :a', ExpressionAttributeValues: { ':a': { N: '1' } } })),
        'ValidationException',
        'Query condition missed key schema element: topic',
      );
      await expectError(
        client.send(
          new QueryCommand({
            TableName: 'events',
            KeyConditionExpression: 'topic = :s AND seq > :a AND seq < :b',
            ExpressionAttributeValues: { ':s': { S: 'alpha' }, ':a': { N: '1' }, ':b': { N: '5' } },
          }),
        ),
        'ValidationException',
        'Conditions can be of length 1 or 2 only',
      );
      await expectError(
        client.send(
          new QueryCommand({
            TableName: 'events',
            KeyConditionExpression: 'topic = :s AND topic = :s',
            ExpressionAttributeValues: { ':s': { S: 'alpha' } },
          }),
        ),
        'ValidationException',
        'KeyConditionExpressions must only contain one condition per key',
      );
      await expectError(
        client.send(new QueryCommand({ TableName: 'events' })),
        'ValidationException',
        'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
      );
    });

    it('queries a global secondary index added by UpdateTable, as KCL 3 does', async () => {
      await createLeaseTable(client, 'kcl3', {
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      });
      await client.send(
        new UpdateTableCommand({
          TableName: 'kcl3',
          AttributeDefinitions: [
            { AttributeName: 'leaseKey', AttributeType: 'S' },
            { AttributeName: 'leaseOwner', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: 'LeaseOwnerToLeaseKeyIndex',
                KeySchema: [
                  { AttributeName: 'leaseOwner', KeyType: 'HASH' },
                  { AttributeName: 'leaseKey', KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            },
          ],
        }),
      );
      const d = await client.send(new DescribeTableCommand({ TableName: 'kcl3' }));
      assert.equal(d.Table?.GlobalSecondaryIndexes?.[0]?.IndexStatus, 'ACTIVE');
      for (const [k, owner] of [['s3', 'w1'], ['s1', 'w1'], ['s2', 'w2']] as const) {
        await client.send(new PutItemCommand({ TableName: 'kcl3', Item: { ...key(k), leaseOwner: { S: owner }, leaseCounter: { N: '1' } } }));
      }
      await client.send(new PutItemCommand({ TableName: 'kcl3', Item: key('unowned') }));
      const mine = await client.send(
        new QueryCommand({
          TableName: 'kcl3',
          IndexName: 'LeaseOwnerToLeaseKeyIndex',
          KeyConditionExpression: 'leaseOwner = :o',
          ExpressionAttributeValues: { ':o': { S: 'w1' } },
        }),
      );
      assert.deepEqual(mine.Items, [
        { ...key('s1'), leaseOwner: { S: 'w1' } },
        { ...key('s3'), leaseOwner: { S: 'w1' } },
      ]);
    });
  });
});
