import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { createLeaseTable, dynamoClient } from './helpers.js';

/**
 * Workers race to renew or take one lease, each with a conditional UpdateItem on the counter it
 * last saw, as the KCL's lease taker and renewer do. Exactly one write may succeed per counter
 * value, and no increment may be lost.
 */
describe('lease-table race', () => {
  let server: TestServer;
  const clients: DynamoDBClient[] = [];
  before(async () => {
    server = await startTestServer();
    // Separate clients (and so separate connections) for the workers.
    for (let i = 0; i < 4; i++) clients.push(dynamoClient(server.endpoint));
    await createLeaseTable(clients[0]!, 'race');
    await clients[0]!.send(
      new PutItemCommand({ TableName: 'race', Item: { leaseKey: { S: 'shard' }, leaseCounter: { N: '0' } }, ConditionExpression: 'attribute_not_exists(leaseKey)' }),
    );
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.destroy();
  });

  async function attempt(worker: number, expected: number, legacy: boolean): Promise<boolean> {
    const client = clients[worker % clients.length]!;
    try {
      await client.send(
        legacy
          ? new UpdateItemCommand({
              TableName: 'race',
              Key: { leaseKey: { S: 'shard' } },
              Expected: { leaseCounter: { Value: { N: String(expected) } } },
              AttributeUpdates: {
                leaseCounter: { Action: 'PUT', Value: { N: String(expected + 1) } },
                leaseOwner: { Action: 'PUT', Value: { S: `worker-${worker}` } },
                wins: { Action: 'ADD', Value: { NS: [String(expected + 1)] } },
              },
            })
          : new UpdateItemCommand({
              TableName: 'race',
              Key: { leaseKey: { S: 'shard' } },
              UpdateExpression: 'SET leaseCounter = leaseCounter + :one, leaseOwner = :me ADD wins :won',
              ConditionExpression: 'leaseCounter = :expected',
              ExpressionAttributeValues: {
                ':one': { N: '1' },
                ':me': { S: `worker-${worker}` },
                ':expected': { N: String(expected) },
                ':won': { NS: [String(expected + 1)] },
              },
            }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  it('lets exactly one conditional update win per counter value and loses none', async () => {
    const workers = 12;
    const rounds = 15;
    const winsPerRound: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(Array.from({ length: workers }, (_, w) => attempt(w, round, (w + round) % 2 === 0)));
      winsPerRound.push(results.filter(Boolean).length);
    }
    assert.deepEqual(winsPerRound, Array(rounds).fill(1));
    const item = await clients[0]!.send(new GetItemCommand({ TableName: 'race', Key: { leaseKey: { S: 'shard' } }, ConsistentRead: true }));
    assert.equal(item.Item?.leaseCounter?.N, String(rounds));
    assert.deepEqual(
      item.Item?.wins?.NS?.map(Number).sort((a, b) => a - b),
      Array.from({ length: rounds }, (_, i) => i + 1),
    );
  });

  it('never loses an increment when every worker keeps retrying from what it read', async (t) => {
    const workers = 8;
    const perWorker = 10;
    await clients[0]!.send(new PutItemCommand({ TableName: 'race', Item: { leaseKey: { S: 'counter' }, leaseCounter: { N: '0' } } }));
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const client = clients[w % clients.length]!;
        for (let done = 0; done < perWorker; ) {
          const read = await client.send(new GetItemCommand({ TableName: 'race', Key: { leaseKey: { S: 'counter' } }, ConsistentRead: true }));
          const seen = Number(read.Item!.leaseCounter!.N);
          try {
            await client.send(
              new UpdateItemCommand({
                TableName: 'race',
                Key: { leaseKey: { S: 'counter' } },
                UpdateExpression: 'SET leaseCounter = :next',
                ConditionExpression: 'leaseCounter = :seen',
                ExpressionAttributeValues: { ':next': { N: String(seen + 1) }, ':seen': { N: String(seen) } },
              }),
            );
            done++;
          } catch (err) {
            if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
            conflicts++;
          }
        }
      }),
    );
    const item = await clients[0]!.send(new GetItemCommand({ TableName: 'race', Key: { leaseKey: { S: 'counter' } }, ConsistentRead: true }));
    assert.equal(item.Item?.leaseCounter?.N, String(workers * perWorker));
    t.diagnostic(`${conflicts} conditional updates lost a race and were retried`);
  });
});
