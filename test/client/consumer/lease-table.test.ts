import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LeaseTable } from '../../../src/client/consumer/lease-table.js';
import { SHARD_END, TRIM_HORIZON } from '../../../src/client/consumer/sequence.js';
import { newLease } from '../../../src/client/consumer/shard-sync.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { dynamoClient } from './helpers.js';

describe('lease table against the server', () => {
  let server: TestServer;
  let ddb: DynamoDBClient;
  before(async () => {
    server = await startTestServer();
    ddb = dynamoClient(server.endpoint);
  });
  after(async () => {
    ddb.destroy();
    await server.destroy();
  });

  it('creates the table with the KCL key schema and PAY_PER_REQUEST, idempotently', async () => {
    const table = new LeaseTable(ddb, 'app-schema');
    await table.ensureTable(true);
    await table.ensureTable(true);
    const d = await ddb.send(new DescribeTableCommand({ TableName: 'app-schema' }));
    assert.deepEqual(d.Table?.KeySchema, [{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
    assert.equal(d.Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(d.Table?.TableStatus, 'ACTIVE');
  });

  it('fences every write on leaseCounter and owner', async () => {
    const table = new LeaseTable(ddb, 'app-fence');
    await table.ensureTable(true);
    const fresh = newLease('shardId-000000000001', TRIM_HORIZON, ['shardId-000000000000'], { StartingHashKey: '0', EndingHashKey: '99' });
    assert.equal(await table.createLeaseIfNotExists(fresh), true);
    assert.equal(await table.createLeaseIfNotExists(fresh), false, 'attribute_not_exists(leaseKey)');

    const a = await table.takeLease(fresh, 'worker-a');
    assert.ok(a);
    assert.equal(await table.takeLease(fresh, 'worker-b'), undefined, 'stale counter');
    const renewed = await table.renewLease(a);
    assert.ok(renewed);
    assert.equal(renewed.leaseCounter, 2);

    // worker-b takes the lease over (it looked expired to it).
    const stolen = await table.takeLease(renewed, 'worker-b');
    assert.ok(stolen);
    assert.equal(stolen.ownerSwitchesSinceCheckpoint, 2);
    // worker-a's renewal and checkpoint now fail and change nothing.
    assert.equal(await table.renewLease(renewed), undefined);
    assert.equal(await table.checkpoint(renewed, { sequenceNumber: '123', subSequenceNumber: 0 }), undefined);
    const cp = await table.checkpoint(stolen, { sequenceNumber: '456', subSequenceNumber: 7 });
    assert.ok(cp);
    const stored = await table.getLease(fresh.leaseKey);
    assert.deepEqual(stored, {
      leaseKey: 'shardId-000000000001',
      leaseOwner: 'worker-b',
      leaseCounter: 4,
      checkpoint: { sequenceNumber: '456', subSequenceNumber: 7 },
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: ['shardId-000000000000'],
      childShardIds: [],
      startingHashKey: '0',
      endingHashKey: '99',
    });

    assert.equal(await table.updateChildShards(fresh.leaseKey, ['shardId-000000000002', 'shardId-000000000003']), true);
    const ended = await table.checkpoint(cp, SHARD_END);
    assert.ok(ended);
    assert.equal(await table.evictLease(cp), false, 'stale counter');
    assert.equal(await table.evictLease(ended), true);
    const released = await table.getLease(fresh.leaseKey);
    assert.equal(released?.leaseOwner, undefined);
    assert.deepEqual(released?.childShardIds, ['shardId-000000000002', 'shardId-000000000003']);
    assert.deepEqual(released?.checkpoint, SHARD_END);
    assert.deepEqual((await table.listLeases()).map((l) => l.leaseKey), ['shardId-000000000001']);
  });
});
