import { randomBytes } from 'node:crypto';
import { GetRecordsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { isUnsupported, shardIds, shardIterator } from '../client.js';
import { LatencyHistogram } from '../histogram.js';
import { type RecordsPage, RecordsReader, checkPutRecord, recordBytes } from '../raw-client.js';
import { CpuMeter, ErrorTally, errorMessage, errorName, nowMs, nowNs, payloadPool, sleep } from '../util.js';
import { round, withStream } from './common.js';
import { type Scenario, UnsupportedError } from './types.js';

/** Payload layout: 8-byte run tag, u32 index, u64 send time (hrtime ns). */
const TAG_AT = 0;
const INDEX_AT = 8;
const SENT_AT = 12;
const HEADER = 20;
const MAX_PUTS_IN_FLIGHT = 64;
/** How long the reader keeps looking after the last put was acknowledged. */
const GRACE_MS = 10_000;

function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const visibilityScenario: Scenario = {
  id: 'put-to-visible',
  title: 'Put-to-visible latency (1 shard, PutRecord every 5 ms, GetRecords loop from LATEST)',
  metrics: [
    { key: 'p50Ms', label: 'put sent -> visible p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99Ms', label: 'put sent -> visible p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'maxMs', label: 'put sent -> visible max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'ackToVisibleP50Ms', label: 'put ack -> visible p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'ackToVisibleP99Ms', label: 'put ack -> visible p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'putAckP50Ms', label: 'put ack p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'lost', label: 'records acked, never seen', unit: '', better: 'lower', digits: 0 },
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
    const visibleAt = new Float64Array(n).fill(NaN);
    const rel = (t: bigint): number => Number(t - base);

    return withStream(ctx, 'visible', 1, MAX_PUTS_IN_FLIGHT + 4, async (client, stream, raw) => {
      const [shardId] = await shardIds(client, stream);
      if (!shardId) throw new Error(`stream ${stream} has no shards`);

      // The raw client writes in JSON and settles its read format before the
      // clock starts, on an iterator of its own.
      const rawReader = raw
        ? await RecordsReader.open(raw, await shardIterator(client, stream, shardId, 'LATEST'), 10_000)
        : null;
      if (rawReader) ctx.log(`put-to-visible: raw client reads in ${rawReader.format.toUpperCase()}`);
      const readPage = (it: string): Promise<RecordsPage> =>
        rawReader
          ? rawReader.read(it, 10_000)
          : client.kinesis
              .send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }))
              .then((res) => ({ records: res.Records ?? [], nextShardIterator: res.NextShardIterator }));
      const bodyStart = `{"StreamName":${JSON.stringify(stream)},"PartitionKey":"visible","Data":"`;
      const putOne = (data: Buffer): Promise<unknown> =>
        raw
          ? raw.json<unknown>('PutRecord', Buffer.from(`${bodyStart}${data.toString('base64')}"}`)).then(checkPutRecord)
          : client.kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'visible', Data: data }));
      let iterator: string | undefined = await shardIterator(client, stream, shardId, 'LATEST');

      const visible = new LatencyHistogram();
      const putAck = new LatencyHistogram();
      const readErrors = new ErrorTally();
      const putErrors = new ErrorTally();
      let acked = 0;
      let seen = 0;
      let duplicates = 0;
      let foreign = 0;
      let readCalls = 0;
      let writerDone = false;
      let lastAckAt = 0;
      let latePuts = 0;
      let readerStarted = false;
      let readerError: unknown = null;
      let putUnsupported: unknown = null;

      const reader = async (): Promise<void> => {
        let consecutive = 0;
        const hardDeadline = nowMs() + n * interval + 120_000;
        while (iterator && nowMs() < hardDeadline) {
          if (writerDone && (seen >= acked || nowMs() > lastAckAt + GRACE_MS)) return;
          let res: RecordsPage;
          try {
            res = await readPage(iterator);
          } catch (err) {
            if (isUnsupported(err)) throw new UnsupportedError(`GetRecords not supported (${errorMessage(err)})`);
            readErrors.add(err);
            if (++consecutive > 100) throw err;
            if (/Throughput|Throttl|LimitExceeded/i.test(errorName(err))) await sleep(10);
            continue;
          } finally {
            readerStarted = true;
          }
          const t = nowNs();
          consecutive = 0;
          readCalls++;
          for (const r of res.records) {
            const d = recordBytes(r.Data);
            if (!d || d.length < HEADER) {
              foreign++;
              continue;
            }
            const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
            if (!b.subarray(TAG_AT, TAG_AT + 8).equals(tag)) {
              foreign++;
              continue;
            }
            const i = b.readUInt32LE(INDEX_AT);
            if (i >= n || !Number.isNaN(visibleAt[i])) {
              duplicates++;
              continue;
            }
            visibleAt[i] = rel(t);
            seen++;
            visible.recordNs(t - b.readBigUInt64LE(SENT_AT));
          }
          iterator = res.nextShardIterator;
        }
      };

      const writer = async (): Promise<void> => {
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
          const p: Promise<void> = putOne(data)
            .then(
              () => {
                const t = nowNs();
                ackAt[i] = rel(t);
                putAck.recordNs(t - sent);
                acked++;
                lastAckAt = nowMs();
              },
              (err) => {
                putErrors.add(err);
                if (isUnsupported(err)) putUnsupported ??= err;
              },
            )
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if ((putErrors.total > 50 && acked === 0) || readerError !== null || putUnsupported !== null) break;
        }
        await Promise.all(inFlight);
        lastAckAt = Math.max(lastAckAt, nowMs());
        writerDone = true;
      };

      const readerDone = reader().catch((err: unknown) => {
        readerError = err;
      });
      const startBy = nowMs() + 5_000;
      while (!readerStarted && readerError === null && nowMs() < startBy) await sleep(1);
      if (readerError !== null) throw readerError;
      ctx.log(`put-to-visible: ${n} puts, one every ${interval} ms`);
      const cpu = new CpuMeter(ctx.serverPid);
      const written = writer().catch((err: unknown) => err);
      const [writerError] = await Promise.all([written, readerDone]);
      const usage = cpu.stop();
      if (readerError !== null) throw readerError;
      if (writerError !== undefined) throw writerError;
      if (putUnsupported !== null) {
        throw new UnsupportedError(`PutRecord not supported (${errorMessage(putUnsupported)})`);
      }
      if (acked === 0) throw new Error(`no put succeeded (${putErrors.summary()})`);

      const signed: number[] = [];
      let visibleBeforeAck = 0;
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(ackAt[i]) || Number.isNaN(visibleAt[i])) continue;
        const d = (visibleAt[i] - ackAt[i]) / 1e6;
        if (d < 0) visibleBeforeAck++;
        signed.push(d);
      }
      const sorted = Float64Array.from(signed).sort();
      const ackToVisibleP50 = percentile(sorted, 50);
      const ackToVisibleP99 = percentile(sorted, 99);
      let lost = 0;
      for (let i = 0; i < n; i++) if (!Number.isNaN(ackAt[i]) && Number.isNaN(visibleAt[i])) lost++;

      const notes: Record<string, string> = {};
      const wire = rawReader?.note();
      if (wire) for (const key of ['p50Ms', 'p99Ms', 'maxMs', 'ackToVisibleP50Ms', 'ackToVisibleP99Ms']) notes[key] = wire;

      return {
        values: {
          p50Ms: visible.percentileMs(50),
          p99Ms: visible.percentileMs(99),
          maxMs: visible.maxMs(),
          ackToVisibleP50Ms: ackToVisibleP50 === null ? null : round(ackToVisibleP50, 3),
          ackToVisibleP99Ms: ackToVisibleP99 === null ? null : round(ackToVisibleP99, 3),
          putAckP50Ms: putAck.percentileMs(50),
          lost,
        },
        notes,
        details: {
          ...(rawReader ? rawReader.details() : { readFormat: 'json (SDK)' }),
          shards: 1,
          recordSize,
          puts: n,
          intervalMs: interval,
          acked,
          seen,
          duplicates,
          foreignRecords: foreign,
          latePuts,
          readCalls,
          visibleBeforeAck,
          putAckP99Ms: putAck.percentileMs(99),
          putErrors: putErrors.toJSON(),
          readErrors: readErrors.toJSON(),
          clientCpuPct: usage.clientCpuPct,
          serverCpuPct: usage.serverCpuPct,
        },
      };
    }, MAX_PUTS_IN_FLIGHT + 1);
  },
};
