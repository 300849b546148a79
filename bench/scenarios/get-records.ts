import { GetRecordsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type BenchClient, isUnsupported, shardIds, shardIterator } from '../client.js';
import { LatencyHistogram } from '../histogram.js';
import {
  type RawClient,
  type RecordsPage,
  RecordsReader,
  checkPutRecords,
  putRecordsBody,
  recordBytes,
} from '../raw-client.js';
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
/** Records the raw client asks for when it checks, untimed, whether the server answers in CBOR. */
const PROBE_LIMIT = 100;

/** Sends one PutRecords of the given entries; says how many failed and which to re-send. */
type BatchSender = (batch: number[]) => Promise<{ failed: number; rejected: boolean[] }>;

/**
 * Entry i of the load is record i % DISTINCT_PAYLOADS of a pool. With the raw
 * client, the bodies of whole aligned batches (all but retries and a short
 * last batch) are serialized once, up front.
 */
function loadSender(
  client: BenchClient,
  raw: RawClient | null,
  stream: string,
  recordSize: number,
): BatchSender {
  const payloads = payloadPool(DISTINCT_PAYLOADS, recordSize);
  const keys = partitionKeys(DISTINCT_PAYLOADS);
  const entry = (i: number) => ({ data: payloads[i % DISTINCT_PAYLOADS], key: keys[i % DISTINCT_PAYLOADS] });
  if (raw === null) {
    return async (batch) => {
      const res = await client.kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: batch.map((i) => {
            const e = entry(i);
            return { Data: e.data, PartitionKey: e.key };
          }),
        }),
      );
      const failed = res.FailedRecordCount ?? 0;
      const out = res.Records ?? [];
      return { failed, rejected: batch.map((_, k) => failed > 0 && !!out[k]?.ErrorCode) };
    };
  }
  const whole: Buffer[] = [];
  for (let b = 0; b < DISTINCT_PAYLOADS / BATCH; b++) {
    whole.push(putRecordsBody(stream, Array.from({ length: BATCH }, (_, k) => entry(b * BATCH + k))));
  }
  return async (batch) => {
    const first = batch[0];
    const aligned = batch.length === BATCH && first % BATCH === 0 && batch[BATCH - 1] === first + BATCH - 1;
    const body = aligned ? whole[(first % DISTINCT_PAYLOADS) / BATCH] : putRecordsBody(stream, batch.map(entry));
    const out = checkPutRecords(await raw.json<unknown>('PutRecords', body), batch.length);
    return { failed: out.failed, rejected: out.rejected };
  };
}

/**
 * Writes `count` records with PutRecords, re-sending entries the server
 * rejected, until all are stored or the time bound runs out; reports how many
 * were stored.
 */
async function load(
  send: BatchSender,
  count: number,
  boundMs: number,
): Promise<{ seconds: number; stored: number; calls: number; retriedRecords: number; bounded: boolean }> {
  const start = nowMs();
  const deadline = start + boundMs;
  let next = 0;
  let stored = 0;
  let bounded = false;
  const retry: number[] = [];
  let calls = 0;
  let retriedRecords = 0;
  let consecutiveErrors = 0;

  const take = (): number[] => {
    if (retry.length > 0) return retry.splice(0, BATCH);
    const n = Math.min(BATCH, count - next);
    const batch = Array.from({ length: n }, (_, k) => next + k);
    next += n;
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
        const res = await send(batch);
        calls++;
        consecutiveErrors = 0;
        stored += batch.length - res.failed;
        if (res.failed > 0) {
          for (let i = 0; i < batch.length; i++) {
            if (res.rejected[i]) {
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

    return withStream(ctx, 'getrecords', 1, LOAD_IN_FLIGHT + 2, async (client, stream, raw) => {
      const boundMs = ctx.options.loadSeconds * 1000;
      ctx.log(`GetRecords: loading ${count} records of ${recordSize} bytes (bound ${ctx.options.loadSeconds} s)`);
      const loaded = await load(loadSender(client, raw, stream, recordSize), count, boundMs);
      if (loaded.stored === 0) throw new Error('no record could be stored');
      const expected = loaded.stored;
      ctx.log(
        `GetRecords: stored ${expected} records in ${loaded.seconds.toFixed(1)} s` +
          `${loaded.bounded ? ' (load time bound reached)' : ''}, reading back`,
      );

      const [shardId] = await shardIds(client, stream);
      if (!shardId) throw new Error(`stream ${stream} has no shards`);

      // The raw client settles its wire format before the clock starts, on an iterator of its own.
      const reader = raw
        ? await RecordsReader.open(raw, await shardIterator(client, stream, shardId, 'TRIM_HORIZON'), PROBE_LIMIT)
        : null;
      if (reader) ctx.log(`GetRecords: raw client reads in ${reader.format.toUpperCase()}`);
      const readPage = (it: string): Promise<RecordsPage> =>
        reader
          ? reader.read(it, READ_LIMIT)
          : client.kinesis
              .send(new GetRecordsCommand({ ShardIterator: it, Limit: READ_LIMIT }))
              .then((res) => ({ records: res.Records ?? [], nextShardIterator: res.NextShardIterator }));
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
          let res: RecordsPage;
          try {
            res = await readPage(iterator);
          } catch (err) {
            if (isUnsupported(err)) throw new UnsupportedError(`GetRecords not supported (${errorMessage(err)})`);
            errors.add(err);
            if (errors.total > 50) throw err;
            if (/Throughput|Throttl|LimitExceeded/i.test(errorName(err))) await sleep(50);
            continue;
          }
          callHist.recordNs(nowNs() - c0);
          calls++;
          const records = res.records;
          if (records.length === 0) {
            if (++emptyResponses > 100) break;
          }
          if (records.length > maxPerCall) maxPerCall = records.length;
          for (const r of records) {
            const n = recordBytes(r.Data)?.length ?? 0;
            if (n !== recordSize) wrongSize++;
            bytes += n;
          }
          read += records.length;
          iterator = res.nextShardIterator;
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
      const n = (x: number): string => x.toLocaleString('en-US');
      const why: string[] = [];
      if (loaded.bounded) {
        why.push(`only ${n(expected)} of ${n(count)} records stored within the ${ctx.options.loadSeconds} s load bound`);
      }
      const wire = reader?.note();
      if (wire) why.push(wire);
      if (wrongSize > 0) why.push(`${n(wrongSize)} records had Data of a size other than ${recordSize} bytes`);
      if (why.length > 0) {
        notes.recordsPerSec = why.join('; ');
        notes.mbPerSec = why.join('; ');
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
          ...(reader ? reader.details() : { readFormat: 'json (SDK)' }),
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
    }, LOAD_IN_FLIGHT);
  },
};
