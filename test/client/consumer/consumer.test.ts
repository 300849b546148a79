import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Consumer, ShutdownException, type RecordProcessor } from '../../../src/client/consumer/index.js';
import { LeaseTable } from '../../../src/client/consumer/lease-table.js';
import { newLease } from '../../../src/client/consumer/shard-sync.js';
import { ManualClock, OffsetClock } from '../../../src/util/clock.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { createActiveStream, dynamoClient, eventually, put } from './helpers.js';
import { recorder } from './recorder.js';

describe('consumer worker', () => {
  const serverClock = new OffsetClock();
  let server: TestServer;
  let kinesis: KinesisClient;
  let ddb: DynamoDBClient;
  const running: Consumer[] = [];
  before(async () => {
    server = await startTestServer({}, { clock: serverClock });
    kinesis = server.client();
    ddb = dynamoClient(server.endpoint);
  });
  after(async () => {
    await Promise.all(running.map((c) => c.shutdown()));
    ddb.destroy();
    await server.destroy();
  });

  async function shardsOf(stream: string) {
    return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
  }

  it('takes a lease over once its counter stood still for the failover time (as this worker observed it)', async () => {
    await createActiveStream(kinesis, 'takeover', 2);
    const [s0, s1] = await shardsOf('takeover');
    const table = new LeaseTable(ddb, 'takeover-app');
    await table.ensureTable(true);
    // A lease held by a worker that is gone, with a checkpoint.
    const ghost = { ...newLease(s0.ShardId!, { sequenceNumber: '1', subSequenceNumber: 0 }, [], s0.HashKeyRange), leaseOwner: 'ghost', leaseCounter: 5 };
    assert.ok(await table.createLeaseIfNotExists(ghost));

    const clock = new ManualClock();
    const rec = recorder();
    const c = new Consumer({
      applicationName: 'takeover-app',
      streamName: 'takeover',
      workerId: 'me',
      kinesisClient: kinesis,
      dynamoDBClient: ddb,
      recordProcessorFactory: rec.factory,
      failoverTimeMs: 10_000,
      // Lease taking runs only when the test calls takeLeases().
      leaseTakerIntervalMs: 3_600_000,
      idleTimeBetweenReadsMs: 50,
      clock,
    });
    running.push(c);
    await c.start();
    assert.deepEqual(c.heldLeases(), [s1.ShardId], 'the unowned lease; the ghost counts as a live worker for now');

    clock.advance(9_999);
    await c.takeLeases();
    assert.deepEqual(c.heldLeases(), [s1.ShardId], 'not expired yet');
    clock.advance(2);
    await c.takeLeases();
    assert.deepEqual(c.heldLeases(), [s0.ShardId, s1.ShardId].sort());
    const taken = await table.getLease(s0.ShardId!);
    assert.equal(taken?.leaseOwner, 'me');
    assert.equal(taken?.ownerSwitchesSinceCheckpoint, 1);
    assert.ok(taken!.leaseCounter > 5);
    await eventually(() => rec.events.find((e) => e.ev === 'init' && e.shard === s0.ShardId), 'processor for the taken lease');
    assert.equal(rec.events.find((e) => e.ev === 'init' && e.shard === s0.ShardId)?.seq, '1', 'starts from the checkpoint it found');
    await c.shutdown();
    assert.deepEqual((await table.listLeases()).map((l) => l.leaseOwner), [undefined, undefined], 'released on shutdown');
  });

  it('fences checkpoints: a worker whose lease was taken gets ShutdownException and leaseLost, and overwrites nothing', async () => {
    await createActiveStream(kinesis, 'fenced', 1);
    const [s0] = await shardsOf('fenced');
    const outcomes: string[] = [];
    let checkpointNow = false;
    const processor = (): RecordProcessor => ({
      initialize() {},
      async processRecords({ checkpointer }) {
        if (!checkpointNow) return;
        try {
          await checkpointer.checkpoint();
          outcomes.push('ok');
        } catch (err) {
          outcomes.push(err instanceof ShutdownException ? 'ShutdownException' : String(err));
        }
      },
      leaseLost() {
        outcomes.push('leaseLost');
      },
      shardEnded() {},
      shutdownRequested() {
        outcomes.push('shutdownRequested');
      },
    });
    const c = new Consumer({
      applicationName: 'fenced-app',
      streamName: 'fenced',
      workerId: 'old-owner',
      kinesisClient: kinesis,
      dynamoDBClient: ddb,
      recordProcessorFactory: processor,
      failoverTimeMs: 60_000,
      leaseTakerIntervalMs: 3_600_000,
      idleTimeBetweenReadsMs: 50,
    });
    running.push(c);
    await c.start();
    assert.deepEqual(c.heldLeases(), [s0.ShardId]);
    // Another worker takes the lease and checkpoints.
    const table = new LeaseTable(ddb, 'fenced-app');
    const current = (await table.getLease(s0.ShardId!))!;
    const theirs = (await table.takeLease(current, 'new-owner'))!;
    const produced = await put(kinesis, 'fenced', [{ pk: 'a', data: 'x' }]);
    assert.ok(await table.checkpoint(theirs, { sequenceNumber: produced[0].seq, subSequenceNumber: 0 }));
    checkpointNow = true;
    await put(kinesis, 'fenced', [{ pk: 'a', data: 'y' }]);
    await eventually(() => outcomes.includes('leaseLost'), 'lease lost');
    assert.deepEqual(outcomes, ['ShutdownException', 'leaseLost']);
    assert.deepEqual(c.heldLeases(), []);
    const after = await table.getLease(s0.ShardId!);
    assert.equal(after?.leaseOwner, 'new-owner');
    assert.equal(after?.checkpoint.sequenceNumber, produced[0].seq, "the new owner's checkpoint stands");
    await c.shutdown();
    assert.deepEqual(outcomes, ['ShutdownException', 'leaseLost'], 'no shutdownRequested for a lost lease');
    assert.equal((await table.getLease(s0.ShardId!))?.leaseOwner, 'new-owner', 'shutdown does not release a lease it lost');
  });

  it('starts new leases at LATEST or AT_TIMESTAMP', async () => {
    await createActiveStream(kinesis, 'positions', 1);
    const old = await put(kinesis, 'positions', [{ pk: 'a', data: 'old-1' }, { pk: 'a', data: 'old-2' }]);
    assert.equal(old.length, 2);
    serverClock.advance(60_000);
    const at = new Date(serverClock.now());
    serverClock.advance(1_000);
    await put(kinesis, 'positions', [{ pk: 'a', data: 'mid-1' }, { pk: 'a', data: 'mid-2' }]);

    const timed = recorder();
    const c1 = new Consumer({
      applicationName: 'positions-at',
      streamName: 'positions',
      kinesisClient: kinesis,
      dynamoDBClient: ddb,
      recordProcessorFactory: timed.factory,
      initialPosition: { type: 'AT_TIMESTAMP', timestamp: at },
      idleTimeBetweenReadsMs: 50,
    });
    running.push(c1);
    await c1.start();
    await eventually(() => timed.records().length >= 2, 'records after the timestamp');
    assert.deepEqual(timed.records().map((r) => r.data), ['mid-1', 'mid-2']);
    await eventually(async () => (await new LeaseTable(ddb, 'positions-at').listLeases())[0].checkpoint.sequenceNumber === timed.records()[1].seq, 'checkpoint');

    // LATEST: wait until the shard is being read (an empty processRecords call), then write.
    let polled = false;
    const latest = recorder();
    const c2 = new Consumer({
      applicationName: 'positions-latest',
      streamName: 'positions',
      kinesisClient: kinesis,
      dynamoDBClient: ddb,
      recordProcessorFactory: (shard) => {
        const p = latest.factory(shard);
        return {
          ...p,
          processRecords(input) {
            polled = true;
            return input.records.length ? p.processRecords(input) : undefined;
          },
        };
      },
      initialPosition: { type: 'LATEST' },
      idleTimeBetweenReadsMs: 50,
      callProcessRecordsEvenForEmptyRecordList: true,
    });
    running.push(c2);
    await c2.start();
    assert.equal((await new LeaseTable(ddb, 'positions-latest').listLeases())[0].checkpoint.sequenceNumber, 'LATEST');
    await eventually(() => polled, 'first poll');
    await kinesis.send(new PutRecordCommand({ StreamName: 'positions', PartitionKey: 'a', Data: Buffer.from('new-1') }));
    await eventually(() => latest.records().length >= 1, 'the new record');
    assert.deepEqual(latest.records().map((r) => r.data), ['new-1']);
    await Promise.all([c1.shutdown(), c2.shutdown()]);
  });
});
