import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { getIterator, readShard, wholeSecond } from '../../helpers/kinesis.js';
import { registerActive, SdkSubscription } from '../../helpers/fan-out.js';
import { isOpen, listAll } from '../../helpers/resharding.js';
import { kinesisClient, removeDir, startTestServer, tempDir } from '../../helpers/server.js';
import { ManualClock } from '../../../src/util/clock.js';
import { scale } from '../scale.js';
import { filesOpenUnder, sampleProc, sleep, spawnTributary, waitFor, type ProcSample, type Spawned } from '../hostile/probe.js';

const SOAK_MS = scale(120_000, 1_800_000);
const SAMPLE_EVERY_MS = 3_000;
/** The first part of the run is warm-up: caches, JIT and pools fill. */
const WARM_UP_FRACTION = 0.2;
/** The last third's peak may exceed the first third's by this factor plus this many MiB. */
const RSS_GROWTH_FACTOR = 1.5;
const RSS_GROWTH_MIB = 40;
const FD_SLACK = 24;

const STREAMS = ['soak-0', 'soak-1', 'soak-2'];

interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number };
}

/** Counts outcomes; an error outside `allowed` for its operation is kept as a failure. */
class Outcomes {
  readonly counts = new Map<string, number>();
  readonly failures: string[] = [];
  async call<T>(op: string, run: () => Promise<T>, allowed: readonly string[] = []): Promise<T | undefined> {
    try {
      const out = await run();
      this.add(`${op} ok`);
      return out;
    } catch (e) {
      const err = e as SdkError;
      if (allowed.includes(err.name) && err.$metadata?.httpStatusCode === 400) this.add(`${op} ${err.name}`);
      else this.failures.push(`${op}: ${err.$metadata?.httpStatusCode} ${err.name}: ${err.message}`);
      return undefined;
    }
  }
  private add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);

