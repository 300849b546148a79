import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  PutRecordCommand,
  type DecreaseStreamRetentionPeriodCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, arnOf, expectError, readShard, shardId, streamNotFound, texts, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const HOUR = 3_600_000;

describe('DecreaseStreamRetentionPeriod', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'dec', ShardCount: 1 }));
    await client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: 'dec', RetentionPeriodHours: 168 }));
  });
  after(() => server.destroy());

  const decrease = (input: Partial<DecreaseStreamRetentionPeriodCommandInput>) =>
    client.send(new DecreaseStreamRetentionPeriodCommand(input as DecreaseStreamRetentionPeriodCommandInput));
  const retention = async (stream: string) =>
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.RetentionPeriodHours;
  const put = (data: string) => client.send(new PutRecordCommand({ StreamName: 'dec', PartitionKey: 'k', Data: Buffer.from(data) }));

  it('shortens the retention period, and older records stop being served at once', async () => {
    await put('old');
    clock.advance(30 * HOUR);
    await put('young');
    assert.deepEqual(texts(await readShard(client, 'dec', shardId(0))), ['old', 'young'], 'both kept under 168 h');
    const r = await decrease({ StreamName: 'dec', RetentionPeriodHours: 24 });
    assert.equal(r.$metadata.httpStatusCode, 200);
    assert.equal(await retention('dec'), 24);
    assert.deepEqual(texts(await readShard(client, 'dec', shardId(0))), ['young'], 'the 30-hour-old record is gone');
  });

  it('accepts the current period, by name or ARN', async () => {
    await decrease({ StreamARN: arnOf('dec'), RetentionPeriodHours: 24 });
    assert.equal(await retention('dec'), 24);
  });

  it('refuses periods outside 24..8760 hours and longer than the current one', async () => {
    await expectError(
      decrease({ StreamName: 'dec', RetentionPeriodHours: 12 }),
      'InvalidArgumentException',
      'Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.',
    );
    await expectError(
      decrease({ StreamName: 'dec', RetentionPeriodHours: 9000 }),
      'InvalidArgumentException',
      'Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.',
    );
    await expectError(
      decrease({ StreamName: 'dec', RetentionPeriodHours: 25 }),
      'InvalidArgumentException',
      'Requested retention period (25 hours) for stream dec can not be longer than existing retention period (24 hours). ' +
        'Use IncreaseRetentionPeriod API.',
    );
  });

  it('refuses unknown streams and streams being deleted', async () => {
    await expectError(decrease({ StreamName: 'nope', RetentionPeriodHours: 24 }), 'ResourceNotFoundException', streamNotFound('nope'));
    const delayed = await startTestServer({ deleteStreamDelayMs: 1000 }, { clock });
    try {
      const c = delayed.client();
      await c.send(new CreateStreamCommand({ StreamName: 'going', ShardCount: 1 }));
      await c.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: 'going', RetentionPeriodHours: 48 }));
      await c.send(new DeleteStreamCommand({ StreamName: 'going' }));
      await expectError(
        c.send(new DecreaseStreamRetentionPeriodCommand({ StreamName: 'going', RetentionPeriodHours: 24 })),
        'ResourceInUseException',
        `Stream going under account ${ACCOUNT} not ACTIVE, instead in state DELETING`,
      );
    } finally {
      await delayed.destroy();
    }
  });
});
