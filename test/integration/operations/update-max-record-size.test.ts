import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordCommand,
  PutRecordsCommand,
  UpdateMaxRecordSizeCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  blobText,
  expectError,
  MiB,
  readShard,
  shardId,
  streamNotFound,
  validationMessage,
  valueAtLeast,
  valueAtMost,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('UpdateMaxRecordSize', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 1000, fsync: 'never' }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'umrs', ShardCount: 1 }));
    clock.advance(1000);
  });
  after(() => server.destroy());

  const update = (MaxRecordSizeInKiB: number, StreamARN = arnOf('umrs')) =>
    client.send(new UpdateMaxRecordSizeCommand({ StreamARN, MaxRecordSizeInKiB }));
  /** A record of exactly `size` bytes: data and the one-byte partition key. */
  const put = (size: number) => client.send(new PutRecordCommand({ StreamName: 'umrs', PartitionKey: 'k', Data: Buffer.alloc(size - 1, 1) }));
  const lengthAtMost = (max: number) => `Member must have length less than or equal to ${max}`;
  const tooLarge = (size: number, max: number) => validationMessage(violation(blobText(size - 1), 'data', lengthAtMost(max)));

  it('raises and lowers the largest record the stream takes, at once', async () => {
    await expectError(put(MiB + 1), 'ValidationException', tooLarge(MiB + 1, MiB));
    await update(2048);
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'umrs' }));
    assert.equal(s.StreamDescriptionSummary!.MaxRecordSizeInKiB, 2048);
    assert.equal(s.StreamDescriptionSummary!.StreamStatus, 'ACTIVE');
    await put(2 * MiB);
    await expectError(put(2 * MiB + 1), 'ValidationException', tooLarge(2 * MiB + 1, 2 * MiB));
    await expectError(
      client.send(new PutRecordsCommand({ StreamName: 'umrs', Records: [{ PartitionKey: 'k', Data: Buffer.alloc(2 * MiB) }] })),
      'ValidationException',
      validationMessage(violation(blobText(2 * MiB), 'records.1.member.data', lengthAtMost(2 * MiB))),
    );
    const records = await readShard(client, 'umrs', shardId(0));
    assert.deepEqual(records.map((r) => r.Data!.length), [2 * MiB - 1]);
    await update(1024);
    await expectError(put(MiB + 1), 'ValidationException', tooLarge(MiB + 1, MiB));
  });

  it('refuses a size outside 1024..10240 KiB', async () => {
    await expectError(update(1023), 'ValidationException', validationMessage(violation('1023', 'maxRecordSizeInKiB', valueAtLeast(1024))));
    await expectError(update(10241), 'ValidationException', validationMessage(violation('10241', 'maxRecordSizeInKiB', valueAtMost(10240))));
  });

  it('refuses a stream that is not ACTIVE, one that does not exist, and a request without a stream', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'umrs-new', ShardCount: 1 }));
    await expectError(
      update(4096, arnOf('umrs-new')),
      'ResourceInUseException',
      `Stream umrs-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
    await expectError(update(4096, arnOf('umrs-none')), 'ResourceNotFoundException', streamNotFound('umrs-none'));
    await expectError(
      client.send(new UpdateMaxRecordSizeCommand({ MaxRecordSizeInKiB: 4096 })),
      'InvalidArgumentException',
      'Either StreamName or StreamARN must be provided.',
    );
  });
});
