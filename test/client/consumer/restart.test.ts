import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Aggregator } from '../../../src/client/aggregation.js';
import type { UserRecord } from '../../../src/client/aggregation.js';
import { Consumer } from '../../../src/client/consumer/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { bySeq, createActiveStream, dynamoClient, eventually, put, type Produced } from './helpers.js';
import { recorder, type RecorderOptions } from './recorder.js';

describe('consumer restarts', () => {
  let server: TestServer;
  let kinesis: KinesisClient;
  let ddb: DynamoDBClient;
  const running: Consumer[] = [];
  before(async () => {
    server = await startTestServer();
    kinesis = server.client();
    ddb = dynamoClient(server.endpoint);
  });
  after(async () => {
    await Promise.all(running.map((c) => c.shutdown()));
    ddb.destroy();
    await server.destroy();
  });

  function consumer(app: string, stream: string, workerId: string, opts: RecorderOptions = {}) {
    const rec = recorder(opts);
    const c = new Consumer({
      applicationName: app,
      streamName: stream,
      workerId,
      kinesisClient: kinesis,
      dynamoDBClient: ddb,
      recordProcessorFactory: rec.factory,
      failoverTimeMs: 3000,
      idleTimeBetweenReadsMs: 50,
      parentShardPollIntervalMs: 100,
    });
    running.push(c);
    return { c, rec };
  }

  it('resumes from its checkpoints: records after a checkpoint come again, none before it', async () => {
    await createActiveStream(kinesis, 'resume', 2);
    const produced: Produced[] = [];
    for (let i = 0; i < 40; i++) produced.push(...(await put(kinesis, 'resume', [{ pk: `k${i % 10}`, data: `k${i % 10}:${i}` }])));
    const shards = [...new Set(produced.map((p) => p.shard))].sort();
    assert.equal(shards.length, 2, 'records on both shards');
    const inShard = (s: string) => produced.filter((p) => p.shard === s).sort(bySeq);
    // The first run checkpoints at the middle record of each shard only.
    const targets = new Map(shards.map((s) => [s, inShard(s)[Math.floor(inShard(s).length / 2)]]));
    const a = consumer('resume-app', 'resume', 'worker-a', {
      checkpointAfterBatch: (shard, records) => records.find((r) => r.sequenceNumber === targets.get(shard)!.seq),
      checkpointOnShutdown: false,
    });
    await a.c.start();
    await eventually(() => a.rec.records().length >= 40 && a.rec.events.filter((e) => e.ev === 'cp').length === 2, 'first run to process everything');
    assert.deepEqual(a.rec.records().map((r) => r.data).sort(), produced.map((p) => p.data).sort(), 'each record exactly once');
    await a.c.shutdown();
    for (const s of shards) {
      const lease = await a.c.leaseTable.getLease(s);
      assert.equal(lease?.leaseOwner, undefined, 'released on shutdown');
      assert.equal(lease?.checkpoint.sequenceNumber, targets.get(s)!.seq);
    }

    const more = await put(kinesis, 'resume', Array.from({ length: 10 }, (_, i) => ({ pk: `k${i}`, data: `more:${i}` })));
    produced.push(...more);
    const b = consumer('resume-app', 'resume', 'worker-b');
    await b.c.start();
    const expected = (s: string) => inShard(s).filter((p) => bySeq(p, targets.get(s)!) > 0);
    await eventually(() => shards.every((s) => b.rec.records(s).length >= expected(s).length), 'second run to catch up');
    for (const s of shards) {
      const init = b.rec.events.find((e) => e.ev === 'init' && e.shard === s);
      assert.equal(init?.seq, targets.get(s)!.seq, 'initialized at the checkpoint');
      assert.deepEqual(b.rec.records(s).map((r) => r.seq), expected(s).map((p) => p.seq), `shard ${s}: exactly the records after the checkpoint, in order`);
    }
    await b.c.shutdown();
    assert.ok(b.rec.events.some((e) => e.ev === 'shutdown'), 'shutdownRequested called');

    // The second run checkpointed on shutdown: a third run sees only new records.
    const last = await put(kinesis, 'resume', Array.from({ length: 6 }, (_, i) => ({ pk: `k${i}`, data: `last:${i}` })));
    const c = consumer('resume-app', 'resume', 'worker-c');
    await c.c.start();
    await eventually(() => c.rec.records().length >= last.length, 'third run');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(c.rec.records().map((r) => r.data).sort(), last.map((p) => p.data).sort());
    await c.c.shutdown();
  });

  it('de-aggregates KPL records, drops user records outside the shard, and resumes inside an aggregate', async () => {
    await createActiveStream(kinesis, 'agg', 2);
    const listed = await kinesis.send(new ListShardsCommand({ StreamName: 'agg' }));
    const [s0, s1] = listed.Shards!;
    const lo = BigInt(s0.HashKeyRange!.StartingHashKey!);
    const outside = BigInt(s1.HashKeyRange!.StartingHashKey!) + 5n;
    const aggregates: Array<{ seq: string; users: string[] }> = [];
    for (let a = 0; a < 3; a++) {
      const agg = new Aggregator();
      const users: string[] = [];
      for (let i = 0; i < 10; i++) {
        const stray = a === 0 && i === 7;
        const ehk = String(stray ? outside : lo + BigInt(a * 100 + i));
        agg.add(`user-${a}-${i}`, Buffer.from(`a${a}u${i}`), ehk);
        users.push(stray ? '' : `a${a}u${i}`);
      }
      const built = agg.build();
      const r = await kinesis.send(
        new PutRecordCommand({ StreamName: 'agg', PartitionKey: built.partitionKey, ExplicitHashKey: built.explicitHashKey, Data: built.data }),
      );
      assert.equal(r.ShardId, s0.ShardId);
      aggregates.push({ seq: r.SequenceNumber!, users });
    }
    const checkpointAt = { seq: aggregates[1].seq, sub: 4 };
    const a = consumer('agg-app', 'agg', 'worker-a', {
      checkpointAfterBatch: (_shard, records) => records.find((r: UserRecord) => r.sequenceNumber === checkpointAt.seq && r.subSequenceNumber === checkpointAt.sub),
      checkpointOnShutdown: false,
    });
    await a.c.start();
    await eventually(() => a.rec.records(s0.ShardId).length >= 29 && a.rec.events.some((e) => e.ev === 'cp'), 'all user records');
    const got = a.rec.records(s0.ShardId);
    assert.deepEqual(got.map((r) => r.data), aggregates.flatMap((x) => x.users.filter(Boolean)), 'user records in order, the stray one dropped');
    assert.deepEqual(got.slice(0, 10).map((r) => r.sub), [0, 1, 2, 3, 4, 5, 6, 8, 9, 0]);
    assert.ok(got.every((r) => r.pk!.startsWith('user-')));
    await a.c.shutdown();
    const item = await ddb.send(new GetItemCommand({ TableName: 'agg-app', Key: { leaseKey: { S: s0.ShardId! } }, ConsistentRead: true }));
    assert.deepEqual(item.Item?.checkpoint, { S: checkpointAt.seq });
    assert.deepEqual(item.Item?.checkpointSubSequenceNumber, { N: '4' });

    const b = consumer('agg-app', 'agg', 'worker-b');
    await b.c.start();
    await eventually(() => b.rec.records(s0.ShardId).length >= 15, 'resumed user records');
    const init = b.rec.events.find((e) => e.ev === 'init' && e.shard === s0.ShardId);
    assert.deepEqual([init?.seq, init?.sub], [checkpointAt.seq, 4]);
    assert.deepEqual(
      b.rec.records(s0.ShardId).map((r) => r.data),
      [...aggregates[1].users.slice(5), ...aggregates[2].users],
      'resumed after sub-sequence 4 of the checkpointed aggregate',
    );
    await b.c.shutdown();
  });
});
