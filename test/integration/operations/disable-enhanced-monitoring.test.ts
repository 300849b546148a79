import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  DisableEnhancedMonitoringCommand,
  EnableEnhancedMonitoringCommand,
  type KinesisClient,
  type MetricsName,
} from '@aws-sdk/client-kinesis';
import { arnOf, expectError, streamNotFound } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('DisableEnhancedMonitoring', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer();
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'dem', ShardCount: 1 }));
    await client.send(new EnableEnhancedMonitoringCommand({ StreamName: 'dem', ShardLevelMetrics: ['ALL'] }));
  });
  after(() => server.destroy());

  const disable = async (metrics: string[]) => {
    const r = await client.send(new DisableEnhancedMonitoringCommand({ StreamARN: arnOf('dem'), ShardLevelMetrics: metrics as MetricsName[] }));
    return { StreamName: r.StreamName, Current: r.CurrentShardLevelMetrics, Desired: r.DesiredShardLevelMetrics };
  };

  it('removes metrics and answers with the metrics before and after', async () => {
    assert.deepEqual(await disable(['IncomingBytes', 'OutgoingRecords', 'IteratorAgeMilliseconds']), {
      StreamName: 'dem',
      Current: [
        'IncomingBytes',
        'IncomingRecords',
        'OutgoingBytes',
        'OutgoingRecords',
        'WriteProvisionedThroughputExceeded',
        'ReadProvisionedThroughputExceeded',
        'IteratorAgeMilliseconds',
      ],
      Desired: ['IncomingRecords', 'OutgoingBytes', 'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded'],
    });
    const again = await disable(['IncomingBytes']);
    assert.deepEqual(again.Current, again.Desired, 'disabling a metric that is off changes nothing');
  });

  it('turns everything off with ALL', async () => {
    assert.deepEqual((await disable(['ALL'])).Desired, []);
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'dem' }));
    assert.deepEqual(s.StreamDescriptionSummary!.EnhancedMonitoring, [{ ShardLevelMetrics: [] }]);
  });

  it('refuses a stream that does not exist', async () => {
    await expectError(
      client.send(new DisableEnhancedMonitoringCommand({ StreamName: 'dem-none', ShardLevelMetrics: ['ALL'] })),
      'ResourceNotFoundException',
      streamNotFound('dem-none'),
    );
  });
});
