import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeTableCommand, GetItemCommand, ListTablesCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { removeDir, spawnServer, startTestServer, tempDir } from '../../helpers/server.js';
import { createLeaseTable, dynamoClient } from './helpers.js';

describe('DynamoDB tables across a restart', () => {
  it('keeps tables and items when the server restarts on the same data directory', async () => {
    const dataDir = tempDir();
    try {
      const first = await startTestServer({}, { dataDir });
      const c1 = dynamoClient(first.endpoint);
      await createLeaseTable(c1, 'app-leases', { Tags: [{ Key: 'k', Value: 'v' }] });
      for (let i = 0; i < 20; i++) {
        await c1.send(
          new PutItemCommand({
            TableName: 'app-leases',
            Item: { leaseKey: { S: `shardId-${String(i).padStart(12, '0')}` }, leaseCounter: { N: String(i) }, checkpoint: { S: 'TRIM_HORIZON' } },
          }),
        );
      }
      await c1.send(
        new UpdateItemCommand({
          TableName: 'app-leases',
          Key: { leaseKey: { S: 'shardId-000000000003' } },
          UpdateExpression: 'SET checkpoint = :c, parentShardId = :p',
          ExpressionAttributeValues: { ':c': { S: '49590338271490256608559692538361571095921575989136588898' }, ':p': { SS: ['shardId-000000000001'] } },
        }),
      );
      c1.destroy();
      await first.close();

      const second = await startTestServer({}, { dataDir });
      const c2 = dynamoClient(second.endpoint);
      try {
        assert.deepEqual((await c2.send(new ListTablesCommand({}))).TableNames, ['app-leases']);
        const d = await c2.send(new DescribeTableCommand({ TableName: 'app-leases' }));
        assert.equal(d.Table?.TableStatus, 'ACTIVE');
        assert.equal(d.Table?.ItemCount, 20);
        const scan = await c2.send(new ScanCommand({ TableName: 'app-leases' }));
        assert.equal(scan.Count, 20);
        assert.deepEqual(
          scan.Items?.map((i) => i.leaseKey!.S),
          Array.from({ length: 20 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`),
        );
        const item = await c2.send(new GetItemCommand({ TableName: 'app-leases', Key: { leaseKey: { S: 'shardId-000000000003' } } }));
        assert.deepEqual(item.Item, {
          leaseKey: { S: 'shardId-000000000003' },
          leaseCounter: { N: '3' },
          checkpoint: { S: '49590338271490256608559692538361571095921575989136588898' },
          parentShardId: { SS: ['shardId-000000000001'] },
        });
      } finally {
        c2.destroy();
        await second.close();
      }
    } finally {
      removeDir(dataDir);
    }
  });

  it('keeps every acknowledged conditional write when the server is killed mid-load', async () => {
    const dataDir = tempDir();
    try {
      const first = await spawnServer(dataDir);
      const c1 = dynamoClient(first.endpoint);
      await createLeaseTable(c1, 'crash');
      const workers = 6;
      for (let w = 0; w < workers; w++) {
        await c1.send(new PutItemCommand({ TableName: 'crash', Item: { leaseKey: { S: `lease-${w}` }, leaseCounter: { N: '0' } } }));
      }
      const acked = new Array<number>(workers).fill(0);
      let killed = false;
      // A write that fails before the kill is a failure of the test, not the end of its worker.
      let failure: unknown;
      const load = Array.from({ length: workers }, async (_, w) => {
        for (let n = 0; !killed; n++) {
          try {
            await c1.send(
              new UpdateItemCommand({
                TableName: 'crash',
                Key: { leaseKey: { S: `lease-${w}` } },
                UpdateExpression: 'SET leaseCounter = :next',
                ConditionExpression: 'leaseCounter = :current',
                ExpressionAttributeValues: { ':next': { N: String(n + 1) }, ':current': { N: String(n) } },
              }),
            );
            acked[w] = n + 1;
          } catch (err) {
            if (!killed) failure ??= err;
            return;
          }
        }
      });
      // Kill once every worker has had some writes acknowledged.
      const deadline = Date.now() + 60_000;
      while (acked.some((n) => n < 5) && failure === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      if (failure !== undefined) throw failure;
      assert.ok(acked.every((n) => n >= 5), `every worker had writes acknowledged before the kill (${acked.join(', ')})`);
      first.child.kill('SIGKILL');
      killed = true;
      await first.exited;
      await Promise.all(load);
      c1.destroy();

      const second = await startTestServer({}, { dataDir });
      const c2 = dynamoClient(second.endpoint);
      try {
        for (let w = 0; w < workers; w++) {
          const item = await c2.send(new GetItemCommand({ TableName: 'crash', Key: { leaseKey: { S: `lease-${w}` } }, ConsistentRead: true }));
          const stored = Number(item.Item?.leaseCounter?.N);
          // The write in flight at the kill may or may not have been committed.
          assert.ok(stored === acked[w] || stored === acked[w]! + 1, `lease-${w}: stored ${stored}, acknowledged ${acked[w]}`);
        }
      } finally {
        c2.destroy();
        await second.close();
      }
    } finally {
      removeDir(dataDir);
    }
  });
});
