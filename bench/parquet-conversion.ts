/**
 * Record format conversion cost: 100,000 small JSON records (8 columns) through the OpenX
 * deserializer and the Parquet writer, once per compression setting (and once without
 * dictionaries). Prints rows/s and CPU time (user+system) for the decode and write stages.
 *
 *   node dist/bench/parquet-conversion.js [--records N] [--runs R]
 */
import { parseSchemaCatalog } from '../src/delivery/formats/schema-catalog.js';
import { createRecordFormatConverter, type DataFormatConversionSettings } from '../src/delivery/formats/record-format.js';
import { RecordDecoder } from '../src/delivery/formats/json-serde.js';
import type { ParquetSerDeSettings } from '../src/delivery/formats/parquet.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const RECORDS = arg('--records', 100_000);
const RUNS = arg('--runs', 3);

const catalog = parseSchemaCatalog(
  JSON.stringify({
    Table: {
      Name: 'events',
      DatabaseName: 'bench',
      StorageDescriptor: {
        Columns: [
          ['id', 'bigint'],
          ['user_id', 'string'],
          ['event', 'string'],
          ['amount', 'double'],
          ['qty', 'int'],
          ['ok', 'boolean'],
          ['at', 'timestamp'],
          ['price', 'decimal(10,2)'],
        ].map(([Name, Type]) => ({ Name, Type })),
      },
    },
  }),
  'bench',
);

const EVENTS = ['view', 'click', 'add_to_cart', 'purchase', 'scroll'];
const records = Array.from({ length: RECORDS }, (_, i) =>
  Buffer.from(
    JSON.stringify({
      id: i,
      user_id: `user-${(i * 7919) % 5000}`,
      event: EVENTS[i % EVENTS.length],
      amount: (i % 1000) / 7,
      qty: i % 13,
      ok: i % 3 !== 0,
      at: 1_700_000_000 + i,
      price: `${i % 10000}.${String(i % 100).padStart(2, '0')}`,
    }),
  ),
);
const inputBytes = records.reduce((n, r) => n + r.byteLength, 0);

function settings(parquet: ParquetSerDeSettings): DataFormatConversionSettings {
  return {
    Enabled: true,
    SchemaConfiguration: { DatabaseName: 'bench', TableName: 'events' },
    InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
    OutputFormatConfiguration: { Serializer: { ParquetSerDe: parquet } },
  };
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const cases: [string, ParquetSerDeSettings][] = [
  ['SNAPPY', { Compression: 'SNAPPY' }],
  ['GZIP', { Compression: 'GZIP' }],
  ['UNCOMPRESSED', { Compression: 'UNCOMPRESSED' }],
  ['SNAPPY, no dictionary', { Compression: 'SNAPPY', EnableDictionaryCompression: false }],
];

console.log(`${RECORDS} records, ${(inputBytes / 1e6).toFixed(1)} MB of JSON, best of ${RUNS} runs`);
console.log('setting                 | wall ms | CPU ms | rows/s  | output KB');
for (const [name, parquet] of cases) {
  const setup = createRecordFormatConverter(settings(parquet), catalog);
  if (!setup.ok) throw new Error(setup.message);
  let best = { wall: Infinity, cpu: 0, size: 0 };
  for (let run = 0; run < RUNS; run++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const result = await setup.converter.convert(records);
    const wall = performance.now() - t0;
    if (result.failures.length || !result.body) throw new Error('conversion failed');
    if (wall < best.wall) best = { wall, cpu: cpuMs(cpu), size: result.body.byteLength };
  }
  const rate = Math.round(RECORDS / (best.wall / 1000));
  console.log(
    `${name.padEnd(23)} | ${best.wall.toFixed(0).padStart(7)} | ${best.cpu.toFixed(0).padStart(6)} | ${String(rate).padStart(7)} | ${(best.size / 1024).toFixed(0).padStart(9)}`,
  );
}

for (const [name, deserializer] of [
  ['decode only, OpenX', { OpenXJsonSerDe: {} }],
  ['decode only, Hive', { HiveJsonSerDe: { TimestampFormats: ['millis'] } }],
] as const) {
  const decoder = new RecordDecoder(catalog.lookup('bench', 'events')!.columns, deserializer);
  let best = { wall: Infinity, cpu: 0 };
  for (let run = 0; run < RUNS; run++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (const record of records) if (!decoder.decode(record).ok) throw new Error('decode failed');
    const wall = performance.now() - t0;
    if (wall < best.wall) best = { wall, cpu: cpuMs(cpu) };
  }
  const rate = Math.round(RECORDS / (best.wall / 1000));
  console.log(`${name.padEnd(23)} | ${best.wall.toFixed(0).padStart(7)} | ${best.cpu.toFixed(0).padStart(6)} | ${String(rate).padStart(7)} |`);
}
