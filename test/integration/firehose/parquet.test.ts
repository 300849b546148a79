/**
 * Record format conversion through the API: JSON records put with @aws-sdk/client-firehose land
 * as Parquet objects that two independent readers (hyparquet and DuckDB's read_parquet) read back
 * as the input rows, with the Glue table's types; a record that is not JSON goes to the error
 * output as format-conversion-failed (spec: firehose.md §8).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { ManualClock } from '../../../src/util/clock.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { hyparquetRows, ParquetReadback } from '../../delivery/formats/readback.js';
import { ROLE, readBucket, rejection, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

const TABLE = {
  Table: {
    Name: 'orders',
    DatabaseName: 'shop',
    StorageDescriptor: {
      Columns: [
        { Name: 'id', Type: 'bigint' },
        { Name: 'customer', Type: 'string' },
        { Name: 'amount', Type: 'double' },
        { Name: 'paid', Type: 'boolean' },
        { Name: 'placed', Type: 'timestamp' },
        { Name: 'items', Type: 'array<string>' },
      ],
    },
  },
};

function order(i: number) {
  return {
    id: i,
    customer: `c-${i % 7}`,
    amount: i * 1.25,
    paid: i % 2 === 0,
    placed: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().replace('T', ' ').replace('Z', ''),
    items: Array.from({ length: i % 3 }, (_, j) => `sku-${j}`),
  };
}

function conversion(table = 'orders') {
  return {
    SchemaConfiguration: { RoleARN: ROLE, DatabaseName: 'shop', TableName: table },
    InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
    OutputFormatConfiguration: { Serializer: { ParquetSerDe: {} } },
  };
}

describe('Firehose record format conversion to Parquet', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;
  let readback: ParquetReadback;
  const dir = tempDir('tributary-schemas-');
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 9, 0, 0));
  before(async () => {
    const schemaFile = path.join(dir, 'tables.json');
    writeFileSync(schemaFile, JSON.stringify(TABLE));
    server = await startFirehoseServer({ schemaFile }, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
    readback = await ParquetReadback.open();
  });
  after(async () => {
    readback?.close();
    await server?.destroy();
    removeDir(dir);
  });

  it('writes Parquet that hyparquet and DuckDB read back as the input rows, and sends a record that is not JSON to the error output', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'orders',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: 'arn:aws:s3:::lake',
          Prefix: 'orders/',
          ErrorOutputPrefix: 'failed/!{firehose:error-output-type}/',
          BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
          DataFormatConversionConfiguration: conversion(),
        },
      }),
    );
    const orders = Array.from({ length: 300 }, (_, i) => order(i));
    const records = orders.map((o) => ({ Data: Buffer.from(JSON.stringify(o)) }));
    records.splice(100, 0, { Data: Buffer.from('not json at all') });
    for (let at = 0; at < records.length; at += 100) {
      const out = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'orders', Records: records.slice(at, at + 100) }));
      assert.equal(out.FailedPutCount, 0);
    }
    clock.advance(61_000);
    const objects = await waitFor(async () => {
      const all = await readBucket(s3, 'lake');
      return all.some((o) => o.key.startsWith('orders/')) && all.some((o) => o.key.startsWith('failed/')) ? all : undefined;
    }, 'the Parquet object and the error object');
    const parquet = objects.filter((o) => o.key.startsWith('orders/'));
    assert.equal(parquet.length, 1);
    assert.match(parquet[0]!.key, /^orders\/2026\/07\/01\/09\/orders-1-2026-07-01-09-01-01-[0-9a-f-]{36}\.parquet$/);
    assert.deepEqual([...parquet[0]!.body.subarray(0, 4)], [...Buffer.from('PAR1')]);

    const rows = await hyparquetRows(parquet[0]!.body);
    assert.equal(rows.length, 300);
    rows.forEach((row, i) => {
      const o = orders[i]!;
      assert.equal(row.id, BigInt(o.id));
      assert.equal(row.customer, o.customer);
      assert.equal(row.amount, o.amount);
      assert.equal(row.paid, o.paid);
      assert.deepEqual(row.placed, new Date(`${o.placed.replace(' ', 'T')}Z`));
      assert.deepEqual(row.items, o.items);
    });

    const duck = await readback.duck(parquet[0]!.body);
    assert.deepEqual(duck.types, { id: 'BIGINT', customer: 'VARCHAR', amount: 'DOUBLE', paid: 'BOOLEAN', placed: 'TIMESTAMP', items: 'VARCHAR[]' });
    const file = readback.file(parquet[0]!.body);
    const [sums] = await readback.query(`select count(*)::INT as n, sum(id)::BIGINT as ids, sum(amount) as amount, count(*) filter (where paid)::INT as paid from read_parquet('${file}')`);
    assert.deepEqual(sums, {
      n: 300,
      ids: String(orders.reduce((s, o) => s + o.id, 0)),
      amount: orders.reduce((s, o) => s + o.amount, 0),
      paid: 150,
    });

    const failed = objects.filter((o) => o.key.startsWith('failed/'));
    assert.equal(failed.length, 1);
    assert.match(failed[0]!.key, /^failed\/format-conversion-failed\//);
    const lines = failed[0]!.body.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    assert.equal(Buffer.from(String(lines[0]!.rawData), 'base64').toString(), 'not json at all');
    assert.equal(lines[0]!.lastErrorCode, 'DataFormatConversion.ParseError');
    assert.deepEqual((lines[0]!.dataCatalogTable as Record<string, unknown>).tableName, 'orders');
  });

  it('refuses what AWS refuses: small buffers and S3 compression with conversion; ORC output is not available', async () => {
    const create = (extra: Record<string, unknown>) =>
      rejection(() =>
        firehose.send(
          new CreateDeliveryStreamCommand({
            DeliveryStreamName: 'refused',
            ExtendedS3DestinationConfiguration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::lake', DataFormatConversionConfiguration: conversion(), ...extra },
          }),
        ),
      );
    const small = await create({ BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 60 } });
    assert.equal(small.name, 'InvalidArgumentException');
    const gzip = await create({ CompressionFormat: 'GZIP' });
    assert.equal(gzip.name, 'InvalidArgumentException');
    const orc = await create({
      DataFormatConversionConfiguration: { ...conversion(), OutputFormatConfiguration: { Serializer: { OrcSerDe: {} } } },
    });
    assert.equal(orc.name, 'InvalidArgumentException');
    assert.match(orc.message, /OrcSerDe/);
  });

  it('sends every record to the error output when the table is not in the schema file', async () => {
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'unknown-table',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: 'arn:aws:s3:::lake',
          Prefix: 'unknown/',
          ErrorOutputPrefix: 'unknown-failed/!{firehose:error-output-type}/',
          BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
          DataFormatConversionConfiguration: conversion('nowhere'),
        },
      }),
    );
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'unknown-table', Records: [0, 1, 2].map((i) => ({ Data: Buffer.from(JSON.stringify(order(i))) })) }));
    clock.advance(61_000);
    const failed = await waitFor(async () => {
      const got = await readBucket(s3, 'lake', 'unknown-failed/');
      return got.length > 0 ? got : undefined;
    }, 'the error object');
    assert.deepEqual(await readBucket(s3, 'lake', 'unknown/'), []);
    const lines = failed.flatMap((o) => o.body.toString().trimEnd().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    for (const l of lines) assert.equal(l.lastErrorCode, 'DataFormatConversion.EntityNotFound');
  });
});