describe('soak: mixed load against a spawned server', { timeout: SOAK_MS + 300_000 }, () => {
  const dataDir = tempDir('tributary-soak-');
  let server: Spawned;
  let sdk: KinesisClient;
  let h2: KinesisClient;

  before(async () => {
    server = await spawnTributary(dataDir, [
      '--limits', 'off',
      '--consumer-status-ms', '0',
      '--update-stream-ms', '50',
      '--subscribe-lifetime-ms', String(scale(15_000, 60_000)),
      '--subscribe-heartbeat-ms', '1000',
    ]);
    sdk = kinesisClient(server.endpoint);
    h2 = kinesisClient(server.endpoint, { requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }) });
  });
  after(async () => {
    sdk?.destroy();
    h2?.destroy();
    await server?.stop();
    removeDir(dataDir);
  });

  it('keeps memory and descriptors flat', async (t) => {
    const quiet = sampleProc(server.pid);
    for (const s of STREAMS) await sdk.send(new CreateStreamCommand({ StreamName: s, ShardCount: 2 }));
    await sleep(200);
    const consumers = [await registerActive(sdk, 'soak-0', 'fan-a'), await registerActive(sdk, 'soak-0', 'fan-b')];

    const outcomes = new Outcomes();
    const samples: Array<ProcSample & { at: number; logs: number }> = [];
    const started = Date.now();
    const deadline = started + SOAK_MS;
    const running = () => Date.now() < deadline;
    let written = 0;
    let delivered = 0;
    let read = 0;
    const streamsDir = path.join(dataDir, 'streams');
    // Segment files stay open while their shard is kept (closed shards included, until retention
    // drops them), so they are counted apart from connections and everything else.
    const sample = () => {
      const p = sampleProc(server.pid);
      const logs = filesOpenUnder(server.pid, streamsDir);
      return { ...p, logs, fds: p.fds - logs };
    };
    const sampler = setInterval(() => samples.push({ at: Date.now() - started, ...sample() }), SAMPLE_EVERY_MS);

    const writer = async (stream: string, client: KinesisClient) => {
      const payload = Buffer.alloc(1024, 0x62);
      for (let n = 0; running(); n++) {
        const r = await outcomes.call('PutRecords', () =>
          client.send(new PutRecordsCommand({ StreamName: stream, Records: Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `k${n}-${i}`, Data: payload })) })),
        );
        if (r) written += 20 - (r.FailedRecordCount ?? 0);
        await sleep(20);
      }
    };
    /** Follows every open shard of a stream from LATEST, re-listing shards as they change. */
    const reader = async (stream: string) => {
      while (running()) {
        const shards = await outcomes.call('ListShards', () => sdk.send(new ListShardsCommand({ StreamName: stream })), ['ResourceInUseException']);
        for (const shard of (shards?.Shards ?? []).filter(isOpen)) {
          let it: string | undefined = await getIterator(sdk, stream, shard.ShardId!, 'LATEST').catch(() => undefined);
          for (let i = 0; i < 20 && it && running(); i++) {
            const current: string = it;
            const r = await outcomes.call('GetRecords', () => sdk.send(new GetRecordsCommand({ ShardIterator: current, Limit: 500 })));
            read += r?.Records?.length ?? 0;
            it = r?.NextShardIterator;
            await sleep(50);
          }
        }
      }
    };
    /** A fan-out consumer: subscribes to each open shard of soak-0, again whenever a subscription ends. */
    const fanOut = async (arn: string) => {
      while (running()) {
        const shards = await outcomes.call('ListShards', () => sdk.send(new ListShardsCommand({ StreamName: 'soak-0' })), ['ResourceInUseException']);
        const subs: SdkSubscription[] = [];
        for (const shard of (shards?.Shards ?? []).filter(isOpen)) {
          const sub = await outcomes.call(
            'SubscribeToShard',
            () => SdkSubscription.open(h2, arn, shard.ShardId!, { Type: 'LATEST' }),
            ['ResourceInUseException', 'ResourceNotFoundException'],
          );
          if (sub) subs.push(sub);
        }
        // Until the first one ends (lifetime, resharding) or the soak does.
        await waitFor(() => !running() || subs.length === 0 || subs.some((s) => s.ended), SOAK_MS, 200);
        for (const s of subs) {
          delivered += s.events.reduce((n, e) => n + (e.Records?.length ?? 0), 0);
          s.close();
        }
        await sleep(100);
      }
    };
    /** Now and then a split of soak-1's widest open shard, then a merge back of its newest adjacent pair. */
    const resharder = async () => {
      for (let n = 0; running(); n++) {
        await sleep(5_000);
        const shards = (await listAll(sdk, { StreamName: 'soak-1' })).filter(isOpen);
        const busy = ['ResourceInUseException', 'InvalidArgumentException', 'LimitExceededException'];
        if (n % 2 === 0 || shards.length < 2) {
          const s = shards[0]!;
          const mid = (BigInt(s.HashKeyRange!.StartingHashKey!) + BigInt(s.HashKeyRange!.EndingHashKey!)) / 2n;
          await outcomes.call('SplitShard', () => sdk.send(new SplitShardCommand({ StreamName: 'soak-1', ShardToSplit: s.ShardId!, NewStartingHashKey: String(mid) })), busy);
        } else {
          const sorted = shards.sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
          await outcomes.call('MergeShards', () => sdk.send(new MergeShardsCommand({ StreamName: 'soak-1', ShardToMerge: sorted[0]!.ShardId!, AdjacentShardToMerge: sorted[1]!.ShardId! })), busy);
        }
      }
    };
    /** Short-lived streams: created, written, read, deleted. */
    const churn = async () => {
      for (let n = 0; running(); n++) {
        const name = `soak-tmp-${n}`;
        await outcomes.call('CreateStream', () => sdk.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 })));
        await sleep(300);
        await outcomes.call('PutRecords', () => sdk.send(new PutRecordsCommand({ StreamName: name, Records: [{ PartitionKey: 'a', Data: Buffer.from('tmp') }] })));
        const records = await readShard(sdk, name, 'shardId-000000000000').catch(() => []);
        assert.equal(records.length, 1, `${name} holds its record`);
        await outcomes.call('DeleteStream', () => sdk.send(new DeleteStreamCommand({ StreamName: name })));
        await sleep(2_000);
      }
    };

    await Promise.all([
      writer('soak-0', sdk),
      writer('soak-1', h2),
      writer('soak-2', sdk),
      reader('soak-1'),
      reader('soak-2'),
      ...consumers.map(fanOut),
      resharder(),
      churn(),
    ]);
    clearInterval(sampler);

    const steady = samples.filter((s) => s.at >= SOAK_MS * WARM_UP_FRACTION);
    const third = Math.max(1, Math.floor(steady.length / 3));
    const first = steady.slice(0, third);
    const last = steady.slice(-third);
    const rssFirst = max(first.map((s) => s.rssMiB));
    const rssLast = max(last.map((s) => s.rssMiB));
    const fdsFirst = max(first.map((s) => s.fds));
    const fdsLast = max(last.map((s) => s.fds));
    const settled = await waitFor(() => sample().fds <= quiet.fds + FD_SLACK, 30_000, 250);
    const end = sample();
    let shardCount = 0;
    for (const s of STREAMS) shardCount += (await listAll(sdk, { StreamName: s })).length;
    const counts = [...outcomes.counts].sort().map(([k, n]) => `${k} ${n}`).join('; ');
    t.diagnostic(`soak ${SOAK_MS / 1000} s: ${written} records written, ${read} read by GetRecords, ${delivered} delivered by SubscribeToShard`);
    t.diagnostic(`calls: ${counts}`);
    t.diagnostic(`RSS MiB: quiet ${quiet.rssMiB.toFixed(1)}, first third peak ${rssFirst.toFixed(1)}, last third peak ${rssLast.toFixed(1)}, end ${end.rssMiB.toFixed(1)}`);
    t.diagnostic(`fds other than segment files: quiet ${quiet.fds}, first third peak ${fdsFirst}, last third peak ${fdsLast}, end ${end.fds}`);
    t.diagnostic(`segment files open at the end: ${end.logs}, for ${shardCount} shards (open and closed) of ${STREAMS.length} streams`);
    t.diagnostic(`samples (s:MiB/fds/segment files): ${samples.map((s) => `${Math.round(s.at / 1000)}:${s.rssMiB.toFixed(0)}/${s.fds}/${s.logs}`).join(' ')}`);

    assert.deepEqual(outcomes.failures.slice(0, 20), [], 'no call failed outside the expected answers');
    assert.ok(written > 0 && read > 0 && delivered > 0, 'every kind of load ran');
    assert.ok(steady.length >= 6, 'enough samples');
    assert.ok(rssLast <= rssFirst * RSS_GROWTH_FACTOR + RSS_GROWTH_MIB, `RSS stays flat: last third ${rssLast.toFixed(1)} MiB vs first ${rssFirst.toFixed(1)} MiB`);
    assert.ok(fdsLast <= fdsFirst + FD_SLACK, `descriptors stay flat: last third ${fdsLast} vs first ${fdsFirst}`);
    assert.ok(settled, `descriptors return to the quiet baseline once the load stops (${end.fds} vs ${quiet.fds})`);
    assert.ok(end.logs <= shardCount + STREAMS.length, `at most a segment file per kept shard is open (${end.logs} for ${shardCount} shards)`);
  });
});

