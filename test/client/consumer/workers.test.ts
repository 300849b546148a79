import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, MergeShardsCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { LeaseTable } from '../../../src/client/consumer/lease-table.js';
import { compareExtended, isShardEnd } from '../../../src/client/consumer/sequence.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { bySeq, createActiveStream, dynamoClient, eventually, put, waitActive, type Produced } from './helpers.js';
import type { WorkerConfig } from './fixtures/worker.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'worker.js');

interface Ev {
  ev: 'ready' | 'init' | 'rec' | 'cp' | 'cperr' | 'ending' | 'end' | 'lost' | 'shutdown' | 'exit';
  w: string;
  t: number;
  shard?: string;
  seq?: string;
  sub?: number;
  pk?: string;
  data?: string;
}

interface Worker {
  id: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

for (const retrieval of ['polling', 'fanout'] as const) {
  describe(`three consumer worker processes (${retrieval} retrieval)`, () => {
    let server: TestServer;
    let kinesis: KinesisClient;
    let ddb: DynamoDBClient;
    let stopProducer: () => Promise<void> = async () => {};
    const workers: Worker[] = [];
    const events: Ev[] = [];

    before(async () => {
      server = await startTestServer({ updateStreamDelayMs: 50 });
      kinesis = server.client();
      ddb = dynamoClient(server.endpoint);
    });
    after(async () => {
      await stopProducer();
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      ddb.destroy();
      await server.destroy();
    });

    function spawnWorker(config: WorkerConfig): Worker {
      const child = spawn(process.execPath, ['--disable-warning=NodeVersionSupportWarning', WORKER], {
        env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          events.push(JSON.parse(line) as Ev);
        } catch {
          // not a report line
        }
      });
      const w = { id: config.workerId, child, exited };
      workers.push(w);
      return w;
    }

    it('share the leases, process every record in per-key order, fail over, and respect parents across a reshard', async () => {
      const stream = `multi-${retrieval}`;
      const app = `multi-${retrieval}-app`;
      await createActiveStream(kinesis, stream, 6);
      const table = new LeaseTable(ddb, app);
      const base: Omit<WorkerConfig, 'workerId'> = {
        endpoint: server.endpoint,
        stream,
        app,
        failoverTimeMs: 2500,
        leaseTakerIntervalMs: 500,
        maxLeasesToStealAtOneTime: 2,
        shardSyncIntervalMs: 1000,
        parentShardPollIntervalMs: 200,
        idleTimeBetweenReadsMs: 100,
        checkpointEveryBatches: 3,
        retrieval,
      };
      // w1 starts alone and takes every lease; w2 and w3 join later and have to steal.
      spawnWorker({ ...base, workerId: 'w1' });
      await eventually(() => events.some((e) => e.ev === 'ready' && e.w === 'w1'), 'w1 ready', 30_000);
      assert.equal((await table.listLeases()).filter((l) => l.leaseOwner === 'w1').length, 6);

      // Producer: 30 keys, each record's data carries the key's own counter.
      const produced: Produced[] = [];
      const counters = new Map<string, number>();
      let producing = true;
      let round = 0;
      const producer = (async () => {
        while (producing) {
          const entries = Array.from({ length: 6 }, (_, i) => {
            const pk = `key-${(round * 6 + i) % 30}`;
            const n = counters.get(pk) ?? 0;
            counters.set(pk, n + 1);
            return { pk, data: `${pk}:${n}` };
          });
          round++;
          produced.push(...(await put(kinesis, stream, entries)));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      stopProducer = async () => {
        producing = false;
        await producer.catch(() => undefined);
      };

      await eventually(() => events.some((e) => e.ev === 'rec'), 'w1 processing');
      for (const id of ['w2', 'w3']) spawnWorker({ ...base, workerId: id });
      await eventually(() => events.filter((e) => e.ev === 'ready').length === 3, 'workers ready', 30_000);

      // Leases spread 2/2/2.
      const spread = async () => {
        const counts = new Map<string, number>();
        for (const l of await table.listLeases()) if (l.leaseOwner && !isShardEnd(l.checkpoint)) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
        return counts;
      };
      await eventually(async () => {
        const c = await spread();
        return c.size === 3 && [...c.values()].every((n) => n === 2);
      }, 'leases spread 2/2/2', 30_000, 200);
      const owners = await spread();
      assert.deepEqual([...owners.entries()].sort(), [['w1', 2], ['w2', 2], ['w3', 2]]);
      await eventually(() => ['w1', 'w2', 'w3'].every((w) => events.some((e) => e.ev === 'cp' && e.w === w)), 'every worker checkpointed');
      // w1 was told of every lease stolen from it.
      // (it notices at its next renewal or checkpoint)
      await eventually(() => events.filter((e) => e.ev === 'lost' && e.w === 'w1').length >= 4, 'w1 told of its lost leases', 10_000);
      const lost = events.filter((e) => e.ev === 'lost' && e.w === 'w1').map((e) => e.shard!).sort();
      const stolen = (await table.listLeases()).filter((l) => l.leaseOwner !== 'w1').map((l) => l.leaseKey).sort();
      assert.deepEqual(lost, stolen);

      // SIGKILL w3: its leases move to the others after the failover time, from the last checkpoint.
      const victimShards = (await table.listLeases()).filter((l) => l.leaseOwner === 'w3').map((l) => l.leaseKey).sort();
      assert.equal(victimShards.length, 2);
      const victim = workers.find((w) => w.id === 'w3')!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      await eventually(async () => {
        const leases = await table.listLeases();
        return victimShards.every((s) => {
          const owner = leases.find((l) => l.leaseKey === s)?.leaseOwner;
          return (owner === 'w1' || owner === 'w2') && events.some((e) => e.ev === 'init' && e.shard === s && e.w === owner && e.t > killedAt);
        });
      }, 'failover of the killed worker\'s leases', 20_000, 100);

      // Reshard while consuming: split shard 0, merge shards 4 and 5.
      await new Promise((r) => setTimeout(r, 500));
      const before = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
      const s0 = before.find((s) => s.ShardId === 'shardId-000000000000')!;
      const mid = (BigInt(s0.HashKeyRange!.StartingHashKey!) + BigInt(s0.HashKeyRange!.EndingHashKey!)) / 2n;
      await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: s0.ShardId, NewStartingHashKey: String(mid) }));
      await waitActive(kinesis, stream);
      await kinesis.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: 'shardId-000000000004', AdjacentShardToMerge: 'shardId-000000000005' }));
      await waitActive(kinesis, stream);
      await new Promise((r) => setTimeout(r, 1500));
      producing = false;
      await producer;

      // Every record is processed.
      const seen = () => new Set(events.filter((e) => e.ev === 'rec').map((e) => e.data));
      await eventually(() => produced.every((p) => seen().has(p.data)), 'every record processed', 30_000, 200);

      // Graceful shutdown of the survivors.
      for (const w of workers.filter((x) => x.id !== 'w3')) w.child.kill('SIGTERM');
      const codes = await Promise.all(workers.filter((x) => x.id !== 'w3').map((w) => w.exited));
      assert.deepEqual(codes, [0, 0]);
      assert.deepEqual(events.filter((e) => e.ev === 'exit').map((e) => e.w).sort(), ['w1', 'w2']);

      const recs = events.filter((e) => e.ev === 'rec');
      // CONSUMER_TEST_DUMP=<file> keeps every report line and produced record for inspection.
      if (process.env.CONSUMER_TEST_DUMP) (await import('node:fs')).writeFileSync(process.env.CONSUMER_TEST_DUMP, JSON.stringify({ events, produced }));
      // Per-key order: the first processing of each record follows the order the key's records were written in.
      const first = new Map<string, number>();
      for (const e of recs) if (!first.has(e.data!) || first.get(e.data!)! > e.t) first.set(e.data!, e.t);
      for (const [pk, n] of counters) {
        for (let i = 1; i < n; i++) {
          assert.ok(first.get(`${pk}:${i - 1}`)! <= first.get(`${pk}:${i}`)!, `${pk}: record ${i - 1} processed before ${i}`);
        }
      }
      // A session processes each shard in sequence-number order.
      for (const w of ['w1', 'w2', 'w3']) {
        const byShard = new Map<string, Ev[]>();
        for (const e of recs.filter((x) => x.w === w)) byShard.set(e.shard!, [...(byShard.get(e.shard!) ?? []), e]);
        for (const [shard, list] of byShard) {
          for (let i = 1; i < list.length; i++) {
            // A later session of the same worker on the same shard may start again at its checkpoint.
            const restarted = events.some((e) => e.ev === 'init' && e.w === w && e.shard === shard && e.t > list[i - 1].t && e.t < list[i].t);
            if (!restarted) assert.ok(bySeq(list[i - 1], list[i]) < 0, `${w} ${shard} in order`);
          }
        }
      }

      // Fail-over resumed from the last checkpoint: the next record after it first, none before it.
      for (const shard of victimShards) {
        const lastCp = events.filter((e) => e.ev === 'cp' && e.w === 'w3' && e.shard === shard).at(-1);
        // The lease can move on again while the two survivors even out their counts, so the session
        // checked is the first one after the kill that processed a record of the shard.
        const inits = events.filter((e) => e.ev === 'init' && e.shard === shard && e.t > killedAt);
        const sessionRecs = (init: Ev) => {
          const end = inits.find((e) => e.t > init.t)?.t ?? Infinity;
          return recs.filter((e) => e.shard === shard && e.w === init.w && e.t > init.t && e.t < end);
        };
        const init = inits.find((i) => sessionRecs(i).length > 0);
        assert.ok(init, `${shard} processed after fail-over`);
        if (lastCp) assert.ok(compareExtended({ sequenceNumber: init.seq!, subSequenceNumber: init.sub! }, { sequenceNumber: lastCp.seq!, subSequenceNumber: lastCp.sub! }) >= 0, `${shard} resumed at or after w3's last checkpoint`);
        const taken = sessionRecs(init);
        const inShard = produced.filter((p) => p.shard === shard).sort(bySeq);
        const expected = init.seq === 'TRIM_HORIZON' ? inShard : inShard.filter((p) => BigInt(p.seq) > BigInt(init.seq!));
        assert.deepEqual(taken.slice(0, expected.length).map((e) => e.seq), expected.slice(0, taken.length).map((p) => p.seq), `${shard}: every record after the checkpoint, none before`);
      }

      // Reshard: children start only after every parent has processed its last record and ended.
      const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
      const leases = await table.listLeases();
      const children = leases.filter((l) => l.parentShardIds.length);
      assert.deepEqual(children.map((l) => [l.leaseKey, l.parentShardIds]).sort(), [
        ['shardId-000000000006', ['shardId-000000000000']],
        ['shardId-000000000007', ['shardId-000000000000']],
        ['shardId-000000000008', ['shardId-000000000004', 'shardId-000000000005']],
      ]);
      for (const child of children) {
        const shard = shards.find((s) => s.ShardId === child.leaseKey)!;
        assert.deepEqual([shard.ParentShardId, shard.AdjacentParentShardId].filter(Boolean).sort(), child.parentShardIds);
        const init = events.find((e) => e.ev === 'init' && e.shard === child.leaseKey);
        assert.ok(init, `${child.leaseKey} was processed`);
        for (const parent of child.parentShardIds) {
          const parentLease = leases.find((l) => l.leaseKey === parent)!;
          assert.ok(isShardEnd(parentLease.checkpoint), `${parent} checkpointed SHARD_END`);
          assert.ok(parentLease.childShardIds.includes(child.leaseKey));
          const lastParentRec = Math.max(...recs.filter((e) => e.shard === parent).map((e) => e.t));
          const ending = events.find((e) => e.ev === 'ending' && e.shard === parent);
          assert.ok(ending && ending.t > lastParentRec, `${parent} ended after its last record`);
          assert.ok(init.t > ending.t, `${child.leaseKey} initialized after ${parent} reached its end`);
        }
      }
      // After the graceful shutdown no lease has an owner but the killed worker's never-renewed ones.
      assert.deepEqual(leases.filter((l) => l.leaseOwner && l.leaseOwner !== 'w3').map((l) => l.leaseKey), []);
    });
  });
}
