import { randomBytes } from 'node:crypto';
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { isUnsupported, shardIds } from '../client.js';
import { LatencyHistogram } from '../histogram.js';
import { CpuMeter, ErrorTally, errorMessage, nowMs, nowNs, partitionKeys, payloadPool, sleep } from '../util.js';
import { MB, round, withStream } from './common.js';
import { deregisterConsumer, makeStreamingClient, registerConsumer, shardReader, type ShardReader, within } from './fan-out-common.js';
import { type Scenario, UnsupportedError } from './types.js';

const SHARDS = 4;
const CONSUMERS = 5;
const BATCH = 500;
const IN_FLIGHT = 4;
/** Payload layout: 8-byte run tag, u64 send time (hrtime ns) of its PutRecords call. */
const TAG_AT = 0;
const SENT_AT = 8;
const HEADER = 16;
/** How long the consumers may take to catch up once the producer stops, at most. */
const DRAIN_CAP_MS = 180_000;
/** Delivery that makes no progress for this long has stopped. */
const STALL_MS = 5_000;

interface ConsumerTally {
  records: number;
  bytes: number;
  windowRecords: number;
  windowBytes: number;
}

export const fanOutThroughputScenario: Scenario = {
  id: 'fan-out-throughput',
  title: `Fan-out throughput (${SHARDS} shards, ${CONSUMERS} consumers on SubscribeToShard, PutRecords of ${BATCH} at full speed)`,
  metrics: [
    { key: 'deliveredMBps', label: `delivered to all ${CONSUMERS} consumers`, unit: 'MB/s', better: 'higher', digits: 2 },
    { key: 'deliveredRecordsPerSec', label: 'records delivered (all consumers)', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'perConsumerMinMBps', label: 'slowest consumer', unit: 'MB/s', better: 'higher', digits: 2 },
    { key: 'producedMBps', label: 'written (acked)', unit: 'MB/s', better: 'higher', digits: 2 },
    { key: 'lagP50Ms', label: 'put sent -> event p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'lagP99Ms', label: 'put sent -> event p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'catchUpSeconds', label: 'consumers caught up after writes stopped', unit: 's', better: 'lower', digits: 1 },
    { key: 'missing', label: 'acked records some consumer never got', unit: '', better: 'lower', digits: 0 },
  ],

  async run(ctx) {
    const { seconds, warmupSeconds } = ctx.options;
    const recordSize = Math.max(ctx.options.recordSize, HEADER);
    const tag = randomBytes(8);
    const pool = payloadPool(IN_FLIGHT * BATCH, recordSize);
    for (const p of pool) tag.copy(p, TAG_AT);
    const keys = partitionKeys(BATCH);

    return withStream(ctx, 'fanout', SHARDS, IN_FLIGHT + 4, async (client, stream) => {
      const shards = await shardIds(client, stream);
      const consumerArns: string[] = [];
      const streaming = makeStreamingClient(ctx.endpoint);
      const readers: ShardReader[] = [];
      const tallies: ConsumerTally[] = Array.from({ length: CONSUMERS }, () => ({ records: 0, bytes: 0, windowRecords: 0, windowBytes: 0 }));
      const lag = new LatencyHistogram();
      let measuring = false;
      let foreign = 0;
      try {
        for (let c = 0; c < CONSUMERS; c++) consumerArns.push(await registerConsumer(client, stream, `bench-fan-${c}`));
        for (let c = 0; c < CONSUMERS; c++) {
          const tally = tallies[c]!;
          for (const shard of shards) {
            readers.push(
              shardReader(ctx.options.client, ctx.endpoint, streaming, consumerArns[c]!, shard, (records, t) => {
                for (const r of records) {
                  const b = r.head;
                  if (b.length < HEADER || !b.subarray(TAG_AT, TAG_AT + 8).equals(tag)) {
                    foreign++;
                    continue;
                  }
                  tally.records++;
                  tally.bytes += r.size;
                  if (measuring) {
                    tally.windowRecords++;
                    tally.windowBytes += r.size;
                    lag.recordNs(t - b.readBigUInt64LE(SENT_AT));
                  }
                }
              }),
            );
          }
        }
        await within(Promise.all(readers.map((r) => r.ready)), 60_000, 'subscriptions did not all start within 60 s');
        ctx.log(`fan-out-throughput: ${readers.length} subscriptions open; writing for ${warmupSeconds} + ${seconds} s`);

        const putErrors = new ErrorTally();
        let ackedRecords = 0;
        let windowAckedRecords = 0;
        let failedRecords = 0;
        let calls = 0;
        let unsupported: unknown = null;
        let windowStart = 0;
        let windowEnd = 0;
        const warmEnd = nowMs() + warmupSeconds * 1000;
        const stopAt = warmEnd + seconds * 1000;
        let cpu: CpuMeter | null = null;
        const writer = async (slot: number): Promise<void> => {
          const payloads = pool.slice(slot * BATCH, (slot + 1) * BATCH);
          const entries: PutRecordsRequestEntry[] = payloads.map((data, i) => ({ Data: data, PartitionKey: keys[i]! }));
          while (nowMs() < stopAt && unsupported === null) {
            const sent = nowNs();
            for (const p of payloads) p.writeBigUInt64LE(sent, SENT_AT);
            try {
              const r = await client.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
              calls++;
              const failed = r.FailedRecordCount ?? 0;
              failedRecords += failed;
              ackedRecords += BATCH - failed;
              if (measuring && nowMs() <= stopAt) windowAckedRecords += BATCH - failed;
              if (failed > 0) await sleep(20);
            } catch (err) {
              putErrors.add(err);
              if (isUnsupported(err)) unsupported ??= err;
              await sleep(20);
            }
          }
        };
        const writers = Array.from({ length: IN_FLIGHT }, (_, i) => writer(i));
        const timer = (async () => {
          await sleep(Math.max(0, warmEnd - nowMs()));
          measuring = true;
          windowStart = nowMs();
          cpu = new CpuMeter(ctx.serverPid);
          await sleep(Math.max(0, stopAt - nowMs()));
          windowEnd = nowMs();
          measuring = false;
        })();
        await Promise.all([...writers, timer]);
        const usage = (cpu as CpuMeter | null)?.stop() ?? { clientCpuPct: null, serverCpuPct: null };
        if (unsupported !== null) throw new UnsupportedError(`PutRecords not supported (${errorMessage(unsupported)})`);
        if (ackedRecords === 0) throw new Error(`no record was written (${putErrors.summary()})`);

        // Consumers that fell behind catch up; a record still missing once delivery has stalled for
        // a while (or after the cap) was lost.
        const drainStart = nowMs();
        let lastTotal = -1;
        let lastProgress = drainStart;
        for (;;) {
          const total = tallies.reduce((n, t) => n + t.records, 0);
          if (total >= ackedRecords * CONSUMERS || nowMs() - drainStart > DRAIN_CAP_MS) break;
          if (total !== lastTotal) {
            lastTotal = total;
            lastProgress = nowMs();
          } else if (nowMs() - lastProgress > STALL_MS) {
            break;
          }
          await sleep(20);
        }
        const drainSeconds = (nowMs() - drainStart) / 1000;
        const missing = tallies.reduce((n, t) => n + Math.max(0, ackedRecords - t.records), 0);

        const window = (windowEnd - windowStart) / 1000;
        const windowBytes = tallies.reduce((n, t) => n + t.windowBytes, 0);
        const windowRecords = tallies.reduce((n, t) => n + t.windowRecords, 0);
        const perConsumer = tallies.map((t) => t.windowBytes / MB / window);
        return {
          values: {
            deliveredMBps: round(windowBytes / MB / window, 2),
            deliveredRecordsPerSec: Math.round(windowRecords / window),
            perConsumerMinMBps: round(Math.min(...perConsumer), 2),
            producedMBps: round((windowAckedRecords * recordSize) / MB / window, 2),
            lagP50Ms: lag.percentileMs(50),
            lagP99Ms: lag.percentileMs(99),
            catchUpSeconds: missing === 0 ? round(drainSeconds, 1) : null,
            missing,
          },
          ...(missing > 0 ? { notes: { catchUpSeconds: `delivery stopped with ${missing} records missing` } } : {}),
          details: {
            shards: SHARDS,
            consumers: CONSUMERS,
            subscriptions: readers.length,
            transport: `SubscribeToShard over HTTP/2 (${ctx.options.client === 'raw' ? 'lean reader' : 'SDK default handler'}); puts by the SDK over HTTP/1.1 keep-alive`,
            recordSize,
            windowSeconds: round(window, 3),
            putCalls: calls,
            ackedRecords,
            failedRecords,
            putErrors: putErrors.toJSON(),
            perConsumerMBps: perConsumer.map((x) => round(x, 2)),
            deliveredRecordsTotal: tallies.map((t) => t.records),
            resubscriptions: readers.reduce((n, r) => n + r.subscriptions - 1, 0),
            subscriptionErrors: readers.flatMap((r) => r.errors),
            foreignRecords: foreign,
            lagMaxMs: lag.maxMs(),
            catchUpSecondsMeasured: round(drainSeconds, 1),
            clientCpuPct: usage.clientCpuPct,
            serverCpuPct: usage.serverCpuPct,
          },
        };
      } finally {
        await Promise.all(readers.map((r) => r.stop()));
        streaming.destroy();
        for (const arn of consumerArns) await deregisterConsumer(client, arn);
      }
    });
  },
};
