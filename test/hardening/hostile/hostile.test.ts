import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  GetShardIteratorCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { createStream } from '../../helpers/kinesis.js';
import { registerActive, subscribeBody } from '../../helpers/fan-out.js';
import { SIGNED } from '../../helpers/raw.js';
import { kinesisClient, removeDir, tempDir } from '../../helpers/server.js';
import { scale } from '../scale.js';
import {
  closedCount,
  destroyAll,
  firstStatus,
  h2Connect,
  h2Request,
  h2Stalled,
  openMany,
  rawRequest,
  requestHead,
  slowloris,
} from './attacks.js';
import { formatLatency, GoodClientThread, pool, sampleProc, sleep, spawnTributary, summarize, waitFor, type Served, type Spawned } from './probe.js';

/** Short limits, so that every defence acts within a CI run. */
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 4_000;
const IDLE_TIMEOUT_MS = 4_000;
const KEEP_ALIVE_TIMEOUT_MS = 4_000;
const MAX_CONCURRENT_STREAMS = 64;
/** How long after a limit a connection must be gone (the limits plus Node's checking interval and load). */
const CUT_OFF_SLACK_MS = 20_000;
/** The server's resident memory must stay under this whatever the attack. */
const RSS_CAP_MIB = 400;
/** Once the attacks are over and the server is quiet, memory must come back to within this of the baseline. */
const RSS_RECOVERY_MIB = 150;
/** After an attack, open descriptors must come back to within this of the quiet baseline. */
const FD_SLACK = 16;

const ARGS = [
  '--limits', 'off',
  '--consumer-status-ms', '0',
  '--headers-timeout-ms', String(HEADERS_TIMEOUT_MS),
  '--request-timeout-ms', String(REQUEST_TIMEOUT_MS),
  '--idle-timeout-ms', String(IDLE_TIMEOUT_MS),
  '--keep-alive-timeout-ms', String(KEEP_ALIVE_TIMEOUT_MS),
  '--max-concurrent-streams', String(MAX_CONCURRENT_STREAMS),
  '--max-unsent-bytes', String(64 * 1024 * 1024),
];

