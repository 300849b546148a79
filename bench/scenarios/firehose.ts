/**
 * Firehose: PutRecordBatch throughput into a GZIP and into a Parquet delivery stream (accepted
 * records/s, and the rate at which delivery to S3 kept up, read from the server's
 * DeliveryToS3.Records metric), and put-to-object latency at zero buffering.
 *
 * Parquet needs the Glue table `bench.events` in the server's --schema-file (the benchmark's own
 * Tributary is started with one); elsewhere its records fail conversion and the figure says so.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { LatencyHistogram } from '../histogram.js';
import { isUnsupported } from '../client.js';
import { nowNs, sleep, uniqueName } from '../util.js';
import { MB, round } from './common.js';
import { UnsupportedError, type Scenario, type ScenarioContext } from './types.js';
import { timedWindow } from './window.js';

const BATCH = 500;
const IN_FLIGHT = 4;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const BUCKET = 'bench-firehose';
/** Records of the latency part: one put, then the wait for its object. */
const LATENCY_RECORDS = 20;

/** The table the Parquet stream converts to (see bench/servers.ts, which writes it). */
export const BENCH_TABLE = {
  Table: {
    Name: 'events',
    DatabaseName: 'bench',
    StorageDescriptor: {
      Columns: [
        { Name: 'n', Type: 'bigint' },
        { Name: 'kind', Type: 'string' },
        { Name: 'score', Type: 'double' },
        { Name: 'pad', Type: 'string' },
      ],
    },
  },
};

function firehoseClient(endpoint: string): FirehoseClient {
  return new FirehoseClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
}

/** JSON lines of about `size` bytes that the bench table's columns describe. */
function jsonRecords(count: number, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const head = { n: i, kind: ['view', 'click', 'buy'][i % 3], score: i / 7 };
    const base = JSON.stringify({ ...head, pad: '' });
    out.push(Buffer.from(`${JSON.stringify({ ...head, pad: 'x'.repeat(Math.max(0, size - base.length - 1)) })}\n`));
  }
  return out;
}

async function waitActive(client: FirehoseClient, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const d = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
    if (d.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`${name} did not become ACTIVE`);
    await sleep(50);
  }
}

/** DeliveryToS3.Records of a delivery stream at the server's /metrics, or null when it has none. */
async function deliveredRecords(endpoint: string, name: string): Promise<number | null> {
  const res = await fetch(`${endpoint}/metrics`).catch(() => undefined);
  if (!res || !res.ok) return null;
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`tributary_firehose_delivery_to_s3_records_total{delivery_stream="${name}"}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface ThroughputResult {
  acceptedPerSec: number;
  deliveredPerSec: number | null;
  serverCpuPct: number | null;
  callP99Ms: number | null;
  details: Record<string, unknown>;
}

async function throughput(ctx: ScenarioContext, client: FirehoseClient, format: 'GZIP' | 'PARQUET'): Promise<ThroughputResult> {
  const { seconds, warmupSeconds, recordSize } = ctx.options;
  const name = uniqueName(`bench-${format.toLowerCase()}`);
  const parquet = format === 'PARQUET';
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      ExtendedS3DestinationConfiguration: {
        RoleARN: ROLE,
        BucketARN: `arn:aws:s3:::${BUCKET}`,
        Prefix: `${name}/`,
        ErrorOutputPrefix: `${name}-errors/`,
        // Format conversion needs at least 64 MiB; a 1 s interval keeps delivery close behind.
        BufferingHints: { SizeInMBs: parquet ? 64 : 5, IntervalInSeconds: 1 },
        CompressionFormat: parquet ? 'UNCOMPRESSED' : 'GZIP',
        ...(parquet
          ? {
              DataFormatConversionConfiguration: {
                SchemaConfiguration: { RoleARN: ROLE, DatabaseName: 'bench', TableName: 'events' },
                InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
                OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
              },
            }
          : {}),
      },
    }),
  );
  try {
    await waitActive(client, name);
    const records = jsonRecords(BATCH * 4, recordSize);
    const batches = Array.from({ length: 4 }, (_, b) => records.slice(b * BATCH, (b + 1) * BATCH).map((Data) => ({ Data })));
    const hist = new LatencyHistogram();
    let accepted = 0;
    let acceptedAll = 0;
    ctx.log(`Firehose ${format}: ${warmupSeconds}s warm-up, ${seconds}s measured`);
    const started = nowNs();
    const stats = await timedWindow(
      { operation: 'PutRecordBatch', concurrency: IN_FLIGHT, warmupMs: warmupSeconds * 1000, measureMs: seconds * 1000, serverPid: ctx.serverPid },
      (seq) =>
        client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: batches[seq % batches.length] })).then((r) => {
          acceptedAll += BATCH - (r.FailedPutCount ?? 0);
          return r;
        }),
      (r, ns) => {
        hist.recordNs(ns);
        accepted += BATCH - (r.FailedPutCount ?? 0);
      },
    );
    // Delivery keeps going after the puts stop: the time until it has everything gives its rate.
    let delivered = await deliveredRecords(ctx.endpoint, name);
    const deadline = Date.now() + 120_000;
    while (delivered !== null && delivered < acceptedAll && Date.now() < deadline) {
      await sleep(200);
      delivered = await deliveredRecords(ctx.endpoint, name);
    }
    const elapsedS = Number(nowNs() - started) / 1e9;
    const caughtUp = delivered !== null && delivered >= acceptedAll;
    return {
      acceptedPerSec: accepted / stats.windowSeconds,
      deliveredPerSec: caughtUp ? acceptedAll / elapsedS : null,
      serverCpuPct: stats.serverCpuPct,
      callP99Ms: hist.percentileMs(99),
      details: { stream: name, accepted: acceptedAll, delivered, caughtUp, secondsUntilDelivered: round(elapsedS, 2), ...stats },
    };
  } finally {
    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name })).catch(() => undefined);
  }
}

/** Put one record at a time with zero buffering; the time until an object holding it is listed. */
async function putToObject(ctx: ScenarioContext, client: FirehoseClient, s3Endpoint: string): Promise<LatencyHistogram> {
  const s3 = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const name = uniqueName('bench-latency');
  await client.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      ExtendedS3DestinationConfiguration: { RoleARN: ROLE, BucketARN: `arn:aws:s3:::${BUCKET}`, Prefix: `${name}/`, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } },
    }),
  );
  const hist = new LatencyHistogram();
  try {
    await waitActive(client, name);
    let seen = 0;
    for (let i = 0; i < LATENCY_RECORDS; i++) {
      const t0 = nowNs();
      await client.send(new PutRecordCommand({ DeliveryStreamName: name, Record: { Data: Buffer.from(`${randomBytes(8).toString('hex')}\n`) } }));
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${name}/` })).catch(() => undefined);
        const count = page?.KeyCount ?? 0;
        if (count > seen) {
          seen = count;
          break;
        }
        if (Number(nowNs() - t0) > 30e9) throw new Error('a record was not delivered within 30 s');
        await sleep(2);
      }
      hist.recordNs(nowNs() - t0);
    }
  } finally {
    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name })).catch(() => undefined);
    s3.destroy();
  }
  return hist;
}

