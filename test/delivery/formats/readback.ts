/** Reads Parquet bytes back with two independent readers: DuckDB and hyparquet. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';

export interface DuckRead {
  /** Column name → DuckDB's type, as `describe` prints it. */
  types: Record<string, string>;
  rows: Record<string, unknown>[];
}

export class ParquetReadback {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'tributary-parquet-'));
  private files = 0;
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(): Promise<ParquetReadback> {
    const instance = await DuckDBInstance.create(':memory:');
    return new ParquetReadback(instance, await instance.connect());
  }

  file(bytes: Uint8Array): string {
    const file = path.join(this.dir, `f${this.files++}.parquet`);
    writeFileSync(file, bytes);
    return file;
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /** `select * from read_parquet(file)` with DuckDB's JSON-friendly values. */
  async duck(bytes: Uint8Array): Promise<DuckRead> {
    const file = this.file(bytes);
    const described = await this.query(`describe select * from read_parquet('${file}')`);
    const types: Record<string, string> = {};
    for (const d of described) types[d.column_name as string] = d.column_type as string;
    return { types, rows: await this.query(`select * from read_parquet('${file}')`) };
  }

  async metadata(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
    return this.query(`select * from parquet_metadata('${this.file(bytes)}')`);
  }

  async schema(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
    return this.query(`select * from parquet_schema('${this.file(bytes)}')`);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** hyparquet's rows; GZIP pages are inflated with node:zlib. */
export async function hyparquetRows(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({
    file: arrayBuffer(bytes),
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) },
  });
}

export function hyparquetMetadata(bytes: Uint8Array) {
  return parquetMetadata(arrayBuffer(bytes));
}
