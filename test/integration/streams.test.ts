import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeLimitsCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  PutRecordCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ManualClock } from '../../src/util/clock.js';

async function rejects(p: Promise<unknown>, name: string, message?: string | RegExp) {
  await assert.rejects(p, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name);
    assert.equal(err.$metadata?.httpStatusCode, name === 'InternalFailureException' ? 500 : 400);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

describe('stream lifecycle', () => {
  let server: TestServer;
  let client: KinesisClient;
  // Statuses follow the injected clock: each step below is seen however slow the machine is.
  const clock = new ManualClock();
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 150, deleteStreamDelayMs: 150 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  it('goes CREATING, then ACTIVE with its shards; DELETING, then gone', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'life', ShardCount: 2 }));
    const creating = await client.send(new DescribeStreamCommand({ StreamName: 'life' }));
    assert.equal(creating.StreamDescription!.StreamStatus, 'CREATING');
    assert.deepEqual(creating.StreamDescription!.Shards, []);
    await rejects(
      client.send(new PutRecordCommand({ StreamName: 'life', PartitionKey: 'a', Data: Buffer.from('x') })),
      'ResourceNotFoundException',
      'Stream life under account 000000000000 not found.',
    );
    clock.advance(149);
    assert.equal((await client.send(new DescribeStreamSummaryCommand({ StreamName: 'life' }))).StreamDescriptionSummary!.StreamStatus, 'CREATING');
    clock.advance(1);
    const active = await client.send(new DescribeStreamCommand({ StreamName: 'life' }));
    const d = active.StreamDescription!;
    assert.equal(d.StreamStatus, 'ACTIVE');
    assert.equal(d.StreamARN, 'arn:aws:kinesis:us-east-1:000000000000:stream/life');
    assert.equal(d.Shards!.length, 2);
    assert.equal(d.Shards![0]!.ShardId, 'shardId-000000000000');
    assert.equal(d.Shards![1]!.HashKeyRange!.EndingHashKey, '340282366920938463463374607431768211455');
    assert.match(d.Shards![0]!.SequenceNumberRange!.StartingSequenceNumber!, /^\d{56}$/);
    assert.equal(d.Shards![0]!.SequenceNumberRange!.EndingSequenceNumber, undefined);
    assert.equal(d.HasMoreShards, false);
    assert.equal(d.RetentionPeriodHours, 24);
    assert.deepEqual(d.EnhancedMonitoring, [{ ShardLevelMetrics: [] }]);
    assert.equal(d.StreamModeDetails!.StreamMode, 'PROVISIONED');
    assert.ok(d.StreamCreationTimestamp instanceof Date);
    assert.ok(Math.abs(d.StreamCreationTimestamp.getTime() - Date.now()) < 10_000);

    const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamARN: d.StreamARN }))).StreamDescriptionSummary!;
    assert.equal(summary.OpenShardCount, 2);
    assert.equal(summary.StreamStatus, 'ACTIVE');
    assert.equal(summary.StreamId, undefined, 'StreamId is never returned');

    await rejects(
      client.send(new CreateStreamCommand({ StreamName: 'life', ShardCount: 1 })),
      'ResourceInUseException',
      'Stream life under account 000000000000 already exists.',
    );
    await client.send(new DeleteStreamCommand({ StreamName: 'life' }));
    const deleting = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'life' }));
    assert.equal(deleting.StreamDescriptionSummary!.StreamStatus, 'DELETING');
    clock.advance(149);
    assert.equal((await client.send(new DescribeStreamSummaryCommand({ StreamName: 'life' }))).StreamDescriptionSummary!.StreamStatus, 'DELETING');
    clock.advance(1);
    await rejects(client.send(new DescribeStreamCommand({ StreamName: 'life' })), 'ResourceNotFoundException');
  });

  it('creates ON_DEMAND streams with four shards', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    clock.advance(150);
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'od' }))).StreamDescriptionSummary!;
    assert.equal(s.StreamModeDetails!.StreamMode, 'ON_DEMAND');
    assert.equal(s.OpenShardCount, 4);
    const limits = await client.send(new DescribeLimitsCommand({}));
    assert.equal(limits.OnDemandStreamCount, 1);
    assert.ok(limits.OpenShardCount! >= 4);
    assert.equal(limits.ShardLimit, 200);
  });

  it('validates names and counts with AWS messages', async () => {
    await rejects(
      client.send(new CreateStreamCommand({ StreamName: 'bad name!', ShardCount: 0 })),
      'ValidationException',
      /^2 validation errors detected: /,
    );
    await rejects(
      client.send(new CreateStreamCommand({ StreamName: 'x'.repeat(129), ShardCount: 1 })),
      'ValidationException',
      `1 validation error detected: Value '${'x'.repeat(129)}' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128`,
    );
    await rejects(
      client.send(new CreateStreamCommand({ StreamName: 'too-many', ShardCount: 1000 })),
      'LimitExceededException',
      /shard limit/,
    );
    await rejects(client.send(new DescribeStreamCommand({ StreamName: 'nope' })), 'ResourceNotFoundException', 'Stream nope under account 000000000000 not found.');
  });

  it('lists streams in pages with NextToken and ExclusiveStartStreamName', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const n of names) await client.send(new CreateStreamCommand({ StreamName: n, ShardCount: 1 }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await client.send(new ListStreamsCommand(token ? { NextToken: token } : { Limit: 2 }));
      assert.ok(r.StreamNames!.length <= 2);
      assert.equal(r.StreamSummaries!.length, r.StreamNames!.length);
      seen.push(...r.StreamNames!);
      token = r.NextToken;
      assert.equal(r.HasMoreStreams, token !== undefined);
    } while (token);
    assert.deepEqual(seen.filter((n) => n.startsWith('page-')), names);
    assert.deepEqual([...seen].sort(), seen);
    const after = await client.send(new ListStreamsCommand({ ExclusiveStartStreamName: 'page-c', Limit: 2 }));
    assert.deepEqual(after.StreamNames, ['page-d', 'page-e']);
  });
});
