import { GetRecordsCommand, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { type BenchClient, isUnsupported, shardIds, shardIterator } from '../client.js';
import { LatencyHistogram } from '../histogram.js';
import {
  CpuMeter,
  ErrorTally,
  RssSampler,
  errorMessage,
  errorName,
  nowMs,
  nowNs,
  partitionKeys,
  payloadPool,
  sleep,
} from '../util.js';
import { MB, MiB, round, withStream } from './common.js';
import { type Scenario, UnsupportedError } from './types.js';

const BATCH = 500;
const LOAD_IN_FLIGHT = 4;
const READ_LIMIT = 10_000;
const DISTINCT_PAYLOADS = 1000;
const READ_TIMEOUT_MS = 5 * 60_000;

/**
 * Writes `count` records with PutRecords, re-sending entries the server
 * rejected, until all are stored or the time bound runs out; reports how many
 * were stored.
 */
async function load(
  client: BenchClient,
  stream: string,
  count: number,
  recordSize: number,
  boundMs: number,
): Promise<{ seconds: number; stored: number; calls: number; retriedRecords: number; bounded: boolean }> {
  const payloads = payloadPool(DISTINCT_PAYLOADS, recordSize);
  const keys = partitionKeys(DISTINCT_PAYLOADS);
  const entries: PutRecordsRequestEntry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const j = i % DISTINCT_PAYLOADS;
    entries[i] = { Data: payloads[j], PartitionKey: keys[j] };
  }

  const start = nowMs();
  const deadline = start + boundMs;
  let next = 0;
  let stored = 0;
  let bounded = false;
  const retry: PutRecordsRequestEntry[] = [];
  let calls = 0;
  let retriedRecords = 0;
  let consecutiveErrors = 0;

  const take = (): PutRecordsRequestEntry[] => {
    if (retry.length > 0) return retry.splice(0, BATCH);
    const batch = entries.slice(next, next + BATCH);
    next += batch.length;
    return batch;
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (nowMs() > deadline) {
        bounded = true;
        return;
      }
      const batch = take();
      if (batch.length === 0) {
        if (next >= count && retry.length === 0) return;
        await sleep(5);
        continue;
      }
      try {
        const res = await client.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
        calls++;
        consecutiveErrors = 0;
        stored += batch.length - (res.FailedRecordCount ?? 0);
        if ((res.FailedRecordCount ?? 0) > 0) {
          const out = res.Records ?? [];
          for (let i = 0; i < batch.length; i++) {
            if (out[i]?.ErrorCode) {
              retry.push(batch[i]);
              retriedRecords++;
            }
          }
          await sleep(20);
        }
      } catch (err) {
        if (isUnsupported(err)) throw new UnsupportedError(`PutRecords not supported (${errorMessage(err)})`);
        if (++consecutiveErrors > 20) throw err;
        retry.push(...batch);
        retriedRecords += batch.length;
        await sleep(50);
      }
    }
  };

  await Promise.all(Array.from({ length: LOAD_IN_FLIGHT }, worker));
  return { seconds: (nowMs() - start) / 1000, stored, calls, retriedRecords, bounded };
}