export const firehoseScenario: Scenario = {
  id: 'firehose',
  title: `Firehose: PutRecordBatch (${BATCH} x 1 KiB, ${IN_FLIGHT} in flight) into GZIP and Parquet delivery streams; put-to-object latency at zero buffering`,
  metrics: [
    { key: 'gzipRecordsPerSec', label: 'GZIP accepted records/s', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'gzipDeliveredPerSec', label: 'GZIP delivered records/s', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'gzipMbPerSec', label: 'GZIP MB/s (data)', unit: 'MB/s', better: 'higher', digits: 2 },
    { key: 'parquetRecordsPerSec', label: 'Parquet accepted records/s', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'parquetDeliveredPerSec', label: 'Parquet delivered records/s', unit: 'records/s', better: 'higher', digits: 0 },
    { key: 'putToObjectP50Ms', label: 'put-to-object p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'putToObjectP99Ms', label: 'put-to-object p99', unit: 'ms', better: 'lower', digits: 1 },
  ],

  async run(ctx) {
    const client = firehoseClient(ctx.endpoint);
    try {
      try {
        await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'bench-probe' }));
      } catch (err) {
        if (isUnsupported(err) || (err as { name?: string }).name === 'UnknownOperationException') throw new UnsupportedError('the endpoint does not serve Firehose');
        if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
      }
      // The server's landing page names its S3 endpoint; the bucket is made on first delivery.
      const about = (await (await fetch(`${ctx.endpoint}/`, { headers: { accept: 'application/json' } })).json().catch(() => ({}))) as { s3Endpoint?: string };
      const gzip = await throughput(ctx, client, 'GZIP');
      const parquet = await throughput(ctx, client, 'PARQUET');
      const latency = about.s3Endpoint ? await putToObject(ctx, client, about.s3Endpoint) : undefined;
      const { recordSize } = ctx.options;
      return {
        values: {
          gzipRecordsPerSec: round(gzip.acceptedPerSec, 1),
          gzipDeliveredPerSec: gzip.deliveredPerSec === null ? null : round(gzip.deliveredPerSec, 1),
          gzipMbPerSec: round((gzip.acceptedPerSec * recordSize) / MB, 3),
          parquetRecordsPerSec: round(parquet.acceptedPerSec, 1),
          parquetDeliveredPerSec: parquet.deliveredPerSec === null ? null : round(parquet.deliveredPerSec, 1),
          putToObjectP50Ms: latency ? latency.percentileMs(50) : null,
          putToObjectP99Ms: latency ? latency.percentileMs(99) : null,
        },
        notes: {
          ...(gzip.deliveredPerSec === null ? { gzipDeliveredPerSec: 'delivery did not catch up within 120 s, or the server has no Firehose metrics' } : {}),
          ...(parquet.deliveredPerSec === null ? { parquetDeliveredPerSec: 'delivery did not catch up (is bench.events in the server\'s --schema-file?)' } : {}),
          ...(latency ? {} : { putToObjectP50Ms: 'the server names no S3 endpoint', putToObjectP99Ms: 'the server names no S3 endpoint' }),
        },
        details: { recordSize, bufferMiB: { gzip: 5, parquet: 64 }, gzip: { ...gzip.details, serverCpuPct: gzip.serverCpuPct, callP99Ms: gzip.callP99Ms }, parquet: { ...parquet.details, serverCpuPct: parquet.serverCpuPct } },
      };
    } finally {
      client.destroy();
    }
  },
};