/** Bytes of all files under a directory. */
function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += diskBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

describe('soak: retention keeps disk use bounded as hours pass', { timeout: scale(300_000, 3_600_000) }, () => {
  const HOURS = scale(60, 24 * 14);
  const PER_HOUR = 256 * 1024;
  const clock = new ManualClock(wholeSecond());
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const dir = tempDir('tributary-retention-');

  before(async () => {
    server = await startTestServer({ retentionSweepMs: 100, segmentBytes: 64 * 1024 }, { clock, dataDir: dir });
  });
  after(async () => {
    await server.destroy();
    removeDir(dir);
  });

  it('trims what passes the 24-hour retention period', async (t) => {
    const client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 1 }));
    const payload = Buffer.alloc(16 * 1024, 0x63);
    const sizes: number[] = [];
    for (let hour = 0; hour < HOURS; hour++) {
      for (let i = 0; i < PER_HOUR / (16 * 1024) / 4; i++) {
        await client.send(new PutRecordsCommand({ StreamName: 'kept', Records: Array.from({ length: 4 }, (_, j) => ({ PartitionKey: `h${hour}-${i}-${j}`, Data: payload })) }));
      }
      clock.advance(3_600_000);
      // Two sweeps of the retention timer see the new time.
      await sleep(250);
      sizes.push(diskBytes(path.join(dir, 'streams')));
    }
    const retained = 24;
    const bound = (retained + 3) * PER_HOUR * 1.5 + 1024 * 1024;
    const steady = sizes.slice(retained + 3);
    t.diagnostic(`data directory after each hour (KiB): ${sizes.map((b) => Math.round(b / 1024)).join(' ')}`);
    t.diagnostic(`peak after the first day ${Math.round(max(steady) / 1024)} KiB; bound ${Math.round(bound / 1024)} KiB; written ${Math.round((HOURS * PER_HOUR) / 1024)} KiB`);
    assert.ok(max(steady) <= bound, `disk use stays bounded: ${max(steady)} bytes`);
    const oldest = (await readShard(client, 'kept', 'shardId-000000000000'))[0];
    assert.ok(oldest, 'the last day of records is still there');
    const age = clock.now() - oldest.ApproximateArrivalTimestamp!.getTime();
    t.diagnostic(`oldest readable record is ${(age / 3_600_000).toFixed(1)} hours old`);
    assert.ok(age <= (retained + 2) * 3_600_000, `nothing much older than the retention period is served (${age} ms)`);
  });
});