export const getRecordsScenario: Scenario = {
  id: 'get-records',
  title: 'GetRecords throughput (1 shard, read back from TRIM_HORIZON, Limit 10000)',
  metrics: [
    { key: 'recordsPerSec', label: 'records/s', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'mbPerSec', label: 'MB/s (data)', unit: 'MB/s', better: 'higher', digits: 2 },
    { key: 'serverPeakRssMiB', label: 'server peak RSS during read', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'serverHwmMiB', label: 'server VmHWM after read', unit: 'MiB', better: 'lower', digits: 1 },
  ],

  async run(ctx) {
    const { recordSize, getRecordsCount: count } = ctx.options;

    return withStream(ctx, 'getrecords', 1, LOAD_IN_FLIGHT + 2, async (client, stream) => {
      const boundMs = ctx.options.loadSeconds * 1000;
      ctx.log(`GetRecords: loading ${count} records of ${recordSize} bytes (bound ${ctx.options.loadSeconds} s)`);
      const loaded = await load(client, stream, count, recordSize, boundMs);
      if (loaded.stored === 0) throw new Error('no record could be stored');
      const expected = loaded.stored;
      ctx.log(
        `GetRecords: stored ${expected} records in ${loaded.seconds.toFixed(1)} s` +
          `${loaded.bounded ? ' (load time bound reached)' : ''}, reading back`,
      );

      const [shardId] = await shardIds(client, stream);
      if (!shardId) throw new Error(`stream ${stream} has no shards`);
      let iterator: string | undefined = await shardIterator(client, stream, shardId, 'TRIM_HORIZON');

      const sampler = ctx.serverPid !== null ? new RssSampler(ctx.serverPid) : null;
      const callHist = new LatencyHistogram();
      const errors = new ErrorTally();
      let read = 0;
      let bytes = 0;
      let calls = 0;
      let emptyResponses = 0;
      let maxPerCall = 0;
      let wrongSize = 0;

      let readNs = 0n;
      let mem: { peakRss: number; hwm: number } | null = null;
      let usage: ReturnType<CpuMeter['stop']> | null = null;
      sampler?.start();
      const cpu = new CpuMeter(ctx.serverPid);
      const t0 = nowNs();
      const deadline = nowMs() + READ_TIMEOUT_MS;
      try {
        while (iterator && read < expected && nowMs() < deadline) {
          const c0 = nowNs();
          let res;
          try {
            res = await client.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: READ_LIMIT }));
          } catch (err) {
            if (isUnsupported(err)) throw new UnsupportedError(`GetRecords not supported (${errorMessage(err)})`);
            errors.add(err);
            if (errors.total > 50) throw err;
            if (/Throughput|Throttl|LimitExceeded/i.test(errorName(err))) await sleep(50);
            continue;
          }
          callHist.recordNs(nowNs() - c0);
          calls++;
          const records = res.Records ?? [];
          if (records.length === 0) {
            if (++emptyResponses > 100) break;
          }
          if (records.length > maxPerCall) maxPerCall = records.length;
          for (const r of records) {
            const n = r.Data?.length ?? 0;
            if (n !== recordSize) wrongSize++;
            bytes += n;
          }
          read += records.length;
          iterator = res.NextShardIterator;
        }
      } finally {
        readNs = nowNs() - t0;
        mem = sampler?.stop() ?? null;
        usage = cpu.stop();
      }

      const seconds = Number(readNs) / 1e9;
      const notes: Record<string, string> = {};
      if (!sampler) {
        notes.serverPeakRssMiB = 'server not started by the benchmark';
        notes.serverHwmMiB = 'server not started by the benchmark';
      }
      if (loaded.bounded) {
        const n = (x: number): string => x.toLocaleString('en-US');
        const why = `only ${n(expected)} of ${n(count)} records stored within the ${ctx.options.loadSeconds} s load bound`;
        notes.recordsPerSec = why;
        notes.mbPerSec = why;
      }
      if (read < expected) {
        throw new Error(
          `read back only ${read} of ${expected} records ` +
            `(${calls} calls, ${emptyResponses} empty, errors: ${errors.summary() || 'none'})`,
        );
      }
      return {
        values: {
          recordsPerSec: round(read / seconds, 1),
          mbPerSec: round(bytes / seconds / MB, 3),
          serverPeakRssMiB: mem ? round(mem.peakRss / MiB, 1) : null,
          serverHwmMiB: mem ? round(mem.hwm / MiB, 1) : null,
        },
        notes,
        details: {
          shards: 1,
          recordSize,
          records: count,
          storedRecords: expected,
          loadBoundReached: loaded.bounded,
          readRecords: read,
          readSeconds: round(seconds, 3),
          getRecordsCalls: calls,
          maxRecordsPerCall: maxPerCall,
          emptyResponses,
          wrongSizeRecords: wrongSize,
          callP50Ms: callHist.percentileMs(50),
          callP99Ms: callHist.percentileMs(99),
          errors: errors.toJSON(),
          clientCpuPct: usage?.clientCpuPct ?? null,
          serverCpuPct: usage?.serverCpuPct ?? null,
          loadSeconds: round(loaded.seconds, 3),
          loadRecordsPerSec: round(expected / loaded.seconds, 1),
          loadCalls: loaded.calls,
          loadRetriedRecords: loaded.retriedRecords,
        },
      };
    });
  },
};
