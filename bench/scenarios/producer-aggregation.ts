/**
 * KPL aggregation codec: the hand-written codec of src/client/aggregation.ts against protobufjs
 * types built with its reflection API (no code generation). Both build the same bytes; this
 * measures records per second to encode (Aggregator) and to decode (deaggregate).
 *
 *   node .build/<dir>/bench/scenarios/producer-aggregation.js [recordSize=200] [keys=50]
 */
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { Aggregator, deaggregate, KPL_MAGIC, type UserRecord } from '../../src/client/aggregation.js';

const recordSize = Number(process.argv[2] ?? 200);
const keyCount = Number(process.argv[3] ?? 50);

const Tag = new protobuf.Type('Tag').add(new protobuf.Field('key', 1, 'string', 'required')).add(new protobuf.Field('value', 2, 'string', 'optional'));
const RecordType = new protobuf.Type('Record')
  .add(new protobuf.Field('partition_key_index', 1, 'uint64', 'required'))
  .add(new protobuf.Field('explicit_hash_key_index', 2, 'uint64', 'optional'))
  .add(new protobuf.Field('data', 3, 'bytes', 'required'))
  .add(new protobuf.Field('tags', 4, 'Tag', 'repeated'));
const AggregatedRecord = new protobuf.Type('AggregatedRecord')
  .add(new protobuf.Field('partition_key_table', 1, 'string', 'repeated'))
  .add(new protobuf.Field('explicit_hash_key_table', 2, 'string', 'repeated'))
  .add(new protobuf.Field('records', 3, 'Record', 'repeated'));
new protobuf.Root().add(Tag).add(RecordType).add(AggregatedRecord);

interface Input {
  key: string;
  data: Uint8Array;
}

function protobufEncode(records: readonly Input[]): Uint8Array {
  const keys = new Map<string, number>();
  const entries = records.map((r) => {
    let i = keys.get(r.key);
    if (i === undefined) keys.set(r.key, (i = keys.size));
    return { partition_key_index: i, data: r.data };
  });
  const body = AggregatedRecord.encode({ partition_key_table: [...keys.keys()], records: entries }).finish();
  const digest = createHash('md5').update(body).digest();
  return Buffer.concat([KPL_MAGIC, body, digest]);
}

interface Decoded {
  partition_key_table: string[];
  explicit_hash_key_table: string[];
  records: { partition_key_index: number | { toNumber(): number }; data: Uint8Array }[];
}

/** Deaggregates with protobufjs into the same user records deaggregate() returns. */
function protobufDecode(data: Uint8Array): UserRecord[] {
  const body = data.subarray(4, data.length - 16);
  const digest = createHash('md5').update(body).digest();
  if (!digest.equals(data.subarray(data.length - 16))) throw new Error('bad digest');
  const msg = AggregatedRecord.decode(body) as unknown as Decoded;
  return msg.records.map((r, i) => ({
    partitionKey: msg.partition_key_table[typeof r.partition_key_index === 'number' ? r.partition_key_index : r.partition_key_index.toNumber()]!,
    explicitHashKey: undefined,
    data: r.data,
    sequenceNumber: '1',
    subSequenceNumber: i,
    aggregated: true,
    approximateArrivalTimestamp: undefined,
    encryptionType: undefined,
  }));
}

function handEncode(records: readonly Input[]): Uint8Array {
  const a = new Aggregator({ maxBytes: 1024 * 1024 });
  for (const r of records) if (!a.add(r.key, r.data)) throw new Error('does not fit');
  return a.build().data;
}

function handDecode(data: Uint8Array): UserRecord[] {
  return deaggregate({ Data: data, PartitionKey: 'k', SequenceNumber: '1' });
}

/** Records per second of `fn` (which handles `perCall` records) over about `seconds`. */
function rate(perCall: number, fn: () => void, seconds: number): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    for (let i = 0; i < 20; i++) fn();
    calls += 20;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return (calls * perCall) / elapsed;
}

/** Runs the candidates in turn, five rounds, and keeps each one's best round (the machine is shared). */
function compare(what: string, perCall: number, candidates: Record<string, () => void>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const fn of Object.values(candidates)) for (let i = 0; i < 200; i++) fn(); // warm up
  for (let round = 0; round < 5; round++) {
    for (const [name, fn] of Object.entries(candidates)) best[name] = Math.max(best[name] ?? 0, rate(perCall, fn, 0.4));
  }
  for (const [name, r] of Object.entries(best)) {
    process.stdout.write(`${`${what}, ${name}`.padEnd(34)} ${Math.round(r).toLocaleString('en-US').padStart(12)} records/s\n`);
  }
  return best;
}

// An aggregate of the KPL's default size (51,200 bytes).
const perAggregate = Math.max(1, Math.floor(51_000 / (recordSize + 12)));
const records: Input[] = Array.from({ length: perAggregate }, (_, i) => ({
  key: `partition-key-${i % keyCount}`,
  data: new Uint8Array(recordSize).fill(i % 251),
}));
const ours = handEncode(records);
const theirs = protobufEncode(records);
if (!Buffer.from(ours).equals(Buffer.from(theirs))) throw new Error('the two codecs disagree');
process.stdout.write(`${perAggregate} records of ${recordSize} bytes over ${keyCount} keys per aggregate (${ours.length} bytes)\n`);
const enc = compare('encode', perAggregate, { 'hand-written': () => handEncode(records), protobufjs: () => protobufEncode(records) });
const dec = compare('decode', perAggregate, { 'hand-written': () => handDecode(ours), protobufjs: () => protobufDecode(ours) });
const md5Only = compare('MD5 of the body alone', perAggregate, { '': () => createHash('md5').update(ours.subarray(4, ours.length - 16)).digest() });
process.stdout.write(
  `hand-written / protobufjs: encode ${(enc['hand-written']! / enc.protobufjs!).toFixed(2)}x, decode ${(dec['hand-written']! / dec.protobufjs!).toFixed(2)}x` +
    ` (MD5 alone: ${Math.round(md5Only['']!).toLocaleString('en-US')} records/s)\n`,
);
