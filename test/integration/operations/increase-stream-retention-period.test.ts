import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  PutRecordCommand,
  type IncreaseStreamRetentionPeriodCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  expectError,
  NOT_NULL,
  readShard,
  shardId,
  streamNotFound,
  texts,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const HOUR = 3_600_000;

describe('IncreaseStreamRetentionPeriod', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'inc', ShardCount: 1 }));
  });
  after(() => server.destroy());

  const increase = (input: Partial<IncreaseStreamRetentionPeriodCommandInput>) =>
    client.send(new IncreaseStreamRetentionPeriodCommand(input as IncreaseStreamRetentionPeriodCommandInput));
  const retention = async (stream: string) =>
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.RetentionPeriodHours;

  it('lengthens the retention period, and records are kept for the new period', async () => {
    await client.send(new PutRecordCommand({ StreamName: 'inc', PartitionKey: 'k', Data: Buffer.from('kept') }));
    const r = await increase({ StreamName: 'inc', RetentionPeriodHours: 48 });
    assert.equal(r.$metadata.httpStatusCode, 200);
    assert.equal(await retention('inc'), 48);
    clock.advance(47 * HOUR);
    assert.deepEqual(texts(await readShard(client, 'inc', shardId(0))), ['kept']);
    clock.advance(HOUR + 1);
    assert.deepEqual(texts(await readShard(client, 'inc', shardId(0))), []);
  });

  it('accepts the current period and the maximum, by name or ARN', async () => {
    await increase({ StreamARN: arnOf('inc'), RetentionPeriodHours: 48 });
    await increase({ StreamName: 'inc', RetentionPeriodHours: 8760 });
    assert.equal(await retention('inc'), 8760);
  });

  it('does not bring back records that were already trimmed', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'inc-trimmed', ShardCount: 1 }));
    await client.send(new PutRecordCommand({ StreamName: 'inc-trimmed', PartitionKey: 'k', Data: Buffer.from('gone') }));
    clock.advance(25 * HOUR);
    assert.deepEqual(texts(await readShard(client, 'inc-trimmed', shardId(0))), []);
    await increase({ StreamName: 'inc-trimmed', RetentionPeriodHours: 72 });
    assert.deepEqual(texts(await readShard(client, 'inc-trimmed', shardId(0))), []);
  });

  it('refuses periods outside 24..8760 hours and shorter than the current one', async () => {
    await expectError(
      increase({ StreamName: 'inc', RetentionPeriodHours: 23 }),
      'InvalidArgumentException',
      'Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.',
    );
    await expectError(
      increase({ StreamName: 'inc', RetentionPeriodHours: 8761 }),
      'InvalidArgumentException',
      'Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.',
    );
    await expectError(
      increase({ StreamName: 'inc', RetentionPeriodHours: 100 }),
      'InvalidArgumentException',
      'Requested retention period (100 hours) for stream inc can not be shorter than existing retention period (8760 hours). ' +
        'Use DecreaseRetentionPeriod API.',
    );
    assert.equal(await retention('inc'), 8760);
  });

  it('refuses unknown streams, streams being created, and a missing period', async () => {
    await expectError(increase({ StreamName: 'nope', RetentionPeriodHours: 48 }), 'ResourceNotFoundException', streamNotFound('nope'));
    const delayed = await startTestServer({ createStreamDelayMs: 1000 }, { clock });
    try {
      const c = delayed.client();
      await c.send(new CreateStreamCommand({ StreamName: 'young', ShardCount: 1 }));
      await expectError(
        c.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: 'young', RetentionPeriodHours: 48 })),
        'ResourceInUseException',
        `Stream young under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
      );
    } finally {
      await delayed.destroy();
    }
    await expectError(
      increase({ StreamName: 'inc' }),
      'ValidationException',
      validationMessage(violation(null, 'retentionPeriodHours', NOT_NULL)),
    );
  });
});
