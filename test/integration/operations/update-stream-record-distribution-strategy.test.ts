import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  UpdateStreamRecordDistributionStrategyCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ACCOUNT, arnOf, expectError, NOT_NULL, streamNotFound, validationMessage, violation } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('UpdateStreamRecordDistributionStrategy', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ fsync: 'never' });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'usrds', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    await client.send(new CreateStreamCommand({ StreamName: 'usrds-p', ShardCount: 2 }));
  });
  after(() => server.destroy());

  const update = (StreamARN: string | undefined, RecordDistributionStrategy: 'AUTO' | 'USER_PARTITION_KEY') =>
    client.send(new UpdateStreamRecordDistributionStrategyCommand({ StreamARN, RecordDistributionStrategy }));
  const strategy = async () =>
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'usrds' }))).StreamDescriptionSummary!.RecordDistributionStrategy;
  /** The shards 200 records with one partition key went to. */
  const shardsUsed = async () => {
    const r = await client.send(
      new PutRecordsCommand({ StreamName: 'usrds', Records: Array.from({ length: 200 }, () => ({ PartitionKey: 'same', Data: Buffer.from('x') })) }),
    );
    return new Set(r.Records!.map((e) => e.ShardId)).size;
  };

  it('switches an on-demand stream to AUTO, which spreads one key over the shards, and back', async () => {
    assert.equal(await strategy(), 'USER_PARTITION_KEY');
    assert.equal(await shardsUsed(), 1);
    await update(arnOf('usrds'), 'AUTO');
    assert.equal(await strategy(), 'AUTO');
    assert.equal(await shardsUsed(), 4, 'AUTO routes evenly, whatever the key');
    await update(arnOf('usrds'), 'USER_PARTITION_KEY');
    assert.equal(await strategy(), 'USER_PARTITION_KEY');
    assert.equal(await shardsUsed(), 1);
  });

  it('refuses provisioned streams and streams that do not exist', async () => {
    await expectError(
      update(arnOf('usrds-p'), 'AUTO'),
      'InvalidArgumentException',
      `RecordDistributionStrategy is only supported for streams in ON_DEMAND mode. Stream usrds-p under account ${ACCOUNT} is in PROVISIONED mode.`,
    );
    await expectError(update(arnOf('usrds-none'), 'AUTO'), 'ResourceNotFoundException', streamNotFound('usrds-none'));
    await expectError(update(undefined, 'AUTO'), 'ValidationException', validationMessage(violation(null, 'streamARN', NOT_NULL)));
  });
});
