/**
 * User records per second through the producer (tributary/client) into a local server started in
 * this process, with and without aggregation. Shard limits are off on the server and the producer's
 * rate limiter is set far above them, so this measures the producer and the server, not the limits.
 *
 *   node .build/<dir>/bench/scenarios/producer-throughput.js [records=100000] [recordSize=100] [keys=1000] [shards=4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { Producer } from '../../src/client/index.js';
import { defaultConfig } from '../../src/settings/index.js';
import { startServer } from '../../src/server/index.js';

const records = Number(process.argv[2] ?? 100_000);
const recordSize = Number(process.argv[3] ?? 100);
const keys = Number(process.argv[4] ?? 1000);
const shards = Number(process.argv[5] ?? 4);

const dataDir = mkdtempSync(path.join(tmpdir(), 'tributary-bench-producer-'));
const server = await startServer(
  { ...defaultConfig, port: 0, s3Port: 0, host: '127.0.0.1', dataDir, limits: 'off', fsync: 'never', createStreamDelayMs: 0 },
  { logger: pino({ level: 'silent' }) },
);
const client = new KinesisClient({
  endpoint: server.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  maxAttempts: 1,
});
try {
  const data = Buffer.alloc(recordSize, 0x61);
  for (const aggregation of [false, true]) {
    const stream = `bench-${aggregation ? 'agg' : 'plain'}`;
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
    const producer = new Producer({ streamName: stream, kinesisClient: client, aggregation, rateLimitPercent: 100_000, recordTtlMs: 600_000 });
    const start = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < records; i++) {
      pending.push(producer.put(`key-${i % keys}`, data));
      // Keep at most 20,000 records waiting, as an application with back-pressure would.
      if (pending.length >= 20_000) await Promise.all(pending.splice(0, 10_000));
    }
    await Promise.all(pending);
    await producer.flush();
    const seconds = (performance.now() - start) / 1000;
    const m = producer.metrics();
    await producer.close();
    process.stdout.write(
      `aggregation ${aggregation ? 'on ' : 'off'}: ${Math.round(records / seconds).toLocaleString('en-US')} user records/s ` +
        `(${records} x ${recordSize} B over ${keys} keys, ${shards} shards; ${m.requests} calls, ${m.recordsPut} Kinesis records, ` +
        `put latency p50 ${m.putLatencyMs.p50.toFixed(1)} ms, p99 ${m.putLatencyMs.p99.toFixed(1)} ms)\n`,
    );
  }
} finally {
  client.destroy();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
