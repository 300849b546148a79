import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, ListStreamConsumersCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Consumer } from '../../../src/client/consumer/index.js';
import { arnOf } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { bySeq, createActiveStream, dynamoClient, eventually, put, waitActive, type Produced } from './helpers.js';
import { recorder } from './recorder.js';

describe('enhanced fan-out retrieval', () => {
  let server: TestServer;
  let kinesis: KinesisClient;
  let ddb: DynamoDBClient;
  let consumer: Consumer | undefined;
  before(async () => {
    // Subscriptions end after 5.5 s (instead of 5 min), so that the consumer has to resubscribe; AWS
    // refuses a new subscription for the same shard within 5 s of the last successful one.
    server = await startTestServer({ subscriptionLifetimeMs: 5_500, subscriptionHeartbeatMs: 200, consumerDelayMs: 50 });
    kinesis = server.client();
    ddb = dynamoClient(server.endpoint);
  });
  after(async () => {
    await consumer?.shutdown();
    ddb.destroy();
    await server.destroy();
  });

  it('subscribes as the application, resubscribes without gaps, and follows a split through ChildShards', async () => {
    await createActiveStream(kinesis, 'fan', 2);
    let subscribes = 0;
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'SubscribeToShardCommand') subscribes++;
        return out;
      },
      { step: 'initialize', name: 'countSubscribes' },
    );
    const rec = recorder();
    consumer = new Consumer({
      applicationName: 'fan-app',
      streamName: 'fan',
      workerId: 'fan-worker',
      kinesisClient: kinesis,
      dynamoDBClient: ddb,
      recordProcessorFactory: rec.factory,
      retrieval: 'fanout',
      failoverTimeMs: 3000,
      parentShardPollIntervalMs: 100,
      shardSyncIntervalMs: 500,
    });
    await consumer.start();
    const consumers = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: arnOf('fan') }));
    assert.deepEqual(consumers.Consumers?.map((c) => [c.ConsumerName, c.ConsumerStatus]), [['fan-app', 'ACTIVE']]);

    const produced: Produced[] = [];
    const produce = async (rounds: number, tag: string) => {
      for (let i = 0; i < rounds; i++) {
        produced.push(...(await put(kinesis, 'fan', Array.from({ length: 8 }, (_, k) => ({ pk: `key-${(i * 8 + k) % 40}`, data: `${tag}:${i}:${k}` })))));
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    // Long enough for the first subscriptions to end and be renewed.
    await produce(40, 'before');
    await eventually(() => rec.records().length >= produced.length, 'records before the split');

    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: 'fan' }))).Shards!;
    const parent = shards[0];
    const mid = (BigInt(parent.HashKeyRange!.StartingHashKey!) + BigInt(parent.HashKeyRange!.EndingHashKey!)) / 2n;
    await kinesis.send(new SplitShardCommand({ StreamName: 'fan', ShardToSplit: parent.ShardId, NewStartingHashKey: String(mid) }));
    await waitActive(kinesis, 'fan');
    await produce(10, 'after');
    await eventually(() => rec.records().length >= produced.length, 'records after the split', 30_000);
    await new Promise((r) => setTimeout(r, 300));

    const got = rec.records();
    assert.deepEqual(got.map((r) => r.data).sort(), produced.map((p) => p.data).sort(), 'every record exactly once');
    for (const shard of new Set(produced.map((p) => p.shard))) {
      assert.deepEqual(rec.records(shard).map((r) => r.seq), produced.filter((p) => p.shard === shard).sort(bySeq).map((p) => p.seq), `${shard} in order`);
    }
    const children = [...new Set(produced.filter((p) => p.data.startsWith('after') && p.shard !== shards[1].ShardId).map((p) => p.shard))];
    assert.ok(children.length >= 1 && !children.includes(parent.ShardId!), 'records went to the children');
    const endAt = rec.events.findIndex((e) => e.ev === 'end' && e.shard === parent.ShardId);
    assert.ok(endAt >= 0, 'parent reached SHARD_END');
    for (const child of children) {
      const initAt = rec.events.findIndex((e) => e.ev === 'init' && e.shard === child);
      assert.ok(initAt > endAt, `${child} initialized only after its parent ended`);
      const lease = await consumer.leaseTable.getLease(child);
      assert.deepEqual(lease?.parentShardIds, [parent.ShardId]);
    }
    // One subscription per shard (2 parents, 2 children) would make 4: more means resubscriptions.
    assert.ok(subscribes >= 6, `resubscribed (${subscribes} successful SubscribeToShard calls)`);
    const parentLease = await consumer.leaseTable.getLease(parent.ShardId!);
    assert.equal(parentLease?.checkpoint.sequenceNumber, 'SHARD_END');
    assert.equal(parentLease?.childShardIds.length, 2);
    assert.equal(parentLease?.leaseOwner, undefined, 'an ended lease is given up');

    // Lease cleanup: the parent's lease goes once both children have checkpointed past TRIM_HORIZON,
    // and shard sync does not bring it back.
    await eventually(async () => {
      const kids = await Promise.all(parentLease!.childShardIds.map((c) => consumer!.leaseTable.getLease(c)));
      return kids.every((k) => k && /^\d+$/.test(k.checkpoint.sequenceNumber));
    }, 'both children checkpointed');
    assert.deepEqual(await consumer.cleanupLeases(), [parent.ShardId]);
    assert.equal(await consumer.leaseTable.getLease(parent.ShardId!), undefined);
    assert.equal(await consumer.syncShards(), 0);
    assert.equal(await consumer.leaseTable.getLease(parent.ShardId!), undefined);
    await consumer.shutdown();
  });
});
