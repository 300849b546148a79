import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseHiveType } from '../../../src/delivery/formats/hive-types.js';
import { RecordDecoder, type Row } from '../../../src/delivery/formats/json-serde.js';
import { decimalByteLength, type ParquetSerDeSettings, parquetSchema, rowsPerRowGroup, writeParquet } from '../../../src/delivery/formats/parquet.js';
import type { TableColumn } from '../../../src/delivery/formats/schema-catalog.js';
import { hyparquetMetadata, hyparquetRows, ParquetReadback } from './readback.js';

function columns(spec: Record<string, string>): TableColumn[] {
  return Object.entries(spec).map(([name, typeText]) => ({ name, typeText, type: parseHiveType(typeText) }));
}

function decode(cols: TableColumn[], records: string[]): Row[] {
  const decoder = new RecordDecoder(cols, { OpenXJsonSerDe: {} });
  return records.flatMap((r) => {
    const result = decoder.decode(Buffer.from(r));
    if (!result.ok) assert.fail(result.errorMessage);
    return result.rows;
  });
}

const SINK = columns({
  b: 'boolean',
  ti: 'tinyint',
  si: 'smallint',
  i: 'int',
  bi: 'bigint',
  f: 'float',
  d: 'double',
  dec: 'decimal(10,2)',
  dec38: 'decimal(38,4)',
  s: 'string',
  c: 'char(3)',
  v: 'varchar(5)',
  bin: 'binary',
  dt: 'date',
  ts: 'timestamp',
  tags: 'array<string>',
  m: 'map<string,int>',
  st: 'struct<name:string,n:int,sub:struct<x:double>>',
  aos: 'array<struct<k:string>>',
});

const SINK_RECORDS = [
  JSON.stringify({
    b: true, ti: -128, si: 32767, i: -2147483648, bi: '9223372036854775807', f: 1.5, d: -2.25, dec: '-12345678.91',
    dec38: '-1234567890123456789012345678901234.5678', s: 'héllo ☃', c: 'abcd', v: 'vwxyz!', bin: 'AAEC/w==', dt: '1969-12-31',
    ts: '2024-02-29 23:59:59.123456', tags: ['a', null, 'c'], m: { one: 1, none: null }, st: { name: 'n', n: 7, sub: { x: 0.5 } },
    aos: [{ k: 'x' }, null, { k: null }],
  }),
  '{}',
  JSON.stringify({ b: false, tags: [], m: {}, st: { sub: null }, aos: [] }),
];

let rb: ParquetReadback;
before(async () => {
  rb = await ParquetReadback.open();
});
after(() => rb.close());

const SINK_TYPES = {
  b: 'BOOLEAN',
  ti: 'TINYINT',
  si: 'SMALLINT',
  i: 'INTEGER',
  bi: 'BIGINT',
  f: 'FLOAT',
  d: 'DOUBLE',
  dec: 'DECIMAL(10,2)',
  dec38: 'DECIMAL(38,4)',
  s: 'VARCHAR',
  c: 'VARCHAR',
  v: 'VARCHAR',
  bin: 'BLOB',
  dt: 'DATE',
  ts: 'TIMESTAMP',
  tags: 'VARCHAR[]',
  m: 'MAP(VARCHAR, INTEGER)',
  st: 'STRUCT("name" VARCHAR, n INTEGER, sub STRUCT(x DOUBLE))',
  aos: 'STRUCT(k VARCHAR)[]',
};

const NULL_ROW = Object.fromEntries(Object.keys(SINK_TYPES).map((k) => [k, null]));

const SINK_DUCK_ROWS = [
  {
    b: true, ti: -128, si: 32767, i: -2147483648, bi: '9223372036854775807', f: 1.5, d: -2.25, dec: '-12345678.91',
    dec38: '-1234567890123456789012345678901234.5678', s: 'héllo ☃', c: 'abc', v: 'vwxyz', bin: '\\x00\\x01\\x02\\xFF',
    dt: '1969-12-31', ts: '2024-02-29 23:59:59.123456', tags: ['a', null, 'c'],
    m: [{ key: 'one', value: 1 }, { key: 'none', value: null }], st: { name: 'n', n: 7, sub: { x: 0.5 } }, aos: [{ k: 'x' }, null, { k: null }],
  },
  NULL_ROW,
  { ...NULL_ROW, b: false, tags: [], m: [], st: { name: null, n: null, sub: null }, aos: [] },
];

