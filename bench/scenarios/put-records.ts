import { PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { LatencyHistogram } from '../histogram.js';
import { type PutRecordsOutcome, checkPutRecords, putRecordsBody } from '../raw-client.js';
import { partitionKeys, payloadPool } from '../util.js';
import { MB, round, withStream } from './common.js';
import type { Scenario } from './types.js';
import { timedWindow } from './window.js';

const SHARDS = 4;
const BATCH = 500;
const IN_FLIGHT = 4;
/** Distinct pre-built request bodies cycled through by the writers. */
const DISTINCT_BATCHES = 8;

export const putRecordsScenario: Scenario = {
  id: 'put-records',
  title: `PutRecords throughput (${SHARDS} shards, ${BATCH} x 1 KiB per call, ${IN_FLIGHT} in flight)`,
  metrics: [
    { key: 'recordsPerSec', label: 'records/s', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'mbPerSec', label: 'MB/s (data)', unit: 'MB/s', better: 'higher', digits: 2 },
    { key: 'failedRecords', label: 'failed records', unit: '', better: 'lower', digits: 0 },
    { key: 'callP50Ms', label: 'call p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'callP99Ms', label: 'call p99', unit: 'ms', better: 'lower', digits: 1 },
  ],

  async run(ctx) {
    const { recordSize, seconds, warmupSeconds } = ctx.options;
    const total = DISTINCT_BATCHES * BATCH;
    const payloads = payloadPool(total, recordSize);
    const keys = partitionKeys(total);

    return withStream(ctx, 'putrecords', SHARDS, IN_FLIGHT + 2, async (client, stream, raw) => {
      // Requests are built before the clock starts: SDK inputs, or JSON bodies for the raw client.
      const inputs: PutRecordsCommandInput[] = [];
      const bodies: Buffer[] = [];
      for (let b = 0; b < DISTINCT_BATCHES; b++) {
        const records = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) {
          const j = b * BATCH + i;
          records[i] = { Data: payloads[j], PartitionKey: keys[j] };
        }
        if (raw) {
          bodies.push(putRecordsBody(stream, records.map((r) => ({ data: r.Data, key: r.PartitionKey }))));
        } else {
          inputs.push({ StreamName: stream, Records: records });
        }
      }
      type Outcome = Pick<PutRecordsOutcome, 'failed' | 'errorCodes'>;
      const call = raw
        ? (seq: number): Promise<Outcome> =>
            raw.json<unknown>('PutRecords', bodies[seq % DISTINCT_BATCHES]).then((doc) => checkPutRecords(doc, BATCH))
        : (seq: number): Promise<Outcome> =>
            client.kinesis.send(new PutRecordsCommand(inputs[seq % DISTINCT_BATCHES])).then((res) => {
              const failed = res.FailedRecordCount ?? 0;
              const errorCodes: string[] = [];
              if (failed > 0) for (const r of res.Records ?? []) if (r.ErrorCode) errorCodes.push(r.ErrorCode);
              return { failed, errorCodes };
            });

      const hist = new LatencyHistogram();
      let accepted = 0;
      let failedInResponses = 0;
      const failureCodes = new Map<string, number>();

      ctx.log(`PutRecords: ${warmupSeconds}s warm-up, ${seconds}s measured`);
      const stats = await timedWindow(
        {
          operation: 'PutRecords',
          concurrency: IN_FLIGHT,
          warmupMs: warmupSeconds * 1000,
          measureMs: seconds * 1000,
          serverPid: ctx.serverPid,
        },
        call,
        (res, latencyNs) => {
          hist.recordNs(latencyNs);
          accepted += BATCH - res.failed;
          failedInResponses += res.failed;
          for (const code of res.errorCodes) failureCodes.set(code, (failureCodes.get(code) ?? 0) + 1);
        },
      );

      const failedRecords = failedInResponses + stats.errorCalls * BATCH;
      const rate = accepted / stats.windowSeconds;
      return {
        values: {
          recordsPerSec: round(rate, 1),
          mbPerSec: round((rate * recordSize) / MB, 3),
          failedRecords,
          callP50Ms: hist.percentileMs(50),
          callP99Ms: hist.percentileMs(99),
        },
        details: {
          shards: SHARDS,
          batchSize: BATCH,
          inFlight: IN_FLIGHT,
          recordSize,
          windowSeconds: stats.windowSeconds,
          warmupSeconds,
          calls: stats.calls,
          acceptedRecords: accepted,
          failedInResponses,
          failureCodes: Object.fromEntries(failureCodes),
          errorCalls: stats.errorCalls,
          errors: stats.errors,
          clientCpuPct: stats.clientCpuPct,
          serverCpuPct: stats.serverCpuPct,
          callMaxMs: hist.maxMs(),
        },
      };
    }, IN_FLIGHT);
  },
};
