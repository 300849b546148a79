/**
 * Record format conversion as the delivery pipeline calls it when
 * `DataFormatConversionConfiguration.Enabled` is true: one buffer's records in, one Parquet file
 * and the records that failed out.
 *
 *   const setup = createRecordFormatConverter(config, catalog);
 *   if (!setup.ok) → setup.errorType / setup.message (InvalidArgumentException for the API, or a
 *                    delivery-time DataFormatConversion.* code for every record of the buffer)
 *   const { body, failures } = await setup.converter.convert(records);
 *   body: the Parquet bytes (undefined when no record converted); failures: index into `records`
 *   with the code and message, ready for formatConversionErrorRecord().
 *
 * ORC output is refused: no maintained ORC writer for Node is installed.
 */
import { DeserializerConfigError, type DeserializerSettings, RecordDecoder, type Row } from './json-serde.js';
// The Parquet writer loads with the first conversion, not with the server.
import type { ParquetSerDeSettings } from './parquet.js';
import type { SchemaCatalog, TableSchema } from './schema-catalog.js';

export interface SchemaConfigurationSettings {
  readonly RoleARN?: string;
  readonly CatalogId?: string;
  readonly DatabaseName?: string;
  readonly TableName?: string;
  readonly Region?: string;
  readonly VersionId?: string;
}

/** Firehose's `DataFormatConversionConfiguration`. */
export interface DataFormatConversionSettings {
  readonly Enabled?: boolean;
  readonly SchemaConfiguration?: SchemaConfigurationSettings;
  readonly InputFormatConfiguration?: { readonly Deserializer?: DeserializerSettings };
  readonly OutputFormatConfiguration?: {
    readonly Serializer?: { readonly ParquetSerDe?: ParquetSerDeSettings; readonly OrcSerDe?: Readonly<Record<string, unknown>> };
  };
}

export interface ConversionFailure {
  /** Position of the record in the buffer handed to convert(). */
  readonly index: number;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface ConversionResult {
  /** The Parquet file, or undefined when no record converted. */
  readonly body: Uint8Array | undefined;
  readonly rowCount: number;
  readonly convertedRecords: number;
  readonly failures: readonly ConversionFailure[];
}

/** Delivery-time codes for a buffer whose every record fails because of the configuration. */
export const ENTITY_NOT_FOUND = 'DataFormatConversion.EntityNotFound';
export const INVALID_SCHEMA = 'DataFormatConversion.InvalidSchema';

export type ConverterSetup =
  | { readonly ok: true; readonly converter: RecordFormatConverter }
  | {
      readonly ok: false;
      /** `InvalidArgumentException` for configurations the API refuses; a DataFormatConversion.* code otherwise. */
      readonly errorType: string;
      readonly message: string;
    };

export class RecordFormatConverter {
  readonly table: TableSchema;
  private readonly decoder: RecordDecoder;
  private readonly parquet: ParquetSerDeSettings;

  constructor(table: TableSchema, decoder: RecordDecoder, parquet: ParquetSerDeSettings) {
    this.table = table;
    this.decoder = decoder;
    this.parquet = parquet;
  }

