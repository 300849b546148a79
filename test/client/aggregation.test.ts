import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { _Record } from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import {
  Aggregator,
  deaggregate,
  DEFAULT_AGGREGATION_MAX_BYTES,
  isAggregated,
  KPL_MAGIC,
  MAX_KINESIS_RECORD_BYTES,
} from '../../src/client/aggregation.js';

interface AggInput {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
}
interface AggEncoded {
  partitionKey: string;
  data: Buffer;
  ExplicitHashKey?: string;
}
interface AggUserRecord {
  PartitionKey: string;
  ExplicitPartitionKey?: string;
  SequenceNumber: string;
  SubSequenceNumber?: number;
  Data: string;
}
interface KinesisAgg {
  RecordAggregator: new () => { addUserRecord(r: AggInput): void; build(): AggEncoded };
  deaggregateSync(
    rec: { Data: string; PartitionKey: string; SequenceNumber: string },
    computeChecksums: boolean,
    cb: (err: Error | null, records?: AggUserRecord[]) => void,
  ): void;
  deaggregate(
    rec: { Data: string; PartitionKey: string; SequenceNumber: string },
    computeChecksums: boolean,
    perRecord: (err: Error | null, r?: AggUserRecord) => void,
    after: (err?: Error) => void,
  ): void;
}
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as KinesisAgg;

const SEQ = '49590338271490256608559692538361571095921575989136588898';

function kinesisRecord(data: Uint8Array, partitionKey = 'outer'): _Record {
  return {
    Data: data,
    PartitionKey: partitionKey,
    SequenceNumber: SEQ,
    ApproximateArrivalTimestamp: new Date(1_700_000_000_000),
    EncryptionType: 'NONE',
  };
}

function build(records: AggInput[]): Uint8Array {
  const a = new Aggregator({ maxBytes: MAX_KINESIS_RECORD_BYTES });
  for (const r of records) assert.ok(a.add(r.partitionKey, r.data, r.explicitHashKey));
  return a.build().data;
}

function theirsAggregate(records: AggInput[]): AggEncoded {
  const a = new agg.RecordAggregator();
  for (const r of records) a.addUserRecord({ ...r });
  return a.build();
}

function theirsDeaggregateSync(data: Uint8Array): AggUserRecord[] {
  let out: AggUserRecord[] | undefined;
  let error: Error | null | undefined;
  agg.deaggregateSync(
    { Data: Buffer.from(data).toString('base64'), PartitionKey: 'outer', SequenceNumber: SEQ },
    true,
    (err, records) => {
      error = err;
      out = records;
    },
  );
  assert.ok(!error, String(error));
  assert.ok(out);
  return out;
}

function theirsDeaggregateAsync(data: Uint8Array): Promise<AggUserRecord[]> {
  return new Promise((resolve, reject) => {
    const out: AggUserRecord[] = [];
    agg.deaggregate(
      { Data: Buffer.from(data).toString('base64'), PartitionKey: 'outer', SequenceNumber: SEQ },
      true,
      (err, r) => (err ? reject(err) : out.push(r!)),
      (err) => (err ? reject(err) : resolve(out)),
    );
  });
}

// Keys the reference library handles: non-empty, not "__proto__" (its key tables are plain objects), and not
// array indexes ("0" .. "4294967294"): it lists its tables with Object.keys(), which puts integer-like keys
// first and in ascending order, so such keys seen out of ascending order get the wrong table index.
const isArrayIndex = (k: string): boolean => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 4294967295;
const keyArb = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((k) => !isArrayIndex(k) && k !== '__proto__');
const ehkArb = fc.bigInt({ min: 1n << 32n, max: (1n << 128n) - 1n }).map((n) => n.toString());
const userRecordArb = fc.record(
  {
    partitionKey: fc.oneof(keyArb, fc.constantFrom('a', 'b', 'c')),
    explicitHashKey: fc.oneof(ehkArb, fc.constantFrom('4294967296', '170141183460469231731687303715884105728')),
    data: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((u) => Buffer.from(u)),
  },
  { requiredKeys: ['partitionKey', 'data'] },
);
const recordsArb = fc.array(userRecordArb, { minLength: 1, maxLength: 40 });
// Anything the format can carry, including empty and integer-like keys and empty data.
const anyRecordsArb = fc.array(
  fc.record(
    {
      partitionKey: fc.oneof(fc.string({ maxLength: 40, unit: 'binary' }), fc.constantFrom('1', '0', 'a', '__proto__')),
      explicitHashKey: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), fc.constantFrom('1', '0')),
      data: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
    },
    { requiredKeys: ['partitionKey', 'data'] },
  ),
  { minLength: 1, maxLength: 40 },
);

