import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { skipWithoutNats, startNatsServer, type NatsServer } from '../../storage/jetstream/nats-server.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../../helpers/server.js';
import { createLeaseTable, dynamoClient } from './helpers.js';

/**
 * Two Tributary nodes on one JetStream store serve the same lease table: their conditional writes
 * to one item are decided by the store's compare-and-set, so exactly one wins per counter value.
 */
describe('a lease table shared by two nodes on JetStream', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  const servers: TestServer[] = [];
  const clients: DynamoDBClient[] = [];
  const dirs: string[] = [];
  before(async () => {
    nats = await startNatsServer();
    for (let i = 0; i < 2; i++) {
      const dataDir = tempDir();
      dirs.push(dataDir);
      const server = await startTestServer({ storage: 'jetstream', nats: nats.url, natsPrefix: 'DDBTWO' }, { dataDir });
      servers.push(server);
      clients.push(dynamoClient(server.endpoint));
    }
    await createLeaseTable(clients[0]!, 'shared');
    await clients[1]!.send(new PutItemCommand({ TableName: 'shared', Item: { leaseKey: { S: 'shard' }, leaseCounter: { N: '0' } } }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const s of servers) await s.close();
    for (const d of dirs) removeDir(d);
    await nats.destroy();
  });

  it('sees one table and its items from both nodes', async () => {
    for (const c of clients) {
      const scan = await c.send(new ScanCommand({ TableName: 'shared' }));
      assert.deepEqual(scan.Items, [{ leaseKey: { S: 'shard' }, leaseCounter: { N: '0' } }]);
    }
  });

  it('lets exactly one conditional update per counter value win across nodes', async () => {
    const rounds = 10;
    const perNode = 5;
    for (let round = 0; round < rounds; round++) {
      const attempts = clients.flatMap((c, node) =>
        Array.from({ length: perNode }, (_, i) =>
          c
            .send(
              new UpdateItemCommand({
                TableName: 'shared',
                Key: { leaseKey: { S: 'shard' } },
                UpdateExpression: 'SET leaseCounter = leaseCounter + :one, leaseOwner = :me ADD wins :won',
                ConditionExpression: 'leaseCounter = :expected',
                ExpressionAttributeValues: {
                  ':one': { N: '1' },
                  ':me': { S: `node-${node}-worker-${i}` },
                  ':expected': { N: String(round) },
                  ':won': { NS: [String(round + 1)] },
                },
              }),
            )
            .then(
              () => true,
              (err: Error) => {
                if (err.name === 'ConditionalCheckFailedException') return false;
                throw err;
              },
            ),
        ),
      );
      const won = (await Promise.all(attempts)).filter(Boolean).length;
      assert.equal(won, 1, `round ${round}`);
    }
    const item = await clients[0]!.send(new GetItemCommand({ TableName: 'shared', Key: { leaseKey: { S: 'shard' } }, ConsistentRead: true }));
    assert.equal(item.Item?.leaseCounter?.N, String(rounds));
    assert.equal(item.Item?.wins?.NS?.length, rounds);
  });
});
