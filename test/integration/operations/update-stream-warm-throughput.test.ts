import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  UpdateAccountSettingsCommand,
  UpdateStreamWarmThroughputCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, arnOf, expectError, streamNotFound, validationMessage, valueAtLeast, violation, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('UpdateStreamWarmThroughput', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 2000 }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'uswt', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    await client.send(new CreateStreamCommand({ StreamName: 'uswt-p', ShardCount: 1 }));
  });
  after(() => server.destroy());

  const update = async (WarmThroughputMiBps: number, StreamName = 'uswt') => {
    const r = await client.send(new UpdateStreamWarmThroughputCommand({ StreamName, WarmThroughputMiBps }));
    return { StreamName: r.StreamName, StreamARN: r.StreamARN, WarmThroughput: r.WarmThroughput };
  };
  const summary = async () => {
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'uswt' }))).StreamDescriptionSummary!;
    return { status: s.StreamStatus, warm: s.WarmThroughput };
  };

  it('needs the account’s minimum throughput billing commitment', async () => {
    await expectError(
      update(100),
      'InvalidArgumentException',
      `Warm throughput requires the MinimumThroughputBillingCommitment of account ${ACCOUNT} to be ENABLED.`,
    );
    await client.send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: 'ENABLED' } }));
  });

  it('sets the target at once and the current value once the stream is ACTIVE again', async () => {
    assert.deepEqual(await update(100), {
      StreamName: 'uswt',
      StreamARN: arnOf('uswt'),
      WarmThroughput: { TargetMiBps: 100, CurrentMiBps: 0 },
    });
    assert.deepEqual(await summary(), { status: 'UPDATING', warm: { TargetMiBps: 100, CurrentMiBps: 0 } });
    await expectError(update(200), 'ResourceInUseException', `Stream uswt under account ${ACCOUNT} not ACTIVE, instead in state UPDATING`);
    clock.advance(2000);
    assert.deepEqual(await summary(), { status: 'ACTIVE', warm: { TargetMiBps: 100, CurrentMiBps: 100 } });

    assert.deepEqual((await update(40)).WarmThroughput, { TargetMiBps: 40, CurrentMiBps: 100 }, 'lowering releases capacity');
    clock.advance(2000);
    assert.deepEqual(await summary(), { status: 'ACTIVE', warm: { TargetMiBps: 40, CurrentMiBps: 40 } });
  });

  it('refuses provisioned streams, more than 10 GiB/s, and streams that do not exist', async () => {
    await expectError(
      update(10, 'uswt-p'),
      'InvalidArgumentException',
      `Warm throughput is only supported for streams in ON_DEMAND mode. Stream uswt-p under account ${ACCOUNT} is in PROVISIONED mode.`,
    );
    await expectError(
      update(10241),
      'LimitExceededException',
      `Requested warm throughput of 10241 MiBps for stream uswt under account ${ACCOUNT} exceeds the limit of 10240 MiBps.`,
    );
    await expectError(update(1, 'uswt-none'), 'ResourceNotFoundException', streamNotFound('uswt-none'));
    await expectError(update(-1), 'ValidationException', validationMessage(violation('-1', 'warmThroughputMiBps', valueAtLeast(0))));
  });
});
