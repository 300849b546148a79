/**
 * Failures in a cluster of three nats-servers: a nats-server killed under a continuous put load,
 * and a Tributary node killed while the other serves clients and takes over the background work.
 * The pauses and takeover times are reported as diagnostics (docs/cluster.md quotes them), never
 * asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import { createStream, drain, getIterator, shardId } from '../../helpers/kinesis.js';
import { eventually, skipWithoutNats, startCluster, type TestCluster } from './cluster.js';

interface Ack {
  writer: number;
  n: number;
  shard: string;
  seq: string;
}

/**
 * Writers that put records one after another and retry a record on any error until it is
 * acknowledged, keeping the acknowledgements and the longest gap between two of them.
 */
class Load {
  readonly acks: Ack[] = [];
  errors = 0;
  /** How many errors of each AWS error type the writers retried. */
  readonly errorTypes = new Map<string, number>();
  private stopping = false;
  private last = performance.now();
  longestGapMs = 0;
  private readonly running: Promise<void>[];

  constructor(client: KinesisClient, stream: string, writers: number) {
    this.running = Array.from({ length: writers }, (_, w) => this.write(client, stream, w));
  }

  private async write(client: KinesisClient, stream: string, writer: number): Promise<void> {
    for (let n = 0; !this.stopping; n++) {
      for (;;) {
        try {
          const r = await client.send(
            new PutRecordCommand({ StreamName: stream, PartitionKey: `w${writer}`, Data: Buffer.from(`${writer}:${n}`) }),
          );
          const now = performance.now();
          this.longestGapMs = Math.max(this.longestGapMs, now - this.last);
          this.last = now;
          this.acks.push({ writer, n, shard: r.ShardId!, seq: r.SequenceNumber! });
          break;
        } catch (err) {
          this.errors++;
          const type = (err as Error).name;
          this.errorTypes.set(type, (this.errorTypes.get(type) ?? 0) + 1);
          if (this.stopping) return;
          await sleep(50);
        }
      }
    }
  }