  async convert(records: readonly Uint8Array[]): Promise<ConversionResult> {
    const rows: Row[] = [];
    const failures: ConversionFailure[] = [];
    let inputBytes = 0;
    let converted = 0;
    for (let index = 0; index < records.length; index++) {
      const record = records[index]!;
      const result = this.decoder.decode(record);
      if (!result.ok) {
        failures.push({ index, errorCode: result.errorCode, errorMessage: result.errorMessage });
        continue;
      }
      converted++;
      inputBytes += record.byteLength;
      for (const row of result.rows) rows.push(row);
    }
    const { writeParquet } = await import('./parquet.js');
    const body = rows.length === 0 ? undefined : writeParquet({ columns: this.table.columns, rows, settings: this.parquet, inputBytes });
    return { body, rowCount: rows.length, convertedRecords: converted, failures };
  }
}

/** Checks the configuration against the catalog and builds the converter, or says why not. */
export function createRecordFormatConverter(config: DataFormatConversionSettings, catalog: SchemaCatalog): ConverterSetup {
  const serializer = config.OutputFormatConfiguration?.Serializer;
  if (serializer?.OrcSerDe !== undefined) {
    return {
      ok: false,
      errorType: 'InvalidArgumentException',
      message: 'OrcSerDe is not supported by this server: only ParquetSerDe output is available.',
    };
  }
  if (serializer?.ParquetSerDe === undefined) {
    return { ok: false, errorType: 'InvalidArgumentException', message: 'OutputFormatConfiguration.Serializer must set ParquetSerDe.' };
  }
  const deserializer = config.InputFormatConfiguration?.Deserializer;
  if (!deserializer || (deserializer.OpenXJsonSerDe === undefined && deserializer.HiveJsonSerDe === undefined)) {
    return { ok: false, errorType: 'InvalidArgumentException', message: 'InputFormatConfiguration.Deserializer must set OpenXJsonSerDe or HiveJsonSerDe.' };
  }
  const schema = config.SchemaConfiguration;
  if (!schema?.DatabaseName || !schema.TableName) {
    return { ok: false, errorType: 'InvalidArgumentException', message: 'SchemaConfiguration must name DatabaseName and TableName.' };
  }
  const table = catalog.lookup(schema.DatabaseName, schema.TableName, schema.VersionId);
  if (!table) {
    const version = schema.VersionId && schema.VersionId !== 'LATEST' ? ` version ${schema.VersionId}` : '';
    return {
      ok: false,
      errorType: ENTITY_NOT_FOUND,
      message: `Table ${schema.TableName}${version} in database ${schema.DatabaseName} was not found in the schema file.`,
    };
  }
  let decoder: RecordDecoder;
  try {
    decoder = new RecordDecoder(table.columns, deserializer);
  } catch (err) {
    if (err instanceof DeserializerConfigError) return { ok: false, errorType: 'InvalidArgumentException', message: err.message };
    throw err;
  }
  return { ok: true, converter: new RecordFormatConverter(table, decoder, serializer.ParquetSerDe) };
}

export interface ErrorRecordInput {
  readonly failure: Pick<ConversionFailure, 'errorCode' | 'errorMessage'>;
  readonly rawData: Uint8Array;
  /** Epoch milliseconds, from the injected clock. */
  readonly arrivalTimestamp: number;
  readonly attemptEndingTimestamp: number;
  readonly attemptsMade?: number;
  readonly sequenceNumber?: string;
  readonly subSequenceNumber?: number;
  readonly schema: SchemaConfigurationSettings;
  readonly region: string;
  readonly accountId: string;
}

/**
 * One line of the object written under `format-conversion-failed`: the fields Firehose writes
 * (attemptsMade, arrivalTimestamp, lastErrorCode, lastErrorMessage, attemptEndingTimestamp,
 * base64 rawData, sequenceNumber and subSequenceNumber when the source has them, and
 * dataCatalogTable), newline-terminated.
 */
export function formatConversionErrorRecord(input: ErrorRecordInput): string {
  const catalogId = input.schema.CatalogId ?? input.accountId;
  const region = input.schema.Region ?? input.region;
  const record: Record<string, unknown> = {
    attemptsMade: input.attemptsMade ?? 1,
    arrivalTimestamp: input.arrivalTimestamp,
    lastErrorCode: input.failure.errorCode,
    lastErrorMessage: input.failure.errorMessage,
    attemptEndingTimestamp: input.attemptEndingTimestamp,
    rawData: Buffer.from(input.rawData.buffer, input.rawData.byteOffset, input.rawData.byteLength).toString('base64'),
  };
  if (input.sequenceNumber !== undefined) record.sequenceNumber = input.sequenceNumber;
  if (input.subSequenceNumber !== undefined) record.subSequenceNumber = input.subSequenceNumber;
  record.dataCatalogTable = {
    catalogId,
    databaseName: input.schema.DatabaseName,
    tableName: input.schema.TableName,
    region,
    versionId: input.schema.VersionId ?? 'LATEST',
    catalogArn: `arn:aws:glue:${region}:${catalogId}:catalog`,
  };
  return `${JSON.stringify(record)}\n`;
}
