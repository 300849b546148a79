import { randomBytes } from 'node:crypto';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { isUnsupported, shardIds } from '../client.js';
import { LatencyHistogram } from '../histogram.js';
import { CpuMeter, ErrorTally, errorMessage, nowMs, nowNs, payloadPool, sleep } from '../util.js';
import { round, withStream } from './common.js';
import { deregisterConsumer, HEAD_BYTES, makeStreamingClient, registerConsumer, shardReader, within } from './fan-out-common.js';
import { type Scenario, UnsupportedError } from './types.js';

/** Payload layout: 8-byte run tag, u32 index, u64 send time (hrtime ns). */
const TAG_AT = 0;
const INDEX_AT = 8;
const SENT_AT = 12;
const HEADER = 20;
if (HEADER > HEAD_BYTES) throw new Error('the payload header must fit in what readers keep');
const MAX_PUTS_IN_FLIGHT = 64;
/** How long the subscription is watched after the last put was acknowledged. */
const GRACE_MS = 10_000;

function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const fanOutLatencyScenario: Scenario = {
  id: 'fan-out-latency',
  title: 'Push latency over SubscribeToShard (1 shard, 1 consumer on HTTP/2, PutRecord every 5 ms)',
  metrics: [
    { key: 'ackToEventP50Ms', label: 'put ack -> event p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'ackToEventP99Ms', label: 'put ack -> event p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'sentToEventP50Ms', label: 'put sent -> event p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'sentToEventP99Ms', label: 'put sent -> event p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'maxMs', label: 'put sent -> event max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'putAckP50Ms', label: 'put ack p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'lost', label: 'records acked, never pushed', unit: '', better: 'lower', digits: 0 },
  ],

  async run(ctx) {
    const { latencyRecords: n, latencyIntervalMs: interval } = ctx.options;
    const recordSize = Math.max(ctx.options.recordSize, HEADER);
    const tag = randomBytes(8);
    const payloads = payloadPool(n, recordSize);
    for (let i = 0; i < n; i++) {
      tag.copy(payloads[i], TAG_AT);
      payloads[i].writeUInt32LE(i, INDEX_AT);
    }
    const base = nowNs();
    const ackAt = new Float64Array(n).fill(NaN);
    const eventAt = new Float64Array(n).fill(NaN);
    const rel = (t: bigint): number => Number(t - base);

    return withStream(ctx, 'push', 1, MAX_PUTS_IN_FLIGHT + 4, async (client, stream) => {
      const [shardId] = await shardIds(client, stream);
      if (!shardId) throw new Error(`stream ${stream} has no shards`);
      const consumerArn = await registerConsumer(client, stream, 'bench-push');
      const streaming = makeStreamingClient(ctx.endpoint);
      const pushed = new LatencyHistogram();
      const putAck = new LatencyHistogram();
      const putErrors = new ErrorTally();
      let seen = 0;
      let duplicates = 0;
      let foreign = 0;
      let events = 0;
      const reader = shardReader(ctx.options.client, ctx.endpoint, streaming, consumerArn, shardId, (records, t) => {
        events++;
        for (const r of records) {
          const b = r.head;
          if (b.length < HEADER || !b.subarray(TAG_AT, TAG_AT + 8).equals(tag)) {
            foreign++;
            continue;
          }
          const i = b.readUInt32LE(INDEX_AT);
          if (i >= n || !Number.isNaN(eventAt[i])) {
            duplicates++;
            continue;
          }
          eventAt[i] = rel(t);
          seen++;
          pushed.recordNs(t - b.readBigUInt64LE(SENT_AT));
        }
      });
      try {
        await within(reader.ready, 30_000, 'SubscribeToShard delivered no event within 30 s');
        ctx.log(`fan-out-latency: subscribed; ${n} puts, one every ${interval} ms`);
        const cpu = new CpuMeter(ctx.serverPid);
        let acked = 0;
        let latePuts = 0;
        let putUnsupported: unknown = null;
        const inFlight = new Set<Promise<void>>();
        const start = nowMs();
        for (let i = 0; i < n; i++) {
          const wait = start + i * interval - nowMs();
          if (wait > 0) await sleep(wait);
          else if (wait < -interval) latePuts++;
          while (inFlight.size >= MAX_PUTS_IN_FLIGHT) await Promise.race(inFlight);
          const data = payloads[i];
          const sent = nowNs();
          data.writeBigUInt64LE(sent, SENT_AT);
          const p: Promise<void> = client.kinesis
            .send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'push', Data: data }))
            .then(
              () => {
                const t = nowNs();
                ackAt[i] = rel(t);
                putAck.recordNs(t - sent);
                acked++;
              },
              (err) => {
                putErrors.add(err);
                if (isUnsupported(err)) putUnsupported ??= err;
              },
            )
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (putUnsupported !== null || (putErrors.total > 50 && acked === 0)) break;
        }
        await Promise.all(inFlight);
        const graceUntil = nowMs() + GRACE_MS;
        while (seen < acked && nowMs() < graceUntil) await sleep(5);
        const usage = cpu.stop();
        if (putUnsupported !== null) throw new UnsupportedError(`PutRecord not supported (${errorMessage(putUnsupported)})`);
        if (acked === 0) throw new Error(`no put succeeded (${putErrors.summary()})`);

        const signed: number[] = [];
        let eventBeforeAck = 0;
        let lost = 0;
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(ackAt[i])) continue;
          if (Number.isNaN(eventAt[i])) {
            lost++;
            continue;
          }
          const d = (eventAt[i] - ackAt[i]) / 1e6;
          if (d < 0) eventBeforeAck++;
          signed.push(d);
        }
        const sorted = Float64Array.from(signed).sort();
        const p50 = percentile(sorted, 50);
        const p99 = percentile(sorted, 99);
        return {
          values: {
            ackToEventP50Ms: p50 === null ? null : round(p50, 3),
            ackToEventP99Ms: p99 === null ? null : round(p99, 3),
            sentToEventP50Ms: pushed.percentileMs(50),
            sentToEventP99Ms: pushed.percentileMs(99),
            maxMs: pushed.maxMs(),
            putAckP50Ms: putAck.percentileMs(50),
            lost,
          },
          details: {
            shards: 1,
            consumers: 1,
            transport: `SubscribeToShard over HTTP/2 (${ctx.options.client === 'raw' ? 'lean reader' : 'SDK default handler'}); puts by the SDK over HTTP/1.1 keep-alive`,
            recordSize,
            puts: n,
            intervalMs: interval,
            acked,
            pushed: seen,
            duplicates,
            foreignRecords: foreign,
            events,
            subscriptions: reader.subscriptions,
            subscriptionErrors: reader.errors,
            latePuts,
            eventBeforeAck,
            putAckP99Ms: putAck.percentileMs(99),
            putErrors: putErrors.toJSON(),
            clientCpuPct: usage.clientCpuPct,
            serverCpuPct: usage.serverCpuPct,
          },
        };
      } finally {
        await reader.stop();
        streaming.destroy();
        await deregisterConsumer(client, consumerArn);
      }
    });
  },
};
