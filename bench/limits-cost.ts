/**
 * What the per-shard limits cost on the write path, in process (no HTTP): PutRecords of 500
 * records of 100 bytes with random partition keys over 4 shards, 4 calls in flight, fsync never.
 *
 *   node dist/bench/limits-cost.js off          limits off
 *   node dist/bench/limits-cost.js on           limits on, rates too high to refuse anything
 *   node dist/bench/limits-cost.js aws          limits on at AWS's rates (most entries refused)
 *   node dist/bench/limits-cost.js micro        the admission check alone, per record, next to the
 *                                               MD5 routing every record already pays for
 *
 * Prints records offered per second, wall-clock and CPU microseconds per call (CPU time is the
 * steadier figure on a busy machine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kinesisOperations } from '../src/kinesis/operations/index.js';
import { Kinesis } from '../src/kinesis/service.js';
import { defaultKinesisSettings } from '../src/kinesis/settings.js';
import { metricsStoreFor } from '../src/metrics/store.js';
import { SqliteCatalog } from '../src/storage/embedded/catalog.js';
import { createEmbeddedLogStore } from '../src/storage/embedded/index.js';
import { systemClock } from '../src/util/clock.js';

const mode = process.argv[2] ?? 'off';

if (mode === 'micro') {
  const { ShardLimits } = await import('../src/kinesis/limits/index.js');
  const { hash } = await import('node:crypto');
  const n = 5_000_000;
  const keys = Array.from({ length: 1024 }, (_, i) => `key-${i}-${Math.random()}`);
  const time = (f: (i: number) => void): number => {
    for (let i = 0; i < n / 10; i++) f(i);
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    return Number(process.hrtime.bigint() - t) / n;
  };
  const open = new ShardLimits({ ...limitsFor('on') }, 0);
  let sink = 0;
  const admit = time((i) => {
    if (open.admitWrite(100 + Buffer.byteLength(keys[i & 1023]!, 'utf8'), i >> 10)) sink++;
  });
  const md5 = time((i) => {
    sink += hash('md5', keys[i & 1023]!, 'buffer')[0]!;
  });
  console.log(`admission check (with the size of the key): ${admit.toFixed(1)} ns per record; MD5 routing: ${md5.toFixed(1)} ns per record (${sink > 0})`);
  process.exit(0);
}

function limitsFor(m: string) {
  return {
    enabled: m !== 'off',
    shardWriteBytesPerSecond: m === 'aws' ? 1024 * 1024 : 1e15,
    shardWriteRecordsPerSecond: m === 'aws' ? 1000 : 1e15,
    shardWriteBurstBytes: m === 'aws' ? 10 * 1024 * 1024 : 1e15,
    shardReadBytesPerSecond: 2 * 1024 * 1024,
    shardReadCallsPerSecond: 5,
    shardIteratorCallsPerSecond: 5,
    operationRates: {},
  };
}
const seconds = Number(process.argv[3] ?? 5);
const limits = limitsFor(mode);

const dir = mkdtempSync(path.join(tmpdir(), 'limits-cost-'));
const catalog = new SqliteCatalog(path.join(dir, 'catalog.sqlite'));
const logs = createEmbeddedLogStore(path.join(dir, 'streams'), {
  fsync: 'never',
  fsyncIntervalMs: 1000,
  segmentBytes: 64 * 1024 * 1024,
  segmentMaxAgeMs: 3_600_000,
});
const settings = { ...defaultKinesisSettings, createStreamDelayMs: 0, deleteStreamDelayMs: 0, limits };
const k = new Kinesis({
  settings: settings as typeof defaultKinesisSettings,
  catalog,
  logs,
  clock: systemClock,
  metricsStore: metricsStoreFor(catalog),
});
await k.start();
await kinesisOperations.get('CreateStream')!.handle(k, { StreamName: 'cost', ShardCount: 4 });
const putRecords = kinesisOperations.get('PutRecords')!;

const data = Buffer.alloc(100, 0x61);
const batches = Array.from({ length: 64 }, (_, b) => ({
  StreamName: 'cost',
  Records: Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `key-${b}-${i}-${Math.random()}`, Data: data })),
}));

async function run(ms: number): Promise<{ calls: number; records: number; failed: number; elapsed: number; cpu: number }> {
  const until = performance.now() + ms;
  let calls = 0;
  let failed = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: 4 }, async (_, lane) => {
      for (let i = lane; performance.now() < until; i += 4) {
        const r = (await putRecords.handle(k, batches[i % batches.length])) as { FailedRecordCount: number };
        calls++;
        failed += r.FailedRecordCount;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { calls, records: calls * 500, failed, elapsed: performance.now() - start, cpu: cpu.user + cpu.system };
}

await run(1000);
const r = await run(seconds * 1000);
const perSecond = (r.records * 1000) / r.elapsed;
console.log(
  `${mode}: ${Math.round(perSecond)} records/s offered, ${((r.elapsed * 1000) / r.calls).toFixed(1)} µs per call, ` +
    `${(r.cpu / r.calls).toFixed(1)} µs CPU per call, ` +
    `${((100 * r.failed) / r.records).toFixed(1)}% refused (${r.calls} calls in ${(r.elapsed / 1000).toFixed(1)} s)`,
);
await k.close();
rmSync(dir, { recursive: true, force: true });
