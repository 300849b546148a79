import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeLimitsCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  UpdateStreamModeCommand,
  type KinesisClient,
  type StreamMode,
  type UpdateStreamModeCommandInput,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  ARN_PATTERN,
  arnOf,
  expectError,
  NOT_NULL,
  shardId,
  streamNotFound,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const HOUR = 3_600_000;

describe('UpdateStreamMode', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ shardLimit: 1000, updateStreamDelayMs: 0 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const switchTo = (stream: string, mode: StreamMode, extra: Partial<UpdateStreamModeCommandInput> = {}) =>
    client.send(new UpdateStreamModeCommand({ StreamARN: arnOf(stream), StreamModeDetails: { StreamMode: mode }, ...extra }));
  const summary = async (stream: string) =>
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!;
  const create = async (name: string, shards: number) => {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    clock.advance(1000);
  };

  it('switches a stream between PROVISIONED and ON_DEMAND, keeping its shards', async () => {
    await create('mode', 3);
    await switchTo('mode', 'ON_DEMAND');
    let s = await summary('mode');
    assert.deepEqual(s.StreamModeDetails, { StreamMode: 'ON_DEMAND' });
    assert.equal(s.StreamStatus, 'ACTIVE');
    assert.equal(s.OpenShardCount, 3);
    const listed = (await client.send(new ListStreamsCommand({}))).StreamSummaries!.find((x) => x.StreamName === 'mode')!;
    assert.deepEqual(listed.StreamModeDetails, { StreamMode: 'ON_DEMAND' });
    assert.equal((await client.send(new DescribeLimitsCommand({}))).OnDemandStreamCount, 1);
    await expectError(
      client.send(new SplitShardCommand({ StreamName: 'mode', ShardToSplit: shardId(0), NewStartingHashKey: '10' })),
      'ValidationException',
      `Request is invalid. Stream mode under account ${ACCOUNT} is in On-Demand mode.`,
    );
    await switchTo('mode', 'PROVISIONED');
    s = await summary('mode');
    assert.deepEqual(s.StreamModeDetails, { StreamMode: 'PROVISIONED' });
    assert.equal(s.OpenShardCount, 3);
    await client.send(new UpdateShardCountCommand({ StreamName: 'mode', TargetShardCount: 6, ScalingType: 'UNIFORM_SCALING' }));
  });

  it('allows two switches per stream in a rolling 24 hours', async () => {
    await create('mode-daily', 1);
    const start = clock.now();
    await switchTo('mode-daily', 'ON_DEMAND');
    clock.advance(HOUR);
    await switchTo('mode-daily', 'PROVISIONED');
    const message =
      `Stream mode-daily under account ${ACCOUNT} has already switched capacity mode 2 times in the last 24 hours. ` +
      'A stream can switch capacity mode at most 2 times per rolling 24-hour period.';
    await expectError(switchTo('mode-daily', 'ON_DEMAND'), 'LimitExceededException', message);
    clock.set(start + 24 * HOUR);
    await switchTo('mode-daily', 'ON_DEMAND');
    await expectError(switchTo('mode-daily', 'PROVISIONED'), 'LimitExceededException', message);
    clock.set(start + 25 * HOUR);
    await switchTo('mode-daily', 'PROVISIONED');
  });

  it('keeps the stream UPDATING for the update delay', async () => {
    const delayed = await startTestServer({ createStreamDelayMs: 700, updateStreamDelayMs: 700 }, { clock });
    try {
      const c = delayed.client();
      await c.send(new CreateStreamCommand({ StreamName: 'slow', ShardCount: 1 }));
      clock.advance(700);
      await c.send(new UpdateStreamModeCommand({ StreamARN: arnOf('slow'), StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
      const status = async () => (await c.send(new DescribeStreamSummaryCommand({ StreamName: 'slow' }))).StreamDescriptionSummary!;
      assert.equal((await status()).StreamStatus, 'UPDATING');
      assert.deepEqual((await status()).StreamModeDetails, { StreamMode: 'ON_DEMAND' });
      await expectError(
        c.send(new UpdateStreamModeCommand({ StreamARN: arnOf('slow'), StreamModeDetails: { StreamMode: 'PROVISIONED' } })),
        'ResourceInUseException',
        `Stream slow under account ${ACCOUNT} not ACTIVE, instead in state UPDATING`,
      );
      clock.advance(700);
      assert.equal((await status()).StreamStatus, 'ACTIVE');
    } finally {
      await delayed.destroy();
    }
  });

  it('refuses a switch to the mode the stream is in', async () => {
    await create('mode-same', 1);
    await expectError(
      switchTo('mode-same', 'PROVISIONED'),
      'InvalidArgumentException',
      `Stream mode-same under account ${ACCOUNT} is already in PROVISIONED mode.`,
    );
  });

  it('takes WarmThroughputMiBps only for a switch to ON_DEMAND', async () => {
    await create('mode-warm', 1);
    await expectError(
      switchTo('mode-warm', 'PROVISIONED', { WarmThroughputMiBps: 10 }),
      'InvalidArgumentException',
      'WarmThroughputMiBps is only supported for streams in ON_DEMAND mode.',
    );
    await switchTo('mode-warm', 'ON_DEMAND', { WarmThroughputMiBps: 10 });
    assert.equal((await summary('mode-warm')).WarmThroughput?.TargetMiBps, 10);
  });

  it("refuses a switch past the account's on-demand stream limit", async () => {
    const limit = (await client.send(new DescribeLimitsCommand({}))).OnDemandStreamCountLimit!;
    let count = (await client.send(new DescribeLimitsCommand({}))).OnDemandStreamCount!;
    for (let i = 0; count < limit; i++, count++) {
      await client.send(new CreateStreamCommand({ StreamName: `od-${i}`, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    }
    await create('mode-full', 1);
    await expectError(
      switchTo('mode-full', 'ON_DEMAND'),
      'LimitExceededException',
      `This request would exceed the on-demand stream limit for the account ${ACCOUNT}. ` +
        `Current on-demand stream count for the account: ${limit}. Limit: ${limit}.`,
    );
  });

  it('refuses unknown streams and malformed requests', async () => {
    await expectError(switchTo('nope', 'ON_DEMAND'), 'ResourceNotFoundException', streamNotFound('nope'));
    await expectError(
      client.send(new UpdateStreamModeCommand({ StreamARN: 'mode', StreamModeDetails: { StreamMode: 'ON_DEMAND' } })),
      'ValidationException',
      validationMessage(violation('mode', 'streamARN', ARN_PATTERN)),
    );
    await expectError(
      client.send(new UpdateStreamModeCommand({ StreamARN: arnOf('mode') } as UpdateStreamModeCommandInput)),
      'ValidationException',
      validationMessage(violation(null, 'streamModeDetails', NOT_NULL)),
    );
  });
});
