/**
 * Lambda data transformation (spec firehose.md §6.1) with the functions of --lambda-functions: an
 * ES module that upper-cases records, drops some, fails some and sets partition keys; functions
 * that throw or answer in the wrong shape; a function URL on 127.0.0.1; and an ARN nothing maps.
 * Objects land under `!{partitionKeyFromLambda:…}` prefixes and failures under processing-failed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateDeliveryStreamCommand, PutRecordBatchCommand, type FirehoseClient, type Processor } from '@aws-sdk/client-firehose';
import { ManualClock } from '../../../src/util/clock.js';
import { removeDir, tempDir } from '../../helpers/server.js';
import { ROLE, readBucket, startFirehoseServer, waitFor, type FirehoseTestServer } from './helpers.js';

const ACCOUNT = '000000000000';
const arn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** The module function: `{n, tenant, action}` records; action drop, fail, or (else) upper-case. */
const TRANSFORM = `
export const seen = [];
export default async function (event, context) {
  seen.push({ event, functionName: context.functionName, invokedFunctionArn: context.invokedFunctionArn });
  return {
    records: event.records.map((r) => {
      const text = Buffer.from(r.data, 'base64').toString('utf8');
      const record = JSON.parse(text);
      if (record.action === 'drop') return { recordId: r.recordId, result: 'Dropped', data: r.data };
      if (record.action === 'fail') return { recordId: r.recordId, result: 'ProcessingFailed', data: r.data };
      return {
        recordId: r.recordId,
        result: 'Ok',
        data: Buffer.from(text.toUpperCase()).toString('base64'),
        metadata: { partitionKeys: { tenant: record.tenant } },
      };
    }),
  };
}
`;

const THROWER = `
export let calls = 0;
export const handler = async () => {
  calls++;
  throw new Error('the function broke');
};
`;

/** Answers the wrong shape, and for the others leaves out the first record and repeats the second. */
const MISSHAPEN = `
export default async (event) => {
  if (event.records.length === 1) return { hello: 'world' };
  const [, second, ...rest] = event.records;
  const ok = (r) => ({ recordId: r.recordId, result: 'Ok', data: r.data });
  return { records: [ok(second), ok(second), ...rest.map(ok)] };
};
`;

function lambdaProcessor(lambdaArn: string, extra: Record<string, string> = {}): Processor {
  const parameters = { LambdaArn: lambdaArn, BufferSizeInMBs: '1', BufferIntervalInSeconds: '60', RoleArn: ROLE, ...extra };
  return { Type: 'Lambda', Parameters: Object.entries(parameters).map(([ParameterName, ParameterValue]) => ({ ParameterName: ParameterName as never, ParameterValue })) };
}

interface ErrorRecord {
  attemptsMade: number;
  arrivalTimestamp: number;
  errorCode: string;
  errorMessage: string;
  attemptEndingTimestamp: number;
  rawData: string;
  lambdaARN: string;
}

