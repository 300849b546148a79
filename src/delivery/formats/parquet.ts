/**
 * Rows (as json-serde.ts produces them) to Parquet file bytes with hyparquet-writer, typed as
 * Hive's Parquet SerDe types a Glue table:
 *
 *   boolean → BOOLEAN                 tinyint → INT32 (INT(8))     smallint → INT32 (INT(16))
 *   int → INT32                       bigint → INT64               float → FLOAT, double → DOUBLE
 *   string, char(n), varchar(n) → BYTE_ARRAY (STRING)              binary → BYTE_ARRAY
 *   date → INT32 (DATE)               decimal(p,s) → FIXED_LEN_BYTE_ARRAY(minimal bytes for p) (DECIMAL(p,s))
 *   timestamp → INT64 (TIMESTAMP(MICROS, isAdjustedToUTC=false)) — Firehose's Hive writer uses
 *     INT96; hyparquet-writer cannot write INT96, so the standard 64-bit form is used: readers
 *     (Athena, Spark, DuckDB, pyarrow) read it as a timestamp without zone, to the microsecond.
 *   array<T> → LIST (3-level: repeated group `list` { optional `element` })
 *   map<K,V> → MAP (repeated group `key_value` { required `key`, optional `value` })
 *   struct<...> → optional group of the fields
 * Every column is optional: a missing key is a null. tinyint, smallint and date carry only the
 * converted type (INT_8, INT_16, DATE): with hyparquet-writer 0.17 the INTEGER and DATE logical
 * annotations produce files DuckDB refuses, and every reader maps the converted types alike.
 *
 * ParquetSerDe settings: Compression SNAPPY (default; hyparquet-writer's own Snappy), GZIP
 * (node:zlib) or UNCOMPRESSED; EnableDictionaryCompression (default true: each column chunk is
 * dictionary-encoded when that at least halves it, as hyparquet-writer decides; false: PLAIN
 * only); PageSizeBytes (target page size, default 1 MiB); BlockSizeBytes (row-group size,
 * default 256 MiB: the writer counts row groups in rows, so the byte size is turned into rows by
 * the average input record size). MaxPaddingBytes has nothing to pad (no HDFS blocks) and
 * WriterVersion is not honoured: hyparquet-writer writes v2 data pages in every case.
 */
import { gzipSync } from 'node:zlib';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import type { HiveType } from './hive-types.js';
import type { Row } from './json-serde.js';
import type { TableColumn } from './schema-catalog.js';

/** The writer's own schema element type (it bundles its own hyparquet). */
export type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

export type ParquetCompression = 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED';

/** Firehose's `OutputFormatConfiguration.Serializer.ParquetSerDe`. */
export interface ParquetSerDeSettings {
  readonly BlockSizeBytes?: number;
  readonly PageSizeBytes?: number;
  readonly Compression?: ParquetCompression;
  readonly EnableDictionaryCompression?: boolean;
  readonly MaxPaddingBytes?: number;
  readonly WriterVersion?: 'V1' | 'V2';
}

export const DEFAULT_BLOCK_SIZE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE_BYTES = 1024 * 1024;

/** Bytes a FIXED_LEN_BYTE_ARRAY needs to hold any unscaled value of `precision` digits, signed. */
export function decimalByteLength(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n;
  let bytes = 1;
  while (max > 2n ** BigInt(8 * bytes - 1) - 1n) bytes++;
  return bytes;
}

/** The Parquet schema (flattened, root first) for a table's columns. */
export function parquetSchema(columns: readonly TableColumn[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'schema', num_children: columns.length }];
  for (const column of columns) appendField(out, column.name, column.type, 'OPTIONAL');
  return out;
}

