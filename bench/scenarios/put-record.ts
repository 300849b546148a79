import { PutRecordCommand, type PutRecordCommandInput } from '@aws-sdk/client-kinesis';
import { LatencyHistogram } from '../histogram.js';
import { checkPutRecord, putRecordBody } from '../raw-client.js';
import { partitionKeys, payloadPool } from '../util.js';
import { MB, round, withStream } from './common.js';
import type { Scenario } from './types.js';
import { timedWindow } from './window.js';

const SHARDS = 4;
const IN_FLIGHT = 16;
const DISTINCT_RECORDS = 4096;

export const putRecordScenario: Scenario = {
  id: 'put-record',
  title: `PutRecord throughput and latency (${SHARDS} shards, 1 KiB, ${IN_FLIGHT} in flight)`,
  metrics: [
    { key: 'opsPerSec', label: 'ops/s', unit: 'ops/s', better: 'higher', digits: 0 },
    { key: 'p50Ms', label: 'p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99Ms', label: 'p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'maxMs', label: 'max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'errors', label: 'failed calls', unit: '', better: 'lower', digits: 0 },
  ],

  async run(ctx) {
    const { recordSize, seconds, warmupSeconds } = ctx.options;
    const payloads = payloadPool(DISTINCT_RECORDS, recordSize);
    const keys = partitionKeys(DISTINCT_RECORDS);

    return withStream(ctx, 'putrecord', SHARDS, IN_FLIGHT + 2, async (client, stream, raw) => {
      // Requests are built before the clock starts: SDK inputs, or JSON bodies for the raw client.
      const inputs: PutRecordCommandInput[] = [];
      const bodies: Buffer[] = [];
      for (let i = 0; i < DISTINCT_RECORDS; i++) {
        if (raw) bodies.push(putRecordBody(stream, payloads[i], keys[i]));
        else inputs.push({ StreamName: stream, Data: payloads[i], PartitionKey: keys[i] });
      }
      const call = raw
        ? (seq: number): Promise<unknown> =>
            raw.json<unknown>('PutRecord', bodies[seq % DISTINCT_RECORDS]).then(checkPutRecord)
        : (seq: number): Promise<unknown> => client.kinesis.send(new PutRecordCommand(inputs[seq % DISTINCT_RECORDS]));

      const hist = new LatencyHistogram();
      ctx.log(`PutRecord: ${warmupSeconds}s warm-up, ${seconds}s measured`);
      const stats = await timedWindow(
        {
          operation: 'PutRecord',
          concurrency: IN_FLIGHT,
          warmupMs: warmupSeconds * 1000,
          measureMs: seconds * 1000,
          serverPid: ctx.serverPid,
        },
        call,
        (_res, latencyNs) => hist.recordNs(latencyNs),
      );

      const rate = stats.calls / stats.windowSeconds;
      return {
        values: {
          opsPerSec: round(rate, 1),
          p50Ms: hist.percentileMs(50),
          p99Ms: hist.percentileMs(99),
          maxMs: hist.maxMs(),
          errors: stats.errorCalls,
        },
        details: {
          shards: SHARDS,
          inFlight: IN_FLIGHT,
          recordSize,
          windowSeconds: stats.windowSeconds,
          warmupSeconds,
          calls: stats.calls,
          mbPerSec: round((rate * recordSize) / MB, 3),
          meanMs: hist.meanMs(),
          p90Ms: hist.percentileMs(90),
          p999Ms: hist.percentileMs(99.9),
          errors: stats.errors,
          clientCpuPct: stats.clientCpuPct,
          serverCpuPct: stats.serverCpuPct,
        },
      };
    }, IN_FLIGHT);
  },
};
