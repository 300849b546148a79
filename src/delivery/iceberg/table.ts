/**
 * An Apache Iceberg (format version 2) table written through the object store: Parquet data
 * files, Avro manifests and manifest lists (avro.ts), and `metadata/v<N>.metadata.json` files,
 * under `s3://<bucket>/<namespace>/<table>/`. The table is append-only, unpartitioned or
 * partitioned by the hour of one timestamptz column (one data file per hour); each commit is one
 * `append` snapshot (fast append: one new manifest, the parent's manifests carried).
 *
 * The current metadata file is named by a pointer kept in the catalog (a setting holding the
 * version and location), changed by compare-and-set. A commit writes its files, creates
 * `v<N+1>.metadata.json` only if absent (PutObject with If-None-Match: *), then moves the
 * pointer; when the pointer moved meanwhile, the commit is rebuilt on the new current version.
 * A metadata file left by a commit that never moved the pointer is skipped over (the next free
 * version is used), so readers only ever see committed versions. `metadata/version-hint.text`
 * is rewritten after the pointer moves, for readers that open the table from its location.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CatalogConflictError } from '../../storage/catalog.js';
import type { SchemaElement } from '../formats/parquet.js';
import { avroFile, MANIFEST_FILE_SCHEMA, manifestEntrySchema, readAvroFile } from './avro.js';

export type IcebergPrimitive = 'string' | 'long' | 'timestamptz';

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergPrimitive;
}

/** A row: strings, numbers (long) and epoch microseconds as BigInt (timestamptz); null when absent. */
export type IcebergRow = Record<string, string | number | bigint | null>;

export type IcebergCompression = 'UNCOMPRESSED' | 'SNAPPY';

export interface TableObjects {
  /** The object's bytes, or undefined when there is none. */
  get(bucket: string, key: string): Promise<Buffer | undefined>;
  put(bucket: string, key: string, body: Buffer): Promise<unknown>;
  /** Writes only if no object has the key; false when one has. */
  putIfAbsent(bucket: string, key: string, body: Buffer): Promise<boolean>;
}

export interface PointerStore {
  getSettingRevisioned(name: string): Promise<{ value: string; revision: number } | undefined>;
  putSettingIf(name: string, value: string, revision: number): Promise<number>;
}

export interface TableOptions {
  bucket: string;
  namespace: string;
  name: string;
  fields: readonly IcebergField[];
  compression: IcebergCompression;
  /** Partitioned by the `hour` transform of this timestamptz field (absent: unpartitioned). */
  hourOf?: string;
  objects: TableObjects;
  pointers: PointerStore;
  /** The catalog setting holding the pointer. */
  pointerName: string;
  now(): number;
}

/** The catalog's pointer to a table's current metadata. */
export interface TablePointer {
  version: number;
  location: string;
}

interface Snapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string>;
  'schema-id': number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: object[];
  'default-spec-id': number;
  'partition-specs': object[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': object[];
  properties: Record<string, string>;
  'current-snapshot-id': number;
  refs: Record<string, { 'snapshot-id': number; type: 'branch' }>;
  snapshots: Snapshot[];
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': number }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
}

/** What a commit adds, decided against the table's current snapshot summary (undefined: nothing). */
export type AppendPlan = (currentSummary: Readonly<Record<string, string>> | undefined) => { rows: IcebergRow[]; summary: Record<string, string> } | undefined;

const ATTEMPTS = 20;
/** The first partition field id. */
const PARTITION_ID = 1000;
const MICROS_PER_HOUR = 3_600_000_000n;
/** Metadata versions probed past the pointer for one left by an unfinished commit. */
const ORPHAN_PROBES = 100;

/** A positive snapshot id below 2^53, exact in JavaScript numbers. */
function snapshotId(): number {
  const b = randomBytes(8);
  const id = b.readBigUInt64BE(0) & ((1n << 52n) - 1n);
  return Number(id) || 1;
}

export class IcebergTable {
  constructor(private readonly o: TableOptions) {}

  get location(): string {
    return `s3://${this.o.bucket}/${this.o.namespace}/${this.o.name}`;
  }