function appendField(out: SchemaElement[], name: string, type: HiveType, repetition: 'OPTIONAL' | 'REQUIRED'): void {
  const base = { name, repetition_type: repetition } as const;
  switch (type.kind) {
    case 'boolean':
      out.push({ ...base, type: 'BOOLEAN' });
      return;
    case 'tinyint':
      out.push({ ...base, type: 'INT32', converted_type: 'INT_8' });
      return;
    case 'smallint':
      out.push({ ...base, type: 'INT32', converted_type: 'INT_16' });
      return;
    case 'int':
      out.push({ ...base, type: 'INT32' });
      return;
    case 'bigint':
      out.push({ ...base, type: 'INT64' });
      return;
    case 'float':
      out.push({ ...base, type: 'FLOAT' });
      return;
    case 'double':
      out.push({ ...base, type: 'DOUBLE' });
      return;
    case 'string':
    case 'char':
    case 'varchar':
      out.push({ ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } });
      return;
    case 'binary':
      out.push({ ...base, type: 'BYTE_ARRAY' });
      return;
    case 'date':
      out.push({ ...base, type: 'INT32', converted_type: 'DATE' });
      return;
    case 'timestamp':
      out.push({ ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } });
      return;
    case 'decimal':
      out.push({
        ...base,
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: decimalByteLength(type.precision),
        converted_type: 'DECIMAL',
        precision: type.precision,
        scale: type.scale,
        logical_type: { type: 'DECIMAL', precision: type.precision, scale: type.scale },
      });
      return;
    case 'array':
      out.push({ ...base, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 });
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      appendField(out, 'element', type.element, 'OPTIONAL');
      return;
    case 'map':
      out.push({ ...base, converted_type: 'MAP', logical_type: { type: 'MAP' }, num_children: 1 });
      out.push({ name: 'key_value', repetition_type: 'REPEATED', num_children: 2 });
      appendField(out, 'key', type.key, 'REQUIRED');
      appendField(out, 'value', type.value, 'OPTIONAL');
      return;
    case 'struct':
      out.push({ ...base, num_children: type.fields.length });
      for (const field of type.fields) appendField(out, field.name, field.type, 'OPTIONAL');
      return;
  }
}

export interface ParquetWriteInput {
  readonly columns: readonly TableColumn[];
  readonly rows: readonly Row[];
  readonly settings?: ParquetSerDeSettings;
  /** Bytes of JSON the rows came from, to turn BlockSizeBytes into rows per row group. */
  readonly inputBytes?: number;
}

/** Rows per row group so that a group holds about `blockSizeBytes` of input. */
export function rowsPerRowGroup(blockSizeBytes: number, rowCount: number, inputBytes: number | undefined): number {
  if (rowCount === 0) return 1;
  const perRow = Math.max(1, (inputBytes ?? rowCount * 100) / rowCount);
  return Math.max(1, Math.floor(blockSizeBytes / perRow));
}

/** One Parquet file holding `rows`. */
export function writeParquet({ columns, rows, settings = {}, inputBytes }: ParquetWriteInput): Uint8Array {
  const codec = settings.Compression ?? 'SNAPPY';
  const dictionary = settings.EnableDictionaryCompression ?? true;
  const columnData: ColumnSource[] = columns.map((column) => {
    const data = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) data[i] = rows[i]![column.name] ?? null;
    const source: ColumnSource = { name: column.name, data: data as ColumnSource['data'] };
    if (!dictionary) source.encoding = 'PLAIN';
    return source;
  });
  const buffer = parquetWriteBuffer({
    columnData,
    schema: parquetSchema(columns),
    codec,
    compressors: codec === 'GZIP' ? { GZIP: (input: Uint8Array) => gzipSync(input) } : undefined,
    pageSize: settings.PageSizeBytes ?? DEFAULT_PAGE_SIZE_BYTES,
    rowGroupSize: rowsPerRowGroup(settings.BlockSizeBytes ?? DEFAULT_BLOCK_SIZE_BYTES, rows.length, inputBytes),
    createdBy: 'tributary',
  });
  return new Uint8Array(buffer);
}