  async untilAcks(count: number, ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    while (this.acks.length < count) {
      if (Date.now() > until) throw new Error(`only ${this.acks.length} of ${count} acknowledgements`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }
}

async function readAll(client: KinesisClient, stream: string, shard: string): Promise<_Record[]> {
  return (await drain(client, await getIterator(client, stream, shard, 'TRIM_HORIZON'))).records;
}

function report(t: TestContext, what: string): void {
  t.diagnostic(what);
}

describe('failover on a three-server JetStream cluster', { skip: skipWithoutNats() }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.destroy());

  it('keeps writing when a nats-server is killed, and keeps every acknowledged record exactly once, in order', async (t) => {
    const node = await cluster.node();
    t.after(() => node.destroy());
    const client = node.client();
    await createStream(client, 'under-load', 2);
    const load = new Load(client, 'under-load', 4);
    await load.untilAcks(200);

    // The worst server to lose: the one leading a shard's JetStream stream.
    const { conn } = await cluster.catalog();
    const jsm = await jetstreamManager(conn.nc);
    let leader: string | undefined;
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${cluster.prefix}_`)) leader ??= info.cluster?.leader;
    }
    const victimIndex = cluster.nats.names.indexOf(String(leader));
    assert.ok(victimIndex >= 0, `a shard has a leader (${leader})`);
    const victim = cluster.nats.servers[victimIndex]!;
    const before = load.acks.length;
    const killedAt = performance.now();
    load.longestGapMs = 0;
    await victim.kill();
    await load.untilAcks(before + 300);
    const pause = load.longestGapMs;
    const afterKill = load.acks.length - before;
    report(t, `longest pause seen by writers after SIGKILL of a nats-server: ${pause.toFixed(0)} ms; ${load.errors} errors retried ${JSON.stringify([...load.errorTypes])}`);
    assert.ok(afterKill >= 300, 'writes continue while a nats-server is down');

    await victim.restart();
    const restartedAt = performance.now();
    // The restarted server catches up with every shard and the catalog.
    await eventually(async () => {
      for await (const info of jsm.streams.list()) {
        const replicas = info.cluster?.replicas ?? [];
        assert.equal(replicas.length, 2, `${info.config.name} has its two other replicas`);
        for (const r of replicas) assert.ok(r.current, `${info.config.name}: replica ${r.name} is current`);
      }
    }, 60_000, 250);
    report(
      t,
      `restarted nats-server caught up ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after restart ` +
        `(${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill)`,
    );
    await load.untilAcks(load.acks.length + 100);
    await load.stop();

    const byShard = new Map<string, Ack[]>();
    for (const a of load.acks) byShard.set(a.shard, [...(byShard.get(a.shard) ?? []), a]);
    for (const [shard, acks] of byShard) {
      const records = await readAll(client, 'under-load', shard);
      const seqs = records.map((r) => BigInt(r.SequenceNumber!));
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `${shard}: sequence numbers increase`);
      const count = new Map<string, number>();
      for (const r of records) count.set(r.SequenceNumber!, (count.get(r.SequenceNumber!) ?? 0) + 1);
      for (const a of acks) assert.equal(count.get(a.seq), 1, `acknowledged record ${a.writer}:${a.n} is there exactly once`);
      // Each writer's acknowledged records are in the order it wrote them, with the acknowledged data.
      const text = new Map(records.map((r) => [r.SequenceNumber!, Buffer.from(r.Data!).toString()]));
      for (const w of new Set(acks.map((a) => a.writer))) {
        const mine = acks.filter((a) => a.writer === w);
        const positions = mine.map((a) => seqs.indexOf(BigInt(a.seq)));
        for (let i = 1; i < positions.length; i++) assert.ok(positions[i]! > positions[i - 1]!, `writer ${w} in order`);
        for (const a of mine) assert.equal(text.get(a.seq), `${a.writer}:${a.n}`);
      }
    }
  });

  it('serves clients of the surviving node without an error when the other node is killed, and moves the background work to it', async (t) => {
    const args = ['--create-stream-ms', '4000'];
    const first = await cluster.spawnNode(args);
    const { catalog } = await cluster.catalog();
    const holder = async () => JSON.parse((await catalog.getSetting('lease.background')) ?? '{}').holder as string | undefined;
    // The first node takes the lease; the second finds it held.
    await eventually(async () => assert.match((await holder()) ?? '', new RegExp(`:${first.child.pid}:`)), 10_000);
    const second = await cluster.spawnNode(args);
    const client = second.client();

    await client.send(new CreateStreamCommand({ StreamName: 'steady', ShardCount: 1 }));
    await eventually(async () => {
      const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'steady' }));
      assert.equal(d.StreamDescriptionSummary!.StreamStatus, 'ACTIVE');
    }, 20_000);
    const load = new Load(client, 'steady', 2);
    await load.untilAcks(50);

    // A transition the lease holder is to complete, then the holder dies.
    await client.send(new CreateStreamCommand({ StreamName: 'born-during-failover', ShardCount: 1 }));
    const created = await catalog.loadStreams();
    const pending = created.find((s) => s.name === 'born-during-failover');
    assert.equal(pending?.status, 'CREATING');
    const killedAt = performance.now();
    await first.kill();

    await eventually(async () => assert.match((await holder()) ?? '', new RegExp(`:${second.child.pid}:`)), 20_000, 50);
    const takeover = performance.now() - killedAt;
    await eventually(
      async () => {
        const doc = (await catalog.loadStreams()).find((s) => s.name === 'born-during-failover');
        assert.equal(doc?.status, 'ACTIVE', 'the surviving node completed CREATING → ACTIVE');
      },
      20_000,
      50,
    );
    const activated = performance.now() - killedAt;
    report(t, `background-work lease moved ${takeover.toFixed(0)} ms after SIGKILL of its holder; CREATING → ACTIVE done ${activated.toFixed(0)} ms after`);
    const before = load.acks.length;
    await load.untilAcks(before + 50);
    await load.stop();
    assert.equal(load.errors, 0, 'clients of the surviving node saw no error');
    const records = await readAll(client, 'steady', shardId(0));
    const seqs = new Set(records.map((r) => r.SequenceNumber));
    for (const a of load.acks) assert.ok(seqs.has(a.seq));
    await second.stop();
  });
});
