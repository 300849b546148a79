/**
 * The Lambda processor on its own: invocations cut at BufferSizeInMBs of record data, the
 * parameters' defaults, retries, and each record's verdict from the reply.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LambdaInvokeError, LambdaProcessor, lambdaProcessorSettings, type LambdaEvent, type LambdaFunction } from '../../src/delivery/lambda.js';
import type { DeliveryRecord } from '../../src/delivery/records.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:f';

function records(count: number, size: number): DeliveryRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: `r${i}`, offset: i, data: Buffer.alloc(size, 97 + (i % 26)), arrival: 1_000 + i }));
}

function processor(fn: LambdaFunction | undefined, extra: Record<string, string> = {}): LambdaProcessor {
  const params: Record<string, string> = { LambdaArn: ARN, ...extra };
  return new LambdaProcessor({
    ...lambdaProcessorSettings((name) => params[name])!,
    functions: { resolve: (arn) => (arn === ARN ? fn : undefined) },
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/s',
    region: 'us-east-1',
  });
}

const echo = (events: LambdaEvent[]): LambdaFunction => ({
  async invoke(event) {
    events.push(event);
    return { records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })) };
  },
});

describe('the Lambda processor', () => {
  it('takes the documented defaults: 3 retries, 1 MB per invocation', () => {
    assert.deepEqual(lambdaProcessorSettings((name) => (name === 'LambdaArn' ? ARN : undefined)), { functionArn: ARN, numberOfRetries: 3, bufferBytes: 1024 * 1024 });
    const params: Record<string, string> = { LambdaArn: ARN, NumberOfRetries: '0', BufferSizeInMBs: '0.2' };
    assert.deepEqual(lambdaProcessorSettings((name) => params[name]), { functionArn: ARN, numberOfRetries: 0, bufferBytes: Math.round(0.2 * 1024 * 1024) });
    assert.equal(lambdaProcessorSettings(() => undefined), undefined);
  });

  it('cuts invocations at BufferSizeInMBs of record data, in order', async () => {
    const events: LambdaEvent[] = [];
    const out = await processor(echo(events)).process(records(10, 300 * 1024));
    // 1 MiB holds three records of 300 KiB.
    assert.deepEqual(events.map((e) => e.records.length), [3, 3, 3, 1]);
    assert.deepEqual(out.ok.map((r) => r.id), records(10, 1).map((r) => r.id));
    assert.deepEqual(out.failed, []);
    const small: LambdaEvent[] = [];
    await processor(echo(small), { BufferSizeInMBs: '3' }).process(records(10, 1000 * 1024));
    assert.deepEqual(small.map((e) => e.records.length), [3, 3, 3, 1]);
    for (const e of small) assert.ok(Buffer.byteLength(JSON.stringify(e)) <= 6 * 1024 * 1024);
  });

  it('sends one record bigger than the buffer on its own', async () => {
    const events: LambdaEvent[] = [];
    await processor(echo(events), { BufferSizeInMBs: '0.2' }).process(records(2, 500 * 1024));
    assert.deepEqual(events.map((e) => e.records.length), [1, 1]);
  });

  it('tries a failing function 1 + NumberOfRetries times and reports the attempts', async () => {
    let calls = 0;
    const out = await processor({ invoke: async () => { calls++; throw new Error('boom'); } }, { NumberOfRetries: '4' }).process(records(2, 10));
    assert.equal(calls, 5);
    assert.deepEqual(out.ok, []);
    assert.deepEqual(out.failed.map((f) => [f.errorCode, f.attemptsMade, f.lambdaArn, f.errorOutputType]), [
      ['Lambda.FunctionError', 5, ARN, 'processing-failed'],
      ['Lambda.FunctionError', 5, ARN, 'processing-failed'],
    ]);
  });

  it('succeeds on a retry after a failure', async () => {
    let calls = 0;
    const inner = echo([]);
    const out = await processor({ invoke: async (e, c) => { if (++calls === 1) throw new LambdaInvokeError('Lambda.FunctionError', 'x'); return inner.invoke(e, c); } }).process(records(2, 10));
    assert.equal(out.ok.length, 2);
    assert.equal(calls, 2);
  });

  it('judges each record of the reply', async () => {
    const fn: LambdaFunction = {
      async invoke(event) {
        const [a, b, c, d, e] = event.records;
        return {
          records: [
            { recordId: a!.recordId, result: 'Ok', data: Buffer.from('A').toString('base64'), metadata: { partitionKeys: { k: 'v', n: 7 } } },
            { recordId: b!.recordId, result: 'Dropped' },
            { recordId: c!.recordId, result: 'Maybe', data: c!.data },
            { recordId: d!.recordId, result: 'Ok', data: 'not base64!' },
            { recordId: e!.recordId, result: 'Ok' },
            { recordId: 'someone-else', result: 'Ok', data: '' },
          ],
        };
      },
    };
    const out = await processor(fn).process(records(5, 4));
    assert.deepEqual(out.ok.map((r) => [r.id, r.data.toString(), r.keysFromLambda]), [['r0', 'A', { k: 'v', n: '7' }]]);
    assert.deepEqual(out.failed.map((f) => [f.record.id, f.errorCode]), [
      ['r2', 'Lambda.JsonProcessingException'],
      ['r3', 'Lambda.JsonProcessingException'],
      ['r4', 'Lambda.JsonProcessingException'],
    ]);
  });

  it('fails every record of a reply that is not an object with records, without retrying', async () => {
    for (const reply of [null, 'text', [1], { records: 'no' }, {}]) {
      let calls = 0;
      const out = await processor({ invoke: async () => { calls++; return reply; } }).process(records(2, 4));
      assert.equal(calls, 1);
      assert.deepEqual(out.failed.map((f) => [f.errorCode, f.attemptsMade]), [
        ['Lambda.JsonProcessingException', 1],
        ['Lambda.JsonProcessingException', 1],
      ]);
    }
  });

  it("adds the source stream and each record's Kinesis metadata for a Kinesis source", async () => {
    const events: LambdaEvent[] = [];
    const settings = lambdaProcessorSettings((name) => (name === 'LambdaArn' ? ARN : undefined))!;
    const p = new LambdaProcessor({
      ...settings,
      functions: { resolve: () => echo(events) },
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/s',
      region: 'us-east-1',
      sourceKinesisStreamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/src',
    });
    const record: DeliveryRecord = {
      id: 'k0',
      offset: 0,
      data: Buffer.from('x'),
      arrival: 5_000,
      kinesis: { shardId: 'shardId-000000000001', partitionKey: 'pk', sequenceNumber: '4963', approximateArrivalTimestamp: 4_990 },
    };
    await p.process([record]);
    assert.deepEqual(events[0], {
      invocationId: events[0]!.invocationId,
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/s',
      sourceKinesisStreamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/src',
      region: 'us-east-1',
      records: [
        {
          recordId: 'k0',
          approximateArrivalTimestamp: 5_000,
          data: 'eA==',
          kinesisRecordMetadata: { shardId: 'shardId-000000000001', partitionKey: 'pk', approximateArrivalTimestamp: 4_990, sequenceNumber: '4963', subsequenceNumber: 0 },
        },
      ],
    });
    assert.deepEqual(Object.keys(events[0]!), ['invocationId', 'deliveryStreamArn', 'sourceKinesisStreamArn', 'region', 'records']);
  });

  it('fails the records of a function nothing maps as Lambda.ResourceNotFound', async () => {
    const out = await processor(undefined, { NumberOfRetries: '0' }).process(records(1, 4));
    assert.deepEqual(out.failed.map((f) => [f.errorCode, f.attemptsMade]), [['Lambda.ResourceNotFound', 1]]);
  });
});
