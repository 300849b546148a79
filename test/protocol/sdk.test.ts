import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { kinesisShapes } from '../../src/kinesis/shapes.js';
import { decodeInput, encodeError, encodeOutput, formatOf, validate, ResourceNotFoundException } from '../../src/protocol/index.js';

/**
 * The real JavaScript SDK, with its HTTP handler replaced by this codec: requests it serializes
 * are decoded and validated by our shapes, and our encoded responses are parsed by the SDK.
 */
function fakeKinesis(respond: (operation: string, input: Record<string, unknown>) => { status: number; body: Buffer }) {
  const seen: Array<{ operation: string; input: Record<string, unknown> }> = [];
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body: Uint8Array | string }) => {
        const format = formatOf(request.headers['content-type']);
        assert.equal(format, 'json');
        const operation = request.headers['x-amz-target']!.split('.')[1]!;
        const shape = kinesisShapes.get(operation)!;
        const input = decodeInput(Buffer.from(request.body), 'json', shape);
        validate(input, shape);
        seen.push({ operation, input });
        const { status, body } = respond(operation, input);
        return {
          response: { statusCode: status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body },
        };
      },
    },
  });
  return { client, seen };
}

describe('the AWS SDK for JavaScript v3 against this codec', () => {
  test('PutRecords: Uint8Array data arrives as Buffers', async () => {
    const { client, seen } = fakeKinesis(() => ({
      status: 200,
      body: encodeOutput({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 'shardId-000000000000' }] }, 'json'),
    }));
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: 'stream',
        Records: [{ Data: new Uint8Array([0, 1, 2, 255]), PartitionKey: 'pk', ExplicitHashKey: '42' }],
      }),
    );
    assert.equal(out.FailedRecordCount, 0);
    const records = seen[0]!.input.Records as Array<Record<string, unknown>>;
    assert.deepEqual(records[0], { Data: Buffer.from([0, 1, 2, 255]), PartitionKey: 'pk', ExplicitHashKey: '42' });
  });

  test('GetShardIterator: a Date arrives as the same instant', async () => {
    const { client, seen } = fakeKinesis(() => ({ status: 200, body: encodeOutput({ ShardIterator: 'it' }, 'json') }));
    const out = await client.send(
      new GetShardIteratorCommand({
        StreamName: 'stream',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: new Date(1459799926480),
      }),
    );
    assert.equal(out.ShardIterator, 'it');
    assert.equal((seen[0]!.input.Timestamp as Date).getTime(), 1459799926480);
  });

  test('ListShards with a ShardFilter', async () => {
    const { client, seen } = fakeKinesis(() => ({ status: 200, body: encodeOutput({ Shards: [] }, 'json') }));
    await client.send(new ListShardsCommand({ StreamName: 'stream', ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000001' } }));
    assert.deepEqual(seen[0]!.input, { StreamName: 'stream', ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000001' } });
  });

  test('GetRecords: the SDK reads our blobs and timestamps', async () => {
    const { client } = fakeKinesis(() => ({
      status: 200,
      body: encodeOutput(
        {
          Records: [
            { SequenceNumber: '7', ApproximateArrivalTimestamp: new Date(1700000000123), Data: Buffer.from('hello'), PartitionKey: 'p' },
          ],
          NextShardIterator: 'next',
          MillisBehindLatest: 5,
        },
        'json',
      ),
    }));
    const out = await client.send(new GetRecordsCommand({ ShardIterator: 'it' }));
    const record = out.Records![0]!;
    assert.equal(Buffer.from(record.Data!).toString(), 'hello');
    assert.equal(record.ApproximateArrivalTimestamp!.getTime(), 1700000000123);
    assert.equal(out.MillisBehindLatest, 5);
  });

  test('errors become the SDK’s typed exceptions with our message', async () => {
    const { client } = fakeKinesis(() => ({
      status: 400,
      body: encodeError(new ResourceNotFoundException('Stream nope under account 000000000000 not found.'), 'json'),
    }));
    await assert.rejects(client.send(new GetRecordsCommand({ ShardIterator: 'it' })), (err: Error) => {
      assert.equal(err.name, 'ResourceNotFoundException');
      assert.equal(err.message, 'Stream nope under account 000000000000 not found.');
      return true;
    });
  });
});