describe('KPL aggregation format', () => {
  it('round-trips any user records, in order, with their keys', () => {
    fc.assert(
      fc.property(anyRecordsArb, (records) => {
        const a = new Aggregator({ maxBytes: MAX_KINESIS_RECORD_BYTES });
        for (const r of records) assert.ok(a.add(r.partitionKey, r.data, r.explicitHashKey));
        assert.equal(a.count, records.length);
        const built = a.build();
        assert.equal(built.data.length, a.sizeInBytes, 'sizeInBytes is the exact encoded size');
        assert.equal(built.partitionKey, records[0]!.partitionKey);
        assert.equal(built.explicitHashKey, records[0]!.explicitHashKey);
        assert.ok(isAggregated(built.data));
        const out = deaggregate(kinesisRecord(built.data));
        assert.equal(out.length, records.length);
        out.forEach((u, i) => {
          const r = records[i]!;
          assert.equal(u.partitionKey, r.partitionKey);
          assert.equal(u.explicitHashKey, r.explicitHashKey);
          assert.deepEqual(Buffer.from(u.data), r.data);
          assert.equal(u.subSequenceNumber, i);
          assert.equal(u.sequenceNumber, SEQ);
          assert.equal(u.aggregated, true);
          assert.deepEqual(u.approximateArrivalTimestamp, new Date(1_700_000_000_000));
          assert.equal(u.encryptionType, 'NONE');
        });
      }),
      { numRuns: 200 },
    );
  });

  it('produces exactly the bytes aws-kinesis-agg produces', () => {
    fc.assert(
      fc.property(recordsArb, (records) => {
        const theirs = theirsAggregate(records);
        const ours = build(records);
        assert.deepEqual(Buffer.from(ours), theirs.data);
        assert.equal(theirs.partitionKey, records[0]!.partitionKey);
      }),
      { numRuns: 200 },
    );
  });

  it('deaggregates what aws-kinesis-agg aggregates', () => {
    fc.assert(
      fc.property(recordsArb, (records) => {
        const theirs = theirsAggregate(records);
        const out = deaggregate(kinesisRecord(theirs.data));
        assert.equal(out.length, records.length);
        out.forEach((u, i) => {
          assert.equal(u.partitionKey, records[i]!.partitionKey);
          assert.equal(u.explicitHashKey, records[i]!.explicitHashKey);
          assert.deepEqual(Buffer.from(u.data), records[i]!.data);
          assert.equal(u.subSequenceNumber, i);
          assert.equal(u.aggregated, true);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('aws-kinesis-agg deaggregates what the Aggregator builds (deaggregateSync and deaggregate)', async () => {
    const samples = fc.sample(recordsArb, { numRuns: 100, seed: 42 });
    for (const records of samples) {
      const ours = build(records);
      for (const theirs of [theirsDeaggregateSync(ours), await theirsDeaggregateAsync(ours)]) {
        assert.equal(theirs.length, records.length);
        theirs.forEach((u, i) => {
          assert.equal(u.PartitionKey, records[i]!.partitionKey);
          // For a record without an explicit hash key it reports the table's first entry (the decoded default index 0).
          const ehk = records[i]!.explicitHashKey;
          if (ehk !== undefined) assert.equal(u.ExplicitPartitionKey, ehk);
          assert.equal(u.Data, records[i]!.data.toString('base64'));
          assert.equal(u.SubSequenceNumber, i);
          assert.equal(u.SequenceNumber, SEQ);
        });
      }
    }
  });

  it('returns a plain record when the MD5 trailer does not match', () => {
    const data = build([
      { partitionKey: 'a', data: Buffer.from('one') },
      { partitionKey: 'b', data: Buffer.from('two') },
    ]);
    const corrupted = Uint8Array.from(data);
    corrupted[corrupted.length - 1]! ^= 0xff;
    assert.equal(isAggregated(corrupted), false);
    const out = deaggregate(kinesisRecord(corrupted, 'outer-key'));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.aggregated, false);
    assert.equal(out[0]!.partitionKey, 'outer-key');
    assert.equal(out[0]!.subSequenceNumber, 0);
    assert.deepEqual(out[0]!.data, corrupted);
    // A flipped bit in the protobuf body breaks the checksum too.
    const body = Uint8Array.from(data);
    body[6]! ^= 0x01;
    assert.equal(deaggregate(kinesisRecord(body)).length, 1);
    assert.equal(deaggregate(kinesisRecord(body))[0]!.aggregated, false);
  });

  it('returns a plain record when the protobuf does not parse even with a valid MD5', () => {
    const bodies = [
      Uint8Array.of(0x0a, 0x05, 0x61), // truncated string
      Uint8Array.of(0x1a, 0x02, 0x10, 0x00), // record without partition_key_index and data
      Uint8Array.of(0x0a, 0x01, 0x61, 0x1a, 0x04, 0x08, 0x03, 0x1a, 0x00), // index 3 of a 1-entry table
      Uint8Array.of(0x0f), // wire type 7
    ];
    for (const body of bodies) {
      const digest = createHash('md5').update(body).digest();
      const data = Buffer.concat([KPL_MAGIC, body, digest]);
      const out = deaggregate(kinesisRecord(data));
      assert.equal(out.length, 1);
      assert.equal(out[0]!.aggregated, false);
      assert.deepEqual(Buffer.from(out[0]!.data), data);
    }
  });

  it('returns plain records unchanged, including ones too short to be aggregated', () => {
    for (const data of [Buffer.from('hello'), Buffer.alloc(0), Buffer.from(KPL_MAGIC)]) {
      const out = deaggregate(kinesisRecord(data, 'pk'));
      assert.deepEqual(out, [
        {
          partitionKey: 'pk',
          explicitHashKey: undefined,
          data,
          sequenceNumber: SEQ,
          subSequenceNumber: 0,
          aggregated: false,
          approximateArrivalTimestamp: new Date(1_700_000_000_000),
          encryptionType: 'NONE',
        },
      ]);
    }
  });

  it('skips unknown fields and tags', () => {
    // partition_key_table "k"; a record with tags and an unknown fixed64 field; an unknown top-level varint.
    const rec = [0x08, 0x00, 0x1a, 0x01, 0x78, 0x22, 0x05, 0x0a, 0x01, 0x74, 0x12, 0x00, 0x29, 1, 2, 3, 4, 5, 6, 7, 8];
    const body = Uint8Array.from([0x0a, 0x01, 0x6b, 0x1a, rec.length, ...rec, 0x78, 0x96, 0x01]);
    const data = Buffer.concat([KPL_MAGIC, body, createHash('md5').update(body).digest()]);
    const out = deaggregate(kinesisRecord(data));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.aggregated, true);
    assert.equal(out[0]!.partitionKey, 'k');
    assert.deepEqual(Buffer.from(out[0]!.data), Buffer.from('x'));
  });

  it('respects maxBytes, maxCount and the 1 MiB record limit', () => {
    const a = new Aggregator();
    assert.equal(a.maxBytes, DEFAULT_AGGREGATION_MAX_BYTES);
    const chunk = new Uint8Array(1000);
    let n = 0;
    while (a.add('key-' + n, chunk)) n++;
    assert.ok(a.sizeInBytes <= DEFAULT_AGGREGATION_MAX_BYTES);
    assert.ok(a.sizeWith('key-' + n, chunk) > DEFAULT_AGGREGATION_MAX_BYTES);
    assert.equal(a.count, n);
    assert.equal(a.build().data.length, a.sizeInBytes);
    a.clear();
    assert.equal(a.count, 0);
    assert.equal(a.sizeInBytes, 0);

    const limited = new Aggregator({ maxCount: 3 });
    for (let i = 0; i < 3; i++) assert.ok(limited.add('k', chunk));
    assert.equal(limited.add('k', chunk), false);

    // An empty aggregator takes one record larger than maxBytes if it fits in 1 MiB with its key.
    const big = new Aggregator();
    const pk = 'p'.repeat(256);
    const overhead = big.sizeWith(pk, new Uint8Array(0));
    const fits = new Uint8Array(MAX_KINESIS_RECORD_BYTES - pk.length - overhead - 4); // varint grows by 3 bytes
    assert.ok(big.sizeWith(pk, fits) + pk.length <= MAX_KINESIS_RECORD_BYTES);
    assert.ok(big.add(pk, fits));
    assert.equal(big.add('q', new Uint8Array(1)), false);
    const huge = new Aggregator({ maxBytes: 10 * MAX_KINESIS_RECORD_BYTES });
    assert.equal(huge.maxBytes, MAX_KINESIS_RECORD_BYTES);
    assert.equal(huge.add(pk, new Uint8Array(MAX_KINESIS_RECORD_BYTES - pk.length)), false);
  });
});