describe('Firehose Lambda data transformation', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  let s3: S3Client;
  let http: Server;
  let dir: string;
  const httpEvents: { records: { recordId: string; data: string; approximateArrivalTimestamp: number }[]; deliveryStreamArn: string; region: string }[] = [];
  const clock = new ManualClock(Date.UTC(2026, 5, 2, 8, 0, 0));

  before(async () => {
    dir = tempDir('tributary-lambda-');
    writeFileSync(path.join(dir, 'transform.mjs'), TRANSFORM);
    writeFileSync(path.join(dir, 'thrower.mjs'), THROWER);
    writeFileSync(path.join(dir, 'misshapen.mjs'), MISSHAPEN);
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const event = JSON.parse(Buffer.concat(chunks).toString()) as (typeof httpEvents)[number];
        httpEvents.push(event);
        if (req.url === '/broken') {
          res.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
          return;
        }
        const records = event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: Buffer.from(`[${Buffer.from(r.data, 'base64').toString()}]\n`).toString('base64') }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ records }));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as { port: number }).port;
    const functions = [
      `${arn('transform')}=${path.join(dir, 'transform.mjs')}`,
      `thrower=${path.join(dir, 'thrower.mjs')}`,
      `misshapen=${path.join(dir, 'misshapen.mjs')}`,
      `${arn('by-url')}=http://127.0.0.1:${port}/transform`,
      `${arn('broken-url')}=http://127.0.0.1:${port}/broken`,
    ].join(',');
    server = await startFirehoseServer({ lambdaFunctions: functions }, { clock });
    firehose = server.firehose();
    s3 = server.s3Client();
  });
  after(async () => {
    await server.destroy();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    removeDir(dir);
  });

  async function createStream(name: string, bucket: string, processors: Processor[], partitioned = false): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: name,
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE,
          BucketARN: `arn:aws:s3:::${bucket}`,
          Prefix: partitioned ? 'tenant=!{partitionKeyFromLambda:tenant}/day=!{timestamp:yyyy-MM-dd}/' : 'data/',
          ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/',
          BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
          ...(partitioned ? { DynamicPartitioningConfiguration: { Enabled: true } } : {}),
          ProcessingConfiguration: { Enabled: true, Processors: processors },
        },
      }),
    );
  }

  async function errorRecords(bucket: string, count: number): Promise<{ key: string; record: ErrorRecord }[]> {
    return waitFor(async () => {
      const objects = await readBucket(s3, bucket, 'errors/');
      const lines = objects.flatMap((o) => o.body.toString().trim().split('\n').map((l) => ({ key: o.key, record: JSON.parse(l) as ErrorRecord })));
      return lines.length >= count ? lines : undefined;
    }, `${count} error records in ${bucket}`);
  }

  const decoded = (r: ErrorRecord) => Buffer.from(r.rawData, 'base64').toString();

  it('delivers what the module function returns, under its partition keys, and fails what it fails', async () => {
    await createStream('transformed', 'transformed', [lambdaProcessor(arn('transform')), { Type: 'AppendDelimiterToRecord', Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }] }], true);
    const records = Array.from({ length: 12 }, (_, n) => ({
      n,
      tenant: n % 3 === 0 ? 'alpha' : 'beta',
      action: n % 4 === 1 ? 'drop' : n % 4 === 3 ? 'fail' : 'keep',
    }));
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'transformed', Records: records.map((r) => ({ Data: Buffer.from(JSON.stringify(r)) })) }));
    clock.advance(60_000);
    const objects = await waitFor(async () => {
      const all = await readBucket(s3, 'transformed');
      return all.filter((o) => o.key.startsWith('tenant=')).length >= 2 && all.some((o) => o.key.startsWith('errors/')) ? all : undefined;
    }, 'the transformed objects and the error object');
    const delivered = objects.filter((o) => o.key.startsWith('tenant='));
    const byTenant = new Map<string, string[]>();
    for (const o of delivered) {
      assert.match(o.key, /^tenant=(alpha|beta)\/day=2026-06-02\/transformed-1-2026-06-02-08-01-00-[0-9a-f-]{36}$/);
      byTenant.set(o.key.slice(0, o.key.indexOf('/') + 1), o.body.toString().trim().split('\n'));
    }
    const kept = records.filter((r) => r.action === 'keep');
    assert.deepEqual(Object.fromEntries(byTenant), {
      'tenant=alpha/': kept.filter((r) => r.tenant === 'alpha').map((r) => JSON.stringify(r).toUpperCase()),
      'tenant=beta/': kept.filter((r) => r.tenant === 'beta').map((r) => JSON.stringify(r).toUpperCase()),
    });
    const failures = await errorRecords('transformed', 3);
    for (const { key, record } of failures) {
      assert.match(key, /^errors\/processing-failed\/2026\/06\/02\/08\//);
      assert.equal(record.errorCode, 'Lambda.ProcessingFailedStatus');
      assert.equal(record.errorMessage, 'ProcessingFailed status set for record');
      assert.equal(record.lambdaARN, arn('transform'));
      assert.equal(record.attemptsMade, 1);
      assert.equal(record.arrivalTimestamp, Date.UTC(2026, 5, 2, 8, 0, 0));
      assert.equal(typeof record.attemptEndingTimestamp, 'number');
    }
    assert.deepEqual(
      failures.map((f) => (JSON.parse(decoded(f.record)) as { n: number }).n).sort((a, b) => a - b),
      [3, 7, 11],
    );
    // The event is Firehose's, the data as put (before the delimiter is appended).
    const { seen } = (await import(pathToFileURL(path.join(dir, 'transform.mjs')).href)) as {
      seen: { event: { invocationId: string; deliveryStreamArn: string; region: string; records: { recordId: string; approximateArrivalTimestamp: number; data: string }[] }; functionName: string; invokedFunctionArn: string }[];
    };
    assert.equal(seen.length, 1);
    const { event } = seen[0]!;
    assert.deepEqual(Object.keys(event), ['invocationId', 'deliveryStreamArn', 'region', 'records']);
    assert.match(event.invocationId, /^[0-9a-f-]{36}$/);
    assert.equal(event.deliveryStreamArn, `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/transformed`);
    assert.equal(event.region, 'us-east-1');
    assert.equal(event.records.length, 12);
    assert.deepEqual(Object.keys(event.records[0]!), ['recordId', 'approximateArrivalTimestamp', 'data']);
    assert.equal(new Set(event.records.map((r) => r.recordId)).size, 12);
    assert.equal(Buffer.from(event.records[5]!.data, 'base64').toString(), JSON.stringify(records[5]));
    assert.equal(event.records[0]!.approximateArrivalTimestamp, Date.UTC(2026, 5, 2, 8, 0, 0));
    assert.equal(seen[0]!.functionName, 'transform');
    assert.equal(seen[0]!.invokedFunctionArn, arn('transform'));
  });

  it('retries a function that throws NumberOfRetries times, then fails its records with Lambda.FunctionError', async () => {
    await createStream('throwing', 'throwing', [lambdaProcessor(arn('thrower'), { NumberOfRetries: '2' })]);
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'throwing', Records: [{ Data: Buffer.from('one') }, { Data: Buffer.from('two') }] }));
    clock.advance(60_000);
    const failures = await errorRecords('throwing', 2);
    assert.deepEqual(failures.map((f) => decoded(f.record)).sort(), ['one', 'two']);
    for (const { record } of failures) {
      assert.equal(record.errorCode, 'Lambda.FunctionError');
      assert.equal(record.errorMessage, 'The Lambda function was successfully invoked but it returned an error result.');
      assert.equal(record.attemptsMade, 3);
      assert.equal(record.lambdaARN, arn('thrower'));
    }
    const { calls } = (await import(pathToFileURL(path.join(dir, 'thrower.mjs')).href)) as { calls: number };
    assert.equal(calls, 3);
    assert.deepEqual(await readBucket(s3, 'throwing', 'data/'), []);
  });

  it('fails the records of a reply in the wrong shape, missing or repeating record ids', async () => {
    await createStream('misshapen', 'misshapen', [lambdaProcessor(arn('misshapen'))]);
    // One batch of three (missing, duplicated, fine), then a single record answered {hello}.
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'misshapen', Records: [{ Data: Buffer.from('first') }, { Data: Buffer.from('second') }, { Data: Buffer.from('third') }] }));
    clock.advance(60_000);
    const data = await waitFor(async () => {
      const objects = await readBucket(s3, 'misshapen', 'data/');
      return objects.length > 0 ? objects : undefined;
    }, 'the one record delivered');
    assert.deepEqual(data.map((o) => o.body.toString()), ['third']);
    const failures = await errorRecords('misshapen', 2);
    const byData = Object.fromEntries(failures.map((f) => [decoded(f.record), f.record]));
    assert.equal(byData.first?.errorCode, 'Lambda.MissingRecordId');
    assert.equal(byData.first?.errorMessage, 'One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.');
    assert.equal(byData.second?.errorCode, 'Lambda.DuplicatedRecordId');
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'misshapen', Records: [{ Data: Buffer.from('alone') }] }));
    clock.advance(60_000);
    const more = await errorRecords('misshapen', 3);
    const alone = more.find((f) => decoded(f.record) === 'alone')!.record;
    assert.equal(alone.errorCode, 'Lambda.JsonProcessingException');
    assert.equal(alone.attemptsMade, 1);
    assert.equal(alone.lambdaARN, arn('misshapen'));
  });

  it('invokes a function URL by POSTing the event, and fails the records of one that answers 502', async () => {
    await createStream('by-url', 'by-url', [lambdaProcessor(arn('by-url'))]);
    await createStream('broken-url', 'broken-url', [lambdaProcessor(arn('broken-url'), { NumberOfRetries: '0' })]);
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'by-url', Records: [{ Data: Buffer.from('a') }, { Data: Buffer.from('b') }] }));
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'broken-url', Records: [{ Data: Buffer.from('c') }] }));
    clock.advance(60_000);
    const objects = await waitFor(async () => {
      const all = await readBucket(s3, 'by-url', 'data/');
      return all.length > 0 ? all : undefined;
    }, 'the object the function URL transformed');
    assert.equal(objects.map((o) => o.body.toString()).join(''), '[a]\n[b]\n');
    const event = httpEvents.find((e) => e.deliveryStreamArn.endsWith('/by-url'))!;
    assert.deepEqual(event.records.map((r) => Buffer.from(r.data, 'base64').toString()), ['a', 'b']);
    const [failure] = await errorRecords('broken-url', 1);
    assert.equal(failure!.record.errorCode, 'Lambda.FunctionError');
    assert.equal(failure!.record.attemptsMade, 1);
    assert.equal(decoded(failure!.record), 'c');
    assert.equal(failure!.record.lambdaARN, arn('broken-url'));
  });

  it('fails the records of a function nothing maps with Lambda.ResourceNotFound', async () => {
    await createStream('unmapped', 'unmapped', [lambdaProcessor(arn('nowhere'), { NumberOfRetries: '0' })]);
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'unmapped', Records: [{ Data: Buffer.from('lost') }] }));
    clock.advance(60_000);
    const [failure] = await errorRecords('unmapped', 1);
    assert.match(failure!.key, /^errors\/processing-failed\//);
    assert.equal(failure!.record.errorCode, 'Lambda.ResourceNotFound');
    assert.equal(failure!.record.lambdaARN, arn('nowhere'));
    assert.equal(decoded(failure!.record), 'lost');
  });
});
