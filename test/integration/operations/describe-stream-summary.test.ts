import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type DescribeStreamSummaryCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ARN_PATTERN,
  arnOf,
  expectError,
  lengthAtLeast,
  lengthAtMost,
  NAME_PATTERN,
  streamNotFound,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DELAY_MS = 1000;

describe('DescribeStreamSummary', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: DELAY_MS, deleteStreamDelayMs: DELAY_MS }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const summary = async (input: DescribeStreamSummaryCommandInput) =>
    (await client.send(new DescribeStreamSummaryCommand(input))).StreamDescriptionSummary!;

  it('describes the stream without its shards, through CREATING, ACTIVE and DELETING', async () => {
    const createdAt = clock.now();
    await client.send(new CreateStreamCommand({ StreamName: 'dss', ShardCount: 3 }));
    const creating = await summary({ StreamName: 'dss' });
    assert.equal(creating.StreamStatus, 'CREATING');
    assert.equal(creating.OpenShardCount, 0);
    clock.advance(DELAY_MS);

    const s = await summary({ StreamName: 'dss' });
    assert.equal(s.StreamName, 'dss');
    assert.equal(s.StreamARN, arnOf('dss'));
    assert.equal(s.StreamStatus, 'ACTIVE');
    assert.deepEqual(s.StreamModeDetails, { StreamMode: 'PROVISIONED' });
    assert.equal(s.RetentionPeriodHours, 24);
    assert.equal(s.StreamCreationTimestamp!.getTime(), createdAt);
    assert.deepEqual(s.EnhancedMonitoring, [{ ShardLevelMetrics: [] }]);
    assert.equal(s.EncryptionType, 'NONE');
    assert.equal(s.KeyId, undefined);
    assert.equal(s.OpenShardCount, 3);
    assert.equal(s.ConsumerCount, 0);
    assert.equal(s.MaxRecordSizeInKiB, 1024);
    assert.equal(s.StreamId, undefined, 'StreamId is never returned');
    assert.ok(!('Shards' in s));

    await client.send(new DeleteStreamCommand({ StreamName: 'dss' }));
    assert.equal((await summary({ StreamName: 'dss' })).StreamStatus, 'DELETING');
    clock.advance(DELAY_MS);
    await expectError(client.send(new DescribeStreamSummaryCommand({ StreamName: 'dss' })), 'ResourceNotFoundException', streamNotFound('dss'));
  });

  it('describes an ON_DEMAND stream', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'dss-od', StreamModeDetails: { StreamMode: 'ON_DEMAND' }, MaxRecordSizeInKiB: 10240 }));
    clock.advance(DELAY_MS);
    const s = await summary({ StreamName: 'dss-od' });
    assert.deepEqual(s.StreamModeDetails, { StreamMode: 'ON_DEMAND' });
    assert.equal(s.OpenShardCount, 4);
    assert.equal(s.MaxRecordSizeInKiB, 10240);
    assert.equal(s.StreamId, undefined);
  });

  it('accepts StreamARN instead of, or together with, StreamName; refuses a mismatching pair', async () => {
    assert.equal((await summary({ StreamARN: arnOf('dss-od') })).StreamName, 'dss-od');
    assert.equal((await summary({ StreamARN: arnOf('dss-od'), StreamName: 'dss-od' })).StreamName, 'dss-od');
    await expectError(
      client.send(new DescribeStreamSummaryCommand({ StreamARN: arnOf('dss-od'), StreamName: 'dss' })),
      'InvalidArgumentException',
      `StreamARN ${arnOf('dss-od')} and StreamName dss do not refer to the same stream.`,
    );
  });

  it('refuses a stream that does not exist with ResourceNotFoundException', async () => {
    await expectError(client.send(new DescribeStreamSummaryCommand({ StreamName: 'dss-missing' })), 'ResourceNotFoundException', streamNotFound('dss-missing'));
    await expectError(
      client.send(new DescribeStreamSummaryCommand({ StreamARN: arnOf('dss-missing') })),
      'ResourceNotFoundException',
      streamNotFound('dss-missing'),
    );
    await expectError(client.send(new DescribeStreamSummaryCommand({})), 'InvalidArgumentException', 'Either StreamName or StreamARN must be provided.');
  });

  it('validates its input with AWS messages', async () => {
    const long = 'a'.repeat(129);
    const badArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${'x'.repeat(2048)}`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ StreamName: '' }, validationMessage(violation('', 'streamName', NAME_PATTERN), violation('', 'streamName', lengthAtLeast(1)))],
      [{ StreamName: long }, validationMessage(violation(long, 'streamName', lengthAtMost(128)))],
      [
        { StreamName: 'a b', StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/' },
        validationMessage(
          violation('a b', 'streamName', NAME_PATTERN),
          violation('arn:aws:kinesis:us-east-1:000000000000:stream/', 'streamARN', ARN_PATTERN),
        ),
      ],
      [{ StreamARN: badArn }, validationMessage(violation(badArn, 'streamARN', lengthAtMost(2048)))],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new DescribeStreamSummaryCommand(input as never)), 'ValidationException', message);
    }
  });
});