  private keyOf(location: string): string {
    const prefix = `s3://${this.o.bucket}/`;
    if (!location.startsWith(prefix)) throw new Error(`${location} is not in bucket ${this.o.bucket}`);
    return location.slice(prefix.length);
  }

  private get tableKey(): string {
    return `${this.o.namespace}/${this.o.name}`;
  }

  /** The hour partition field, when the table has one. */
  private get hourField(): { source: IcebergField; name: string } | undefined {
    if (this.o.hourOf === undefined) return undefined;
    const source = this.o.fields.find((f) => f.name === this.o.hourOf);
    if (!source || source.type !== 'timestamptz') throw new Error(`${this.o.hourOf} is not a timestamptz column of table ${this.tableKey}`);
    return { source, name: `${source.name}_hour` };
  }

  /** The spec's fields, as partition-specs and the manifests' header hold them. */
  private specFields(): object[] {
    const h = this.hourField;
    return h ? [{ 'source-id': h.source.id, 'field-id': PARTITION_ID, name: h.name, transform: 'hour' }] : [];
  }

  schema(): object {
    return { type: 'struct', 'schema-id': 0, fields: this.o.fields.map((f) => ({ id: f.id, name: f.name, required: f.required, type: f.type })) };
  }

  /** The current pointer and metadata, creating the table (v1, no snapshot) when it has none. */
  async current(): Promise<{ pointer: TablePointer; revision: number; metadata: TableMetadata }> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.o.pointers.getSettingRevisioned(this.o.pointerName);
      if (stored) {
        const pointer = JSON.parse(stored.value) as TablePointer;
        const body = await this.o.objects.get(this.o.bucket, this.keyOf(pointer.location));
        if (!body) throw new Error(`the metadata file ${pointer.location} of table ${this.tableKey} is missing`);
        return { pointer, revision: stored.revision, metadata: JSON.parse(body.toString('utf8')) as TableMetadata };
      }
      if (attempt >= ATTEMPTS) throw new Error(`table ${this.tableKey} could not be created`);
      await this.create();
    }
  }

  private async create(): Promise<void> {
    const now = this.o.now();
    const metadata: TableMetadata = {
      'format-version': 2,
      'table-uuid': randomUUID(),
      location: this.location,
      'last-sequence-number': 0,
      'last-updated-ms': now,
      'last-column-id': Math.max(0, ...this.o.fields.map((f) => f.id)),
      'current-schema-id': 0,
      schemas: [this.schema()],
      'default-spec-id': 0,
      'partition-specs': [{ 'spec-id': 0, fields: this.specFields() }],
      'last-partition-id': this.hourField ? PARTITION_ID : PARTITION_ID - 1,
      'default-sort-order-id': 0,
      'sort-orders': [{ 'order-id': 0, fields: [] }],
      properties: {
        'write.format.default': 'parquet',
        'write.parquet.compression-codec': this.o.compression === 'SNAPPY' ? 'snappy' : 'uncompressed',
      },
      'current-snapshot-id': -1,
      refs: {},
      snapshots: [],
      'snapshot-log': [],
      'metadata-log': [],
    };
    const version = await this.writeVersion(0, metadata);
    try {
      await this.o.pointers.putSettingIf(this.o.pointerName, JSON.stringify({ version, location: this.metadataLocation(version) }), 0);
    } catch (err) {
      if (!(err instanceof CatalogConflictError)) throw err;
      return;
    }
    await this.o.objects.put(this.o.bucket, `${this.tableKey}/metadata/version-hint.text`, Buffer.from(String(version)));
  }

  private metadataLocation(version: number): string {
    return `${this.location}/metadata/v${version}.metadata.json`;
  }

  /** Creates the first free metadata file after `base`; returns its version. */
  private async writeVersion(base: number, metadata: TableMetadata): Promise<number> {
    for (let v = base + 1; v <= base + ORPHAN_PROBES; v++) {
      const body = Buffer.from(JSON.stringify(metadata, null, 1));
      if (await this.o.objects.putIfAbsent(this.o.bucket, this.keyOf(this.metadataLocation(v)), body)) return v;
    }
    throw new Error(`table ${this.tableKey}: no free metadata version after v${base}`);
  }

  /**
   * Commits one append snapshot of what `plan` returns, re-planned on the current snapshot after
   * each conflict. Resolves to the number of rows committed (0 when the plan added nothing).
   */
  async append(plan: AppendPlan): Promise<number> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { pointer, revision, metadata } = await this.current();
      const parent = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
      const planned = plan(parent?.summary);
      if (!planned || planned.rows.length === 0) return 0;
      const next = await this.prepare(metadata, parent, planned.rows, planned.summary, pointer);
      const version = await this.writeVersion(pointer.version, next);
      try {
        await this.o.pointers.putSettingIf(this.o.pointerName, JSON.stringify({ version, location: this.metadataLocation(version) }), revision);
      } catch (err) {
        if (err instanceof CatalogConflictError) continue;
        throw err;
      }
      await this.o.objects.put(this.o.bucket, `${this.tableKey}/metadata/version-hint.text`, Buffer.from(String(version)));
      return planned.rows.length;
    }
    throw new Error(`table ${this.tableKey}: the commit conflicted ${ATTEMPTS} times`);
  }

  /** Writes the data file, manifest and manifest list of a new snapshot; returns the new metadata. */
  private async prepare(metadata: TableMetadata, parent: Snapshot | undefined, rows: IcebergRow[], extra: Record<string, string>, pointer: TablePointer): Promise<TableMetadata> {
    const now = this.o.now();
    const id = snapshotId();
    const sequence = metadata['last-sequence-number'] + 1;
    const hour = this.hourField;
    // One data file per partition: rows grouped by the hour of the partition column.
    const groups = new Map<number | undefined, IcebergRow[]>();
    for (const row of rows) {
      const v = hour ? row[hour.source.name] : undefined;
      const key = typeof v === 'bigint' ? Number(v >= 0n ? v / MICROS_PER_HOUR : -((-v + MICROS_PER_HOUR - 1n) / MICROS_PER_HOUR)) : undefined;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(row);
    }
    const files: { path: string; size: number; count: number; hour: number | undefined }[] = [];
    for (const [value, group] of [...groups].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))) {
      const dataKey = hour && value !== undefined ? `${this.tableKey}/data/${hour.name}=${value}/${randomUUID()}.parquet` : `${this.tableKey}/data/${randomUUID()}.parquet`;
      const parquet = Buffer.from(this.parquet(group));
      await this.o.objects.put(this.o.bucket, dataKey, parquet);
      files.push({ path: `s3://${this.o.bucket}/${dataKey}`, size: parquet.length, count: group.length, hour: value });
    }
    const addedSize = files.reduce((sum, f) => sum + f.size, 0);

    const manifestKey = `${this.tableKey}/metadata/${randomUUID()}-m0.avro`;
    const manifest = await avroFile(
      manifestEntrySchema(hour ? [{ name: hour.name, fieldId: PARTITION_ID, type: 'int' }] : []),
      files.map((f) => ({
        status: 1,
        snapshot_id: id,
        sequence_number: null,
        file_sequence_number: null,
        data_file: {
          content: 0,
          file_path: f.path,
          file_format: 'PARQUET',
          partition: hour ? { [hour.name]: f.hour ?? null } : {},
          record_count: f.count,
          file_size_in_bytes: f.size,
          key_metadata: null,
          split_offsets: null,
          sort_order_id: 0,
        },
      })),
      {
        schema: JSON.stringify(this.schema()),
        'schema-id': '0',
        'partition-spec': JSON.stringify(this.specFields()),
        'partition-spec-id': '0',
        'format-version': '2',
        content: 'data',
      },
    );
    await this.o.objects.put(this.o.bucket, manifestKey, manifest);

    const carried = parent ? await readAvroFile((await this.o.objects.get(this.o.bucket, this.keyOf(parent['manifest-list'])))!) : [];
    const listKey = `${this.tableKey}/metadata/snap-${id}-1-${randomUUID()}.avro`;
    const list = await avroFile(
      MANIFEST_FILE_SCHEMA,
      [
        {
          manifest_path: `s3://${this.o.bucket}/${manifestKey}`,
          manifest_length: manifest.length,
          partition_spec_id: 0,
          content: 0,
          sequence_number: sequence,
          min_sequence_number: sequence,
          added_snapshot_id: id,
          added_files_count: files.length,
          existing_files_count: 0,
          deleted_files_count: 0,
          added_rows_count: rows.length,
          existing_rows_count: 0,
          deleted_rows_count: 0,
          partitions: hour ? [hourSummary(files.map((f) => f.hour))] : [],
          key_metadata: null,
        },
        ...carried,
      ],
      {
        'snapshot-id': String(id),
        ...(parent ? { 'parent-snapshot-id': String(parent['snapshot-id']) } : {}),
        'sequence-number': String(sequence),
        'format-version': '2',
      },
    );
    await this.o.objects.put(this.o.bucket, listKey, list);

    const before = parent?.summary ?? {};
    const total = (k: string, add: number) => String(Number(before[k] ?? 0) + add);
    const snapshot: Snapshot = {
      'snapshot-id': id,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequence,
      'timestamp-ms': now,
      'manifest-list': `s3://${this.o.bucket}/${listKey}`,
      summary: {
        ...extra,
        operation: 'append',
        'added-data-files': String(files.length),
        'added-records': String(rows.length),
        'added-files-size': String(addedSize),
        'changed-partition-count': String(files.length),
        'total-data-files': total('total-data-files', files.length),
        'total-records': total('total-records', rows.length),
        'total-files-size': total('total-files-size', addedSize),
        'total-delete-files': '0',
        'total-position-deletes': '0',
        'total-equality-deletes': '0',
      },
      'schema-id': 0,
    };
    return {
      ...metadata,
      'last-sequence-number': sequence,
      'last-updated-ms': now,
      'current-snapshot-id': id,
      refs: { main: { 'snapshot-id': id, type: 'branch' } },
      snapshots: [...metadata.snapshots, snapshot],
      'snapshot-log': [...metadata['snapshot-log'], { 'timestamp-ms': now, 'snapshot-id': id }],
      'metadata-log': [...metadata['metadata-log'], { 'timestamp-ms': metadata['last-updated-ms'], 'metadata-file': pointer.location }],
    };
  }

  /** The Parquet bytes of `rows`: every column carries its Iceberg field id, the footer the schema. */
  parquet(rows: readonly IcebergRow[]): Uint8Array {
    const schema: SchemaElement[] = [{ name: 'table', num_children: this.o.fields.length }];
    for (const f of this.o.fields) {
      const base = { name: f.name, repetition_type: f.required ? 'REQUIRED' : 'OPTIONAL', field_id: f.id } as const;
      if (f.type === 'string') schema.push({ ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } });
      else if (f.type === 'long') schema.push({ ...base, type: 'INT64' });
      else schema.push({ ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } });
    }
    const columnData = this.o.fields.map((f) => {
      const data = rows.map((r) => {
        const v = r[f.name] ?? null;
        return f.type === 'long' && typeof v === 'number' ? BigInt(v) : v;
      });
      return { name: f.name, data: data as never };
    });
    return new Uint8Array(
      parquetWriteBuffer({
        columnData,
        schema,
        codec: this.o.compression,
        kvMetadata: [{ key: 'iceberg.schema', value: JSON.stringify(this.schema()) }],
        createdBy: 'tributary',
      }),
    );
  }
}

/** A manifest list's summary of an int partition field: null seen, bounds as 4-byte little-endian. */
function hourSummary(values: readonly (number | undefined)[]): object {
  const present = values.filter((v): v is number => v !== undefined);
  const int = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return b;
  };
  return {
    contains_null: present.length < values.length,
    contains_nan: null,
    lower_bound: present.length ? int(Math.min(...present)) : null,
    upper_bound: present.length ? int(Math.max(...present)) : null,
  };
}
