/**
 * Iceberg's manifest list and manifest files: Avro object-container files (avsc) whose record
 * fields carry the table spec's field ids (`field-id`, `element-id`), as Iceberg readers require.
 * The schemas are given to avsc as plain objects, so the ids survive into the `avro.schema`
 * header. Only what an append writes is declared: data files without column metrics.
 */
import avro from 'avsc';

const optional = (type: unknown) => ['null', type];

/** `manifest_file`, one per manifest in a manifest list (format version 2). */
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: optional({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: optional('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: optional('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: optional('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 519 },
  ],
};

/** A partition field of the table's spec, as the manifest's `partition` struct holds it. */
export interface PartitionFieldSchema {
  name: string;
  fieldId: number;
  /** The transform's result type: `int` for hour. */
  type: 'int';
}

/** `manifest_entry` for a spec's partition fields (none: an empty `partition` struct). */
export function manifestEntrySchema(partition: readonly PartitionFieldSchema[]): object {
  const schema = structuredClone(MANIFEST_ENTRY_SCHEMA) as { fields: { name: string; type: { fields: { name: string; type: unknown }[] } }[] };
  const dataFile = schema.fields.find((f) => f.name === 'data_file')!.type;
  const struct = dataFile.fields.find((f) => f.name === 'partition')!;
  struct.type = {
    type: 'record',
    name: 'r102',
    fields: partition.map((p) => ({ name: p.name, type: optional(p.type), default: null, 'field-id': p.fieldId })),
  } as never;
  return schema;
}

/** `manifest_entry` of an unpartitioned table (the `partition` struct has no fields). */
const MANIFEST_ENTRY_SCHEMA = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
    { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
    {
      name: 'data_file',
      'field-id': 2,
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          { name: 'content', type: 'int', 'field-id': 134 },
          { name: 'file_path', type: 'string', 'field-id': 100 },
          { name: 'file_format', type: 'string', 'field-id': 101 },
          { name: 'partition', type: { type: 'record', name: 'r102', fields: [] }, 'field-id': 102 },
          { name: 'record_count', type: 'long', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 131 },
          {
            name: 'split_offsets',
            type: optional({ type: 'array', items: 'long', 'element-id': 133 }),
            default: null,
            'field-id': 132,
          },
          { name: 'sort_order_id', type: optional('int'), default: null, 'field-id': 140 },
        ],
      },
    },
  ],
};

/** An Avro object-container file of `records`, with `metadata` in its header (deflate-compressed). */
export function avroFile(schema: object, records: readonly object[], metadata: Record<string, string>): Promise<Buffer> {
  const header: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) header[k] = Buffer.from(v, 'utf8');
  // avsc takes `metadata` (header key/values as Buffers) though its typings do not say so.
  const options = { codec: 'deflate', writeHeader: true, metadata: header };
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, options as unknown as ConstructorParameters<typeof avro.streams.BlockEncoder>[1]);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    encoder.on('data', (c: Buffer) => chunks.push(c));
    encoder.on('error', reject);
    encoder.on('end', () => resolve(Buffer.concat(chunks)));
    for (const r of records) encoder.write(r);
    encoder.end();
  });
}

/** The records of an Avro object-container file. */
export function readAvroFile(bytes: Buffer): Promise<Record<string, unknown>[]> {
  const decoder = new avro.streams.BlockDecoder();
  const out: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    decoder.on('data', (r: Record<string, unknown>) => out.push(r));
    decoder.on('error', reject);
    decoder.on('end', () => resolve(out));
    decoder.end(bytes);
  });
}