describe('Parquet output read back by DuckDB and hyparquet', () => {
  it('keeps every Hive type, nulls and nesting, typed as Hive types them', async () => {
    const bytes = writeParquet({ columns: SINK, rows: decode(SINK, SINK_RECORDS) });
    const read = await rb.duck(bytes);
    assert.deepEqual(read.types, SINK_TYPES);
    assert.deepEqual(read.rows, SINK_DUCK_ROWS);
  });

  it('writes the physical and logical types Hive uses, timestamps as INT64 micros', async () => {
    const bytes = writeParquet({ columns: SINK, rows: decode(SINK, SINK_RECORDS) });
    const schema = Object.fromEntries(
      (await rb.schema(bytes)).map((e) => [e.name, [e.type, e.converted_type, e.type_length, e.repetition_type].filter((x) => x !== null).join(' ')]),
    );
    assert.equal(schema.ti, 'INT32 INT_8 OPTIONAL');
    assert.equal(schema.si, 'INT32 INT_16 OPTIONAL');
    assert.equal(schema.bi, 'INT64 OPTIONAL');
    assert.equal(schema.dec, 'FIXED_LEN_BYTE_ARRAY DECIMAL 5 OPTIONAL');
    assert.equal(schema.dec38, 'FIXED_LEN_BYTE_ARRAY DECIMAL 16 OPTIONAL');
    assert.equal(schema.s, 'BYTE_ARRAY UTF8 OPTIONAL');
    assert.equal(schema.bin, 'BYTE_ARRAY OPTIONAL');
    assert.equal(schema.dt, 'INT32 DATE OPTIONAL');
    assert.equal(schema.ts, 'INT64 OPTIONAL');
    assert.equal(schema.tags, 'LIST OPTIONAL');
    assert.equal(schema.key_value, 'REPEATED');
    assert.equal(schema.key, 'BYTE_ARRAY UTF8 REQUIRED');
    const ts = (await rb.schema(bytes)).find((e) => e.name === 'ts');
    assert.match(String(ts?.logical_type), /TimestampType\(isAdjustedToUTC=0, unit=TimeUnit\(MILLIS=<null>, MICROS=MicroSeconds\(\)/);
    assert.deepEqual([1, 2, 3, 4, 9, 10, 18, 19, 38].map(decimalByteLength), [1, 1, 2, 2, 4, 5, 8, 9, 16]);
  });

  it('reads the same rows back with hyparquet', async () => {
    const bytes = writeParquet({ columns: SINK, rows: decode(SINK, SINK_RECORDS) });
    const rows = await hyparquetRows(bytes);
    assert.equal(rows.length, 3);
    const first = rows[0]!;
    assert.equal(first.b, true);
    assert.equal(first.ti, -128);
    assert.equal(first.si, 32767);
    assert.equal(first.i, -2147483648);
    assert.equal(first.bi, 9223372036854775807n);
    assert.equal(first.f, 1.5);
    assert.equal(first.dec, -12345678.91);
    assert.equal(first.s, 'héllo ☃');
    assert.equal(first.c, 'abc');
    assert.deepEqual(first.dt, new Date('1969-12-31T00:00:00Z'));
    assert.deepEqual(first.ts, new Date('2024-02-29T23:59:59.123Z'));
    assert.deepEqual(first.tags, ['a', null, 'c']);
    assert.deepEqual(first.m, { one: 1, none: null });
    assert.deepEqual(first.st, { name: 'n', n: 7, sub: { x: 0.5 } });
    assert.deepEqual(first.aos, [{ k: 'x' }, null, { k: null }]);
    assert.deepEqual(rows[1], NULL_ROW);
    assert.deepEqual(rows[2]?.tags, []);
    assert.deepEqual(rows[2]?.st, { name: null, n: null, sub: null });
    const metadata = hyparquetMetadata(bytes);
    assert.equal(metadata.num_rows, 3n);
    assert.equal(metadata.created_by, 'tributary');
  });

  for (const compression of ['SNAPPY', 'GZIP', 'UNCOMPRESSED'] as const) {
    it(`compresses ${compression} pages that both readers inflate`, async () => {
      const bytes = writeParquet({ columns: SINK, rows: decode(SINK, SINK_RECORDS), settings: { Compression: compression } });
      const chunks = await rb.metadata(bytes);
      assert.deepEqual([...new Set(chunks.map((c) => c.compression))], [compression]);
      assert.deepEqual((await rb.duck(bytes)).rows, SINK_DUCK_ROWS);
      assert.equal((await hyparquetRows(bytes)).length, 3);
    });
  }

  it('compresses SNAPPY by default', async () => {
    const chunks = await rb.metadata(writeParquet({ columns: SINK, rows: decode(SINK, SINK_RECORDS) }));
    assert.deepEqual([...new Set(chunks.map((c) => c.compression))], ['SNAPPY']);
  });

  it('dictionary-encodes repetitive columns unless EnableDictionaryCompression is false', async () => {
    const cols = columns({ kind: 'string', n: 'int' });
    const rows = Array.from({ length: 2000 }, (_, i) => ({ kind: ['click', 'view', 'buy'][i % 3], n: i % 5 }));
    const encodings = async (settings: ParquetSerDeSettings) =>
      (await rb.metadata(writeParquet({ columns: cols, rows, settings }))).map((c) => `${c.path_in_schema}:${c.encodings}`);
    assert.deepEqual(await encodings({}), ['kind:PLAIN, RLE_DICTIONARY', 'n:PLAIN, RLE_DICTIONARY']);
    assert.deepEqual(await encodings({ EnableDictionaryCompression: true }), ['kind:PLAIN, RLE_DICTIONARY', 'n:PLAIN, RLE_DICTIONARY']);
    assert.deepEqual(await encodings({ EnableDictionaryCompression: false }), ['kind:PLAIN', 'n:PLAIN']);
    const back = await rb.duck(writeParquet({ columns: cols, rows, settings: { EnableDictionaryCompression: false } }));
    assert.deepEqual(back.rows.slice(0, 4), [{ kind: 'click', n: 0 }, { kind: 'view', n: 1 }, { kind: 'buy', n: 2 }, { kind: 'click', n: 3 }]);
  });

  it('sizes row groups from BlockSizeBytes and pages from PageSizeBytes', async () => {
    assert.equal(rowsPerRowGroup(256 * 1024 * 1024, 1000, 100_000), 2_684_354);
    assert.equal(rowsPerRowGroup(1000, 1000, 100_000), 10);
    assert.equal(rowsPerRowGroup(10, 1000, 100_000), 1);
    const cols = columns({ id: 'bigint', note: 'string' });
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: BigInt(i), note: `note number ${i} `.repeat(4) }));
    const bytes = writeParquet({ columns: cols, rows, settings: { BlockSizeBytes: 10_000 }, inputBytes: 100_000 });
    const chunks = await rb.metadata(bytes);
    assert.equal(new Set(chunks.map((c) => c.row_group_id)).size, 10);
    assert.deepEqual((await rb.query(`select count(*)::INT as n, sum(id)::BIGINT as s from read_parquet('${rb.file(bytes)}')`))[0], { n: 1000, s: '499500' });
    const pages = (settings: ParquetSerDeSettings) => {
      const meta = hyparquetMetadata(writeParquet({ columns: cols, rows, settings }));
      const note = meta.row_groups[0]!.columns[1]!.meta_data!;
      return Number(note.total_uncompressed_size);
    };
    // smaller pages mean more page headers for the same data
    assert.ok(pages({ PageSizeBytes: 1024, EnableDictionaryCompression: false }) > pages({ EnableDictionaryCompression: false }));
  });

  it('lays out the schema root first, every column optional', () => {
    const schema = parquetSchema(columns({ a: 'array<map<string,struct<x:int>>>' }));
    assert.deepEqual(
      schema.map((e) => `${e.name}:${e.repetition_type ?? ''}:${e.num_children ?? ''}`),
      ['schema::1', 'a:OPTIONAL:1', 'list:REPEATED:1', 'element:OPTIONAL:1', 'key_value:REPEATED:2', 'key:REQUIRED:', 'value:OPTIONAL:1', 'x:OPTIONAL:'],
    );
  });
});
