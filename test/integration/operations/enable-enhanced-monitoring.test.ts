import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  EnableEnhancedMonitoringCommand,
  type KinesisClient,
  type MetricsName,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, arnOf, expectError, lengthAtLeast, streamNotFound, validationMessage, violation, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ALL_SEVEN = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
];

describe('EnableEnhancedMonitoring', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 1000 }, { clock });
    client = server.client();
    for (const name of ['eem', 'eem-all']) await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    clock.advance(1000);
  });
  after(() => server.destroy());

  const enable = async (StreamName: string, metrics: string[]) => {
    const r = await client.send(new EnableEnhancedMonitoringCommand({ StreamName, ShardLevelMetrics: metrics as MetricsName[] }));
    return { StreamName: r.StreamName, StreamARN: r.StreamARN, Current: r.CurrentShardLevelMetrics, Desired: r.DesiredShardLevelMetrics };
  };
  const described = async (StreamName: string) => {
    const d = (await client.send(new DescribeStreamCommand({ StreamName }))).StreamDescription!.EnhancedMonitoring;
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!.EnhancedMonitoring;
    assert.deepEqual(d, s, 'DescribeStream and DescribeStreamSummary agree');
    return d;
  };

  it('adds metrics and answers with the metrics before and after, in AWS’s order', async () => {
    assert.deepEqual(await enable('eem', ['OutgoingBytes', 'IncomingBytes']), {
      StreamName: 'eem',
      StreamARN: arnOf('eem'),
      Current: [],
      Desired: ['IncomingBytes', 'OutgoingBytes'],
    });
    assert.deepEqual(await enable('eem', ['IteratorAgeMilliseconds', 'IncomingBytes']), {
      StreamName: 'eem',
      StreamARN: arnOf('eem'),
      Current: ['IncomingBytes', 'OutgoingBytes'],
      Desired: ['IncomingBytes', 'OutgoingBytes', 'IteratorAgeMilliseconds'],
    });
    assert.deepEqual(await described('eem'), [{ ShardLevelMetrics: ['IncomingBytes', 'OutgoingBytes', 'IteratorAgeMilliseconds'] }]);
  });

  it('expands ALL to the seven metrics', async () => {
    assert.deepEqual((await enable('eem-all', ['ALL'])).Desired, ALL_SEVEN);
    assert.deepEqual(await described('eem-all'), [{ ShardLevelMetrics: ALL_SEVEN }]);
    assert.deepEqual(await enable('eem-all', ['IncomingRecords']), {
      StreamName: 'eem-all',
      StreamARN: arnOf('eem-all'),
      Current: ALL_SEVEN,
      Desired: ALL_SEVEN,
    });
  });

  it('refuses a stream that is not ACTIVE or does not exist', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'eem-new', ShardCount: 1 }));
    await expectError(
      enable('eem-new', ['ALL']),
      'ResourceInUseException',
      `Stream eem-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
    await expectError(enable('eem-none', ['ALL']), 'ResourceNotFoundException', streamNotFound('eem-none'));
  });

  it('validates its input as the model says', async () => {
    await expectError(enable('eem', []), 'ValidationException', validationMessage(violation('[]', 'shardLevelMetrics', lengthAtLeast(1))));
    await expectError(
      enable('eem', ['Latency']),
      'ValidationException',
      validationMessage(
        violation(
          '[Latency]',
          'shardLevelMetrics',
          `Member must satisfy constraint: [Member must satisfy enum value set: [${[...ALL_SEVEN, 'ALL'].join(', ')}]]`,
        ),
      ),
    );
  });
});
