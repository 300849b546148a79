import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ARN_PATTERN,
  arnOf,
  drain,
  expectError,
  getIterator,
  lengthAtLeast,
  lengthAtMost,
  NAME_PATTERN,
  readShard,
  shardId,
  shardNotFound,
  streamNotFound,
  texts,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DELETE_MS = 1000;

describe('DeleteStream', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ deleteStreamDelayMs: DELETE_MS }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const create = (name: string, shards = 1) => client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  const put = (name: string, data: string) =>
    client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'k', Data: Buffer.from(data) }));
  const names = async () => (await client.send(new ListStreamsCommand({}))).StreamNames!;

  it('answers with an empty body; the stream is DELETING, then gone', async () => {
    await create('ds-life', 2);
    const iterator = await getIterator(client, 'ds-life', shardId(0), 'TRIM_HORIZON');
    const out = await client.send(new DeleteStreamCommand({ StreamName: 'ds-life' }));
    assert.deepEqual(Object.keys(out).filter((k) => k !== '$metadata'), []);

    const deleting = (await client.send(new DescribeStreamCommand({ StreamName: 'ds-life' }))).StreamDescription!;
    assert.equal(deleting.StreamStatus, 'DELETING');
    assert.deepEqual(deleting.Shards, [], 'a DELETING stream lists no shards');
    assert.ok((await names()).includes('ds-life'));
    await expectError(put('ds-life', 'x'), 'ResourceNotFoundException', streamNotFound('ds-life'));

    clock.advance(DELETE_MS);
    await expectError(client.send(new DescribeStreamCommand({ StreamName: 'ds-life' })), 'ResourceNotFoundException', streamNotFound('ds-life'));
    await expectError(client.send(new DescribeStreamSummaryCommand({ StreamName: 'ds-life' })), 'ResourceNotFoundException', streamNotFound('ds-life'));
    await expectError(put('ds-life', 'x'), 'ResourceNotFoundException', streamNotFound('ds-life'));
    await expectError(
      client.send(new GetRecordsCommand({ ShardIterator: iterator })),
      'ResourceNotFoundException',
      shardNotFound('ds-life', shardId(0)),
    );
    assert.ok(!(await names()).includes('ds-life'));
  });

  it('deletes by StreamARN, and by StreamName and StreamARN together', async () => {
    await create('ds-arn');
    await client.send(new DeleteStreamCommand({ StreamARN: arnOf('ds-arn') }));
    await create('ds-both');
    await client.send(new DeleteStreamCommand({ StreamARN: arnOf('ds-both'), StreamName: 'ds-both' }));
    clock.advance(DELETE_MS);
    for (const name of ['ds-arn', 'ds-both']) {
      await expectError(client.send(new DescribeStreamSummaryCommand({ StreamName: name })), 'ResourceNotFoundException');
    }
  });

  it('refuses a mismatching StreamName and StreamARN without deleting either', async () => {
    await create('ds-keep-a');
    await create('ds-keep-b');
    await expectError(
      client.send(new DeleteStreamCommand({ StreamARN: arnOf('ds-keep-a'), StreamName: 'ds-keep-b' })),
      'InvalidArgumentException',
      `StreamARN ${arnOf('ds-keep-a')} and StreamName ds-keep-b do not refer to the same stream.`,
    );
    clock.advance(DELETE_MS);
    for (const name of ['ds-keep-a', 'ds-keep-b']) {
      const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      assert.equal(s.StreamDescriptionSummary!.StreamStatus, 'ACTIVE');
    }
  });

  it('refuses a stream that does not exist with ResourceNotFoundException', async () => {
    await expectError(client.send(new DeleteStreamCommand({ StreamName: 'ds-missing' })), 'ResourceNotFoundException', streamNotFound('ds-missing'));
    await expectError(
      client.send(new DeleteStreamCommand({ StreamARN: arnOf('ds-missing') })),
      'ResourceNotFoundException',
      streamNotFound('ds-missing'),
    );
  });

  it('lets a name be used again once the stream is gone; the new stream has none of the old records', async () => {
    await create('ds-again', 1);
    const first = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'ds-again' }))).StreamDescriptionSummary!;
    for (const s of ['old-1', 'old-2', 'old-3']) await put('ds-again', s);
    assert.deepEqual(texts(await readShard(client, 'ds-again', shardId(0))), ['old-1', 'old-2', 'old-3']);

    await client.send(new DeleteStreamCommand({ StreamName: 'ds-again' }));
    await expectError(create('ds-again', 2), 'ResourceInUseException', 'Stream ds-again under account 000000000000 already exists.');
    clock.advance(DELETE_MS);
    clock.advance(1000);
    await create('ds-again', 2);

    const second = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'ds-again' }))).StreamDescriptionSummary!;
    assert.equal(second.OpenShardCount, 2);
    assert.ok(second.StreamCreationTimestamp!.getTime() > first.StreamCreationTimestamp!.getTime());
    for (const shard of [shardId(0), shardId(1)]) {
      assert.deepEqual(await readShard(client, 'ds-again', shard), [], `${shard} of the new stream is empty`);
    }
    const at = await getIterator(client, 'ds-again', shardId(0), 'AT_TIMESTAMP', { Timestamp: first.StreamCreationTimestamp });
    assert.deepEqual((await drain(client, at)).records, []);
    await put('ds-again', 'new');
    const all = [...(await readShard(client, 'ds-again', shardId(0))), ...(await readShard(client, 'ds-again', shardId(1)))];
    assert.deepEqual(texts(all), ['new']);
  });

  it('deletes a stream that is still being created', async () => {
    const slow = await startTestServer({ createStreamDelayMs: 5000, deleteStreamDelayMs: DELETE_MS }, { clock });
    try {
      const c = slow.client();
      await c.send(new CreateStreamCommand({ StreamName: 'ds-creating', ShardCount: 1 }));
      const creating = await c.send(new DescribeStreamSummaryCommand({ StreamName: 'ds-creating' }));
      assert.equal(creating.StreamDescriptionSummary!.StreamStatus, 'CREATING');
      await c.send(new DeleteStreamCommand({ StreamName: 'ds-creating' }));
      const deleting = await c.send(new DescribeStreamCommand({ StreamName: 'ds-creating' }));
      assert.equal(deleting.StreamDescription!.StreamStatus, 'DELETING');
      assert.deepEqual(deleting.StreamDescription!.Shards, []);
      clock.advance(DELETE_MS);
      await expectError(c.send(new DescribeStreamCommand({ StreamName: 'ds-creating' })), 'ResourceNotFoundException');
    } finally {
      await slow.destroy();
    }
  });

  it('validates its input with AWS messages', async () => {
    const long = 'd'.repeat(129);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ StreamName: '' }, validationMessage(violation('', 'streamName', NAME_PATTERN), violation('', 'streamName', lengthAtLeast(1)))],
      [{ StreamName: long }, validationMessage(violation(long, 'streamName', lengthAtMost(128)))],
      [{ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:table/x' }, validationMessage(violation('arn:aws:kinesis:us-east-1:000000000000:table/x', 'streamARN', ARN_PATTERN))],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new DeleteStreamCommand(input as never)), 'ValidationException', message);
    }
    await expectError(client.send(new DeleteStreamCommand({})), 'InvalidArgumentException', 'Either StreamName or StreamARN must be provided.');
  });
});