/** Samples the server's memory and descriptors while an attack runs. */
class Watch {
  maxRss = 0;
  maxFds = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 100);
    this.sample();
  }
  sample(): void {
    try {
      const s = sampleProc(this.pid);
      this.maxRss = Math.max(this.maxRss, s.rssMiB);
      this.maxFds = Math.max(this.maxFds, s.fds);
    } catch {
      // The process is gone; the test notices that on its own.
    }
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

describe('hostile clients against a spawned server', { timeout: scale(600_000, 3_600_000) }, () => {
  const dataDir = tempDir('tributary-hostile-');
  let server: Spawned;
  let sdk: KinesisClient;
  let good: GoodClientThread;
  let quiet: Served;
  let baseline: { rssMiB: number; fds: number };
  /** A GetRecords request (JSON) returning about `BIG_MIB` of records. */
  let bigRead: string;
  const consumers: string[] = [];
  const BIG_MIB = 9;

  before(async () => {
    // glibc keeps freed large blocks (a 10 MB batch) in its arenas unless they were mapped on their
    // own; with a fixed mmap threshold they go back to the system, so RSS shows what is in use.
    server = await spawnTributary(dataDir, ARGS, { env: { MALLOC_MMAP_THRESHOLD_: '131072' } });
    sdk = kinesisClient(server.endpoint);
    await createStream(sdk, 'good', 1);
    await createStream(sdk, 'big', 1);
    await sleep(200);
    const payload = Buffer.alloc(1000 * 1000, 0x61);
    for (let i = 0; i < BIG_MIB; i++) {
      const r = await sdk.send(new PutRecordsCommand({ StreamName: 'big', Records: [{ PartitionKey: `p${i}`, Data: payload }] }));
      assert.equal(r.FailedRecordCount, 0);
    }
    const it = await sdk.send(new GetShardIteratorCommand({ StreamName: 'big', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    bigRead = JSON.stringify({ ShardIterator: it.ShardIterator });
    for (let i = 0; i < scale(5, 20); i++) consumers.push(await registerActive(sdk, 'big', `stuck-${i}`));
    good = new GoodClientThread(server.endpoint, 'good');
    await sleep(3_000);
    baseline = sampleProc(server.pid);
    await good.take();
    await sleep(3_000);
    quiet = await good.take();
  });

  after(async () => {
    await good?.stop();
    sdk?.destroy();
    await server?.stop();
    removeDir(dataDir);
  });

  it('has a quiet baseline', (t) => {
    const latency = summarize(quiet.latencies);
    t.diagnostic(`quiet baseline: ${formatLatency(latency)}; RSS ${baseline.rssMiB.toFixed(1)} MiB, ${baseline.fds} fds`);
    assert.deepEqual(quiet.failures, []);
    assert.ok(latency.requests > 0, 'the well-behaved client made requests');
  });

  /** Runs an attack with the well-behaved client going, then checks it and the server's recovery. */
  async function underAttack(t: TestContext, name: string, attack: (watch: Watch) => Promise<void>): Promise<void> {
    await good.take();
    const watch = new Watch(server.pid);
    let served: Served;
    try {
      await attack(watch);
      // A short attack may end before the client's next requests do; they still count.
      served = await good.takeAtLeast(8);
    } finally {
      watch.stop();
    }
    const during = summarize(served.latencies);
    const failures = served.failures;
    const fdsBack = await waitFor(() => sampleProc(server.pid).fds <= baseline.fds + FD_SLACK, CUT_OFF_SLACK_MS);
    const afterwards = sampleProc(server.pid);
    t.diagnostic(
      `${name}: well-behaved client ${formatLatency(during)}; server peak RSS ${watch.maxRss.toFixed(1)} MiB, ` +
        `peak fds ${watch.maxFds}; afterwards RSS ${afterwards.rssMiB.toFixed(1)} MiB, ${afterwards.fds} fds ` +
        `(baseline ${baseline.rssMiB.toFixed(1)} MiB, ${baseline.fds} fds)`,
    );
    assert.equal(server.child.exitCode, null, 'the server is still running');
    assert.deepEqual(failures, [], 'every request of the well-behaved client succeeded');
    assert.ok(during.requests > 0, 'the well-behaved client was served during the attack');
    assert.ok(watch.maxRss < RSS_CAP_MIB, `peak RSS ${watch.maxRss.toFixed(1)} MiB stays under ${RSS_CAP_MIB} MiB`);
    assert.ok(fdsBack, `descriptors return to baseline (${afterwards.fds} vs ${baseline.fds})`);
  }

  it('cuts off slowloris clients that send a header byte every second', async (t) => {
    const count = scale(500, 3_000);
    await underAttack(t, `slowloris x${count}`, async (watch) => {
      const { sockets, failed } = await openMany(server.port, count);
      assert.equal(failed, 0, 'every connection was accepted');
      const times = await slowloris(sockets, 1_000, HEADERS_TIMEOUT_MS + CUT_OFF_SLACK_MS);
      watch.sample();
      const kept = times.filter((ms) => ms === Infinity).length;
      destroyAll(sockets);
      t.diagnostic(`slowloris: slowest cut off after ${Math.max(...times.filter(Number.isFinite))} ms`);
      assert.equal(kept, 0, `${kept} slow clients were never cut off`);
    });
  });

  it('holds thousands of idle connections, then closes them', async (t) => {
    const count = scale(2_000, 8_000);
    await underAttack(t, `idle connections x${count}`, async (watch) => {
      // Every other connection makes one request as soon as it is open, then idles on keep-alive;
      // the rest never send a byte.
      const statuses: Array<Promise<string>> = [];
      const { sockets, failed } = await openMany(server.port, count, 500, (s, i) => {
        if (i % 2 === 1) return;
        statuses.push(firstStatus(s));
        s.write(rawRequest('ListStreams', '{}'));
      });
      assert.equal(failed, 0, 'every connection was accepted');
      assert.deepEqual([...new Set(await Promise.all(statuses))], ['200']);
      watch.sample();
      const peak = watch.maxFds;
      const gone = await waitFor(() => closedCount(sockets) === sockets.length, Math.max(HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS) + CUT_OFF_SLACK_MS, 200);
      const open = sockets.length - closedCount(sockets);
      destroyAll(sockets);
      t.diagnostic(`idle: server held up to ${peak} fds`);
      // Opening them all takes a while, and the first may be closed before the last are open.
      assert.ok(peak >= baseline.fds + count / 4, `the server held the idle connections (peak ${peak} fds)`);
      assert.ok(gone, `${open} idle connections were never closed`);
    });
  });

  it('refuses oversized headers with 431 and oversized bodies with 413', async (t) => {
    await underAttack(t, 'oversized requests', async () => {
      const h1 = await openMany(server.port, 2);
      const [headersSocket, bodySocket] = h1.sockets as [net.Socket, net.Socket];
      const tooLong = `X-Big: ${'h'.repeat(70 * 1024)}\r\n`;
      const headerStatus = firstStatus(headersSocket);
      headersSocket.write(requestHead('ListStreams', 2, tooLong) + '{}');
      assert.equal(await headerStatus, '431');
      const bodyStatus = firstStatus(bodySocket);
      const big = 17 * 1024 * 1024;
      bodySocket.write(requestHead('PutRecord', big));
      const slab = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 17 && !bodySocket.destroyed; i++) {
        if (!bodySocket.write(slab)) await new Promise((resolve) => bodySocket.once('drain', resolve).once('close', resolve));
      }
      assert.equal(await bodyStatus, '413');
      destroyAll(h1.sockets);

      const session = await h2Connect(server.endpoint);
      const huge = await h2Request(session, 'ListStreams', '{}', { 'x-big': 'h'.repeat(70 * 1024) });
      session.destroy();
      const session2 = await h2Connect(server.endpoint);
      const bigBody = await h2Request(session2, 'PutRecord', Buffer.alloc(big, 0x20));
      session2.destroy();
      t.diagnostic(`HTTP/2: oversized header list → status ${huge.status}, reset ${huge.rstCode}; oversized body → ${bigBody.status}`);
      assert.notEqual(huge.status, 200, 'an oversized HTTP/2 header list is not served');
      assert.ok(huge.status === 431 || huge.rstCode !== 0 || huge.status === 0);
      assert.equal(bigBody.status, 413);
    });
  });

  it('accepts bursts of new connections at once', async (t) => {
    const count = scale(1_000, 5_000);
    const waves = scale(4, 20);
    await underAttack(t, `${waves} bursts x${count}`, async () => {
      for (let wave = 0; wave < waves; wave++) {
        const started = Date.now();
        const answers: Array<Promise<string>> = [];
        const { sockets, failed } = await openMany(server.port, count, count, (s) => {
          answers.push(firstStatus(s));
          s.write(rawRequest('ListStreams', '{}'));
        });
        const statuses = await Promise.all(answers);
        const ms = Date.now() - started;
        destroyAll(sockets);
        const ok = statuses.filter((s) => s === '200').length;
        t.diagnostic(`burst ${wave + 1}: ${ok}/${count} answered 200 in ${ms} ms (${failed} connections failed)`);
        assert.equal(failed, 0, 'every connection of the burst was accepted');
        assert.equal(ok, count, 'every request of the burst was answered');
        await sleep(500);
      }
    });
  });
  it('survives HTTP/2 rapid reset: streams opened and cancelled at once', async (t) => {
    const sessionsCount = scale(5, 20);
    const perSession = scale(2_000, 10_000);
    await underAttack(t, `rapid reset ${sessionsCount}x${perSession}`, async () => {
      let goaway = 0;
      await Promise.all(
        Array.from({ length: sessionsCount }, async () => {
          const session = await h2Connect(server.endpoint);
          session.on('goaway', () => goaway++);
          for (let i = 0; i < perSession && !session.destroyed && !session.closed; i++) {
            const stream = session.request({
              ':method': 'POST',
              ':path': '/',
              'content-type': 'application/x-amz-json-1.1',
              'x-amz-target': 'Kinesis_20131202.ListStreams',
              ...SIGNED,
            });
            stream.on('error', () => {});
            stream.close(http2.constants.NGHTTP2_CANCEL);
            if (i % 100 === 99) await sleep(1);
          }
          session.destroy();
        }),
      );
      t.diagnostic(`rapid reset: ${goaway} of ${sessionsCount} sessions were sent GOAWAY`);
    });
  });

  it('cuts off bodies that never complete, over HTTP/1.1 and HTTP/2', async (t) => {
    const h1Count = scale(300, 2_000);
    const h2Sessions = scale(5, 40);
    await underAttack(t, `stalled bodies x${h1Count} HTTP/1.1 + ${h2Sessions}x${MAX_CONCURRENT_STREAMS} HTTP/2`, async () => {
      const { sockets, failed } = await openMany(server.port, h1Count);
      assert.equal(failed, 0);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const h1Statuses = Promise.all(sockets.map((s) => firstStatus(s, REQUEST_TIMEOUT_MS + CUT_OFF_SLACK_MS)));
      for (const s of sockets) s.write(Buffer.concat([Buffer.from(requestHead('ListStreams', 1024 * 1024)), chunk]));
      const sessions = await Promise.all(Array.from({ length: h2Sessions }, () => h2Connect(server.endpoint)));
      await new Promise<void>((resolve) => (sessions[0]!.remoteSettings.maxConcurrentStreams === MAX_CONCURRENT_STREAMS ? resolve() : sessions[0]!.once('remoteSettings', () => resolve())));
      assert.equal(sessions[0]!.remoteSettings.maxConcurrentStreams, MAX_CONCURRENT_STREAMS, 'the server announces its stream limit');
      const h2Outcomes = Promise.all(
        sessions.flatMap((session) =>
          Array.from({ length: MAX_CONCURRENT_STREAMS }, () => h2Stalled(session, 'ListStreams', 1024 * 1024, chunk)),
        ),
      );
      const statuses = await h1Statuses;
      const outcomes = await h2Outcomes;
      await waitFor(() => closedCount(sockets) === sockets.length, CUT_OFF_SLACK_MS);
      const open = sockets.length - closedCount(sockets);
      destroyAll(sockets);
      for (const s of sessions) s.destroy();
      const h1Codes = new Set(statuses);
      t.diagnostic(`HTTP/1.1 answers: ${[...h1Codes].join(', ')}; HTTP/2: ${[...new Set(outcomes.map((o) => `${o.status}/${o.rstCode}`))].join(', ')}`);
      assert.equal(open, 0, 'every stalled HTTP/1.1 connection was closed');
      for (const code of h1Codes) assert.ok(code === '408' || code === '', `HTTP/1.1 stalled body answered ${code}`);
      for (const o of outcomes) {
        assert.ok(o.status === 408 || o.rstCode !== 0, `HTTP/2 stalled body: status ${o.status}, reset ${o.rstCode}`);
        assert.ok(o.ms < REQUEST_TIMEOUT_MS + CUT_OFF_SLACK_MS);
      }
    });
  });

  it('applies backpressure to clients that stop reading large GetRecords and SubscribeToShard responses', async (t) => {
    const readers = scale(30, 150);
    const subscribers = consumers.length;
    await underAttack(t, `stuck readers: ${readers} GetRecords of ${BIG_MIB} MB + ${subscribers} SubscribeToShard`, async (watch) => {
      // They arrive one after another and pile up: each gets its batch, then never reads it.
      const { sockets, failed } = await openMany(server.port, readers);
      assert.equal(failed, 0);
      await pool(sockets, 1, async (s) => {
        s.pause();
        s.write(rawRequest('GetRecords', bigRead));
        await sleep(200);
      });
      // Fan-out subscribers that never read: each on its own session with a small receive window.
      const sessions: http2.ClientHttp2Session[] = [];
      for (const arn of consumers) {
        const session = await h2Connect(server.endpoint, { initialWindowSize: 16 * 1024 });
        sessions.push(session);
        const stream = session.request({
          ':method': 'POST',
          ':path': '/',
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Kinesis_20131202.SubscribeToShard',
          ...SIGNED,
        });
        stream.on('error', () => {});
        stream.end(subscribeBody(arn, 'shardId-000000000000', { Type: 'TRIM_HORIZON' }));
        stream.pause();
      }
      // GetRecords over HTTP/2 that are never read, a few streams on each of two sessions.
      for (let i = 0; i < 2; i++) {
        const session = await h2Connect(server.endpoint, { initialWindowSize: 16 * 1024 });
        sessions.push(session);
        for (let j = 0; j < scale(3, 20); j++) {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/',
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'Kinesis_20131202.GetRecords',
            ...SIGNED,
          });
          stream.on('error', () => {});
          stream.end(bigRead);
          stream.pause();
          await sleep(200);
        }
      }
      // Hold them (never reading) until the server gives up on them: a paused client cannot see
      // the close, so the server's own descriptors tell.
      const cut = await waitFor(() => sampleProc(server.pid).fds <= baseline.fds + FD_SLACK, IDLE_TIMEOUT_MS + CUT_OFF_SLACK_MS * 2, 200);
      watch.sample();
      const held = sampleProc(server.pid).fds - baseline.fds;
      destroyAll(sockets);
      for (const s of sessions) s.destroy();
      assert.ok(watch.maxFds > baseline.fds, 'the server had stuck readers connected');
      assert.ok(cut, `the server still holds ${held} descriptors for stuck readers`);
    });
  });

  it('comes back near its baseline memory once the attacks are over', async (t) => {
    // The well-behaved client's light traffic goes on meanwhile: the collector runs on allocation,
    // and only a collection gives the memory of the attacks back.
    const back = await waitFor(() => sampleProc(server.pid).rssMiB <= baseline.rssMiB + RSS_RECOVERY_MIB, 90_000, 500);
    const served = await good.take();
    await good.stop();
    assert.deepEqual(served.failures, []);
    const now = sampleProc(server.pid);
    t.diagnostic(`quiet again: RSS ${now.rssMiB.toFixed(1)} MiB, ${now.fds} fds (baseline ${baseline.rssMiB.toFixed(1)} MiB, ${baseline.fds} fds)`);
    assert.ok(back, `RSS ${now.rssMiB.toFixed(1)} MiB within ${RSS_RECOVERY_MIB} MiB of ${baseline.rssMiB.toFixed(1)} MiB`);
    assert.ok(now.fds <= baseline.fds + FD_SLACK);
  });
});
