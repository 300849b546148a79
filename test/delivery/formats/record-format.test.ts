import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createRecordFormatConverter,
  type DataFormatConversionSettings,
  ENTITY_NOT_FOUND,
  formatConversionErrorRecord,
  type RecordFormatConverter,
} from '../../../src/delivery/formats/record-format.js';
import { parseSchemaCatalog } from '../../../src/delivery/formats/schema-catalog.js';
import { ParquetReadback } from './readback.js';

const CATALOG = parseSchemaCatalog(
  JSON.stringify({
    Tables: [
      {
        Table: {
          Name: 'events',
          DatabaseName: 'web',
          StorageDescriptor: {
            Columns: [
              { Name: 'user_id', Type: 'string' },
              { Name: 'amount', Type: 'decimal(8,2)' },
              { Name: 'at', Type: 'timestamp' },
              { Name: 'page_url', Type: 'string' },
              { Name: 'tags', Type: 'array<string>' },
            ],
          },
          PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        },
      },
    ],
  }),
  'test',
);

function config(overrides: Partial<DataFormatConversionSettings> = {}): DataFormatConversionSettings {
  return {
    Enabled: true,
    SchemaConfiguration: { DatabaseName: 'web', TableName: 'events', RoleARN: 'arn:aws:iam::123456789012:role/firehose' },
    InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { ConvertDotsInJsonKeysToUnderscores: true } } },
    OutputFormatConfiguration: { Serializer: { ParquetSerDe: {} } },
    ...overrides,
  };
}

function converter(settings = config()): RecordFormatConverter {
  const setup = createRecordFormatConverter(settings, CATALOG);
  if (!setup.ok) assert.fail(setup.message);
  return setup.converter;
}

let rb: ParquetReadback;
before(async () => {
  rb = await ParquetReadback.open();
});
after(() => rb.close());

describe('record format conversion of one buffer', () => {
  it('converts good records, concatenated objects included, and fails bad ones one by one', async () => {
    const records = [
      '{"USER_ID":"u1","amount":"12.5","at":1700000000,"page.url":"/a","tags":["x"]}',
      '{"user_id":"u2","amount":"lots"}',
      '{"user_id":"u3"}{"user_id":"u4","at":"2023-11-14 22:13:20.5"}',
      'not json',
      '',
      '{"user_id":"u5","unknown":{"deep":[1,2]}}',
    ].map((r) => Buffer.from(r));
    const result = await converter().convert(records);
    assert.equal(result.rowCount, 4);
    assert.equal(result.convertedRecords, 3);
    assert.deepEqual(result.failures, [
      { index: 1, errorCode: 'DataFormatConversion.MalformedData', errorMessage: 'Data does not match the schema. For input string: "lots"' },
      { index: 3, errorCode: 'DataFormatConversion.ParseError', errorMessage: 'Encountered malformed JSON.' },
      { index: 4, errorCode: 'DataFormatConversion.MalformedData', errorMessage: 'The record was empty or contained only whitespace.' },
    ]);
    assert.ok(result.body);
    const read = await rb.duck(result.body);
    assert.deepEqual(read.types, { user_id: 'VARCHAR', amount: 'DECIMAL(8,2)', at: 'TIMESTAMP', page_url: 'VARCHAR', tags: 'VARCHAR[]' });
    assert.deepEqual(read.rows, [
      { user_id: 'u1', amount: '12.50', at: '2023-11-14 22:13:20', page_url: '/a', tags: ['x'] },
      { user_id: 'u3', amount: null, at: null, page_url: null, tags: null },
      { user_id: 'u4', amount: null, at: '2023-11-14 22:13:20.5', page_url: null, tags: null },
      { user_id: 'u5', amount: null, at: null, page_url: null, tags: null },
    ]);
  });

  it('writes no file when every record fails', async () => {
    const result = await converter().convert([Buffer.from('[1]'), Buffer.from('{"amount":true}')]);
    assert.equal(result.body, undefined);
    assert.equal(result.rowCount, 0);
    assert.deepEqual(result.failures.map((f) => f.index), [0, 1]);
  });

  it('applies the Hive JSON SerDe when configured', async () => {
    const hive = converter(config({ InputFormatConfiguration: { Deserializer: { HiveJsonSerDe: { TimestampFormats: ['millis'] } } } }));
    const result = await hive.convert([Buffer.from('{"user_id":"u1","at":1700000000000}'), Buffer.from('{"amount":"1.00","at":"1"}')]);
    assert.equal(result.rowCount, 2);
    assert.deepEqual(result.failures, []);
    const strict = await hive.convert([Buffer.from('{"at":"tomorrow"}')]);
    assert.match(strict.failures[0]!.errorMessage, /^Data does not match the schema\. Expected a timestamp at 'at'/);
  });

  it('refuses ORC output with an InvalidArgumentException value', () => {
    const setup = createRecordFormatConverter(config({ OutputFormatConfiguration: { Serializer: { OrcSerDe: { Compression: 'ZLIB' } } } }), CATALOG);
    assert.deepEqual(setup, {
      ok: false,
      errorType: 'InvalidArgumentException',
      message: 'OrcSerDe is not supported by this server: only ParquetSerDe output is available.',
    });
  });

  it('says which table is missing and which settings are incomplete', () => {
    const missing = createRecordFormatConverter(config({ SchemaConfiguration: { DatabaseName: 'web', TableName: 'clicks' } }), CATALOG);
    assert.deepEqual(missing, { ok: false, errorType: ENTITY_NOT_FOUND, message: 'Table clicks in database web was not found in the schema file.' });
    const version = createRecordFormatConverter(config({ SchemaConfiguration: { DatabaseName: 'web', TableName: 'events', VersionId: '4' } }), CATALOG);
    assert.equal(!version.ok && version.message, 'Table events version 4 in database web was not found in the schema file.');
    for (const bad of [
      config({ InputFormatConfiguration: {} }),
      config({ OutputFormatConfiguration: { Serializer: {} } }),
      config({ SchemaConfiguration: { TableName: 'events' } }),
      config({ InputFormatConfiguration: { Deserializer: { HiveJsonSerDe: { TimestampFormats: ['yyyy-QQ'] } } } }),
    ]) {
      const setup = createRecordFormatConverter(bad, CATALOG);
      assert.equal(setup.ok, false);
      assert.equal(!setup.ok && setup.errorType, 'InvalidArgumentException');
    }
  });

  it('formats the error record written under format-conversion-failed', () => {
    const line = formatConversionErrorRecord({
      failure: { errorCode: 'DataFormatConversion.ParseError', errorMessage: 'Encountered malformed JSON.' },
      rawData: Buffer.from('not json'),
      arrivalTimestamp: 1_700_000_000_000,
      attemptEndingTimestamp: 1_700_000_060_000,
      schema: { DatabaseName: 'web', TableName: 'events' },
      region: 'us-east-1',
      accountId: '123456789012',
    });
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(JSON.parse(line), {
      attemptsMade: 1,
      arrivalTimestamp: 1_700_000_000_000,
      lastErrorCode: 'DataFormatConversion.ParseError',
      lastErrorMessage: 'Encountered malformed JSON.',
      attemptEndingTimestamp: 1_700_000_060_000,
      rawData: Buffer.from('not json').toString('base64'),
      dataCatalogTable: {
        catalogId: '123456789012',
        databaseName: 'web',
        tableName: 'events',
        region: 'us-east-1',
        versionId: 'LATEST',
        catalogArn: 'arn:aws:glue:us-east-1:123456789012:catalog',
      },
    });
  });
});
