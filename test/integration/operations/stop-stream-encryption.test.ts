import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  PutRecordCommand,
  StartStreamEncryptionCommand,
  StopStreamEncryptionCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, expectError, getIterator, shardId, streamNotFound, text, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const KEY = 'alias/aws/kinesis';

describe('StopStreamEncryption', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 500, fsync: 'never' }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const encrypt = async (StreamName: string) => {
    await client.send(new StartStreamEncryptionCommand({ StreamName, EncryptionType: 'KMS', KeyId: KEY }));
    clock.advance(500);
  };
  const stop = (StreamName: string, EncryptionType: 'KMS' | 'NONE' = 'KMS') =>
    client.send(new StopStreamEncryptionCommand({ StreamName, EncryptionType, KeyId: KEY }));
  const summary = async (StreamName: string) => {
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!;
    return { status: s.StreamStatus, type: s.EncryptionType, key: s.KeyId };
  };
  const put = async (StreamName: string, data: string) =>
    (await client.send(new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: Buffer.from(data) }))).EncryptionType;

  it('turns the stream UPDATING and stops encrypting what is written once it is ACTIVE again', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'ssd', ShardCount: 1 }));
    await encrypt('ssd');
    assert.equal(await put('ssd', 'encrypted'), 'KMS');
    await stop('ssd');
    assert.deepEqual(await summary('ssd'), { status: 'UPDATING', type: 'NONE', key: undefined });
    assert.equal(await put('ssd', 'still encrypted'), 'KMS', 'until the change is applied');
    clock.advance(500);
    assert.deepEqual(await summary('ssd'), { status: 'ACTIVE', type: 'NONE', key: undefined });
    assert.equal(await put('ssd', 'plain'), undefined);
    const r = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'ssd', shardId(0), 'TRIM_HORIZON') }));
    assert.deepEqual(
      r.Records!.map((x) => [text(x), x.EncryptionType]),
      [
        ['encrypted', 'KMS'],
        ['still encrypted', 'KMS'],
        ['plain', undefined],
      ],
      'records written while encrypted stay reported as encrypted',
    );
  });

  it('leaves a stream that is not encrypted as it is', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'ssd-plain', ShardCount: 1 }));
    await stop('ssd-plain');
    assert.deepEqual(await summary('ssd-plain'), { status: 'ACTIVE', type: 'NONE', key: undefined });
  });

  it('refuses an EncryptionType other than KMS, a stream that is not ACTIVE, and one that does not exist', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'ssd-bad', ShardCount: 1 }));
    await encrypt('ssd-bad');
    await expectError(stop('ssd-bad', 'NONE'), 'InvalidArgumentException', 'Invalid EncryptionType NONE. The only valid EncryptionType is KMS.');
    await stop('ssd-bad');
    await expectError(stop('ssd-bad'), 'ResourceInUseException', `Stream ssd-bad under account ${ACCOUNT} not ACTIVE, instead in state UPDATING`);
    await expectError(stop('ssd-none'), 'ResourceNotFoundException', streamNotFound('ssd-none'));
  });

});

describe('StopStreamEncryption limits', () => {
  let server: TestServer;
  let client: KinesisClient;
  const t0 = wholeSecond();
  const clock = new ManualClock(t0);
  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 0 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const start = () => client.send(new StartStreamEncryptionCommand({ StreamName: 'ssd-25', EncryptionType: 'KMS', KeyId: KEY }));
  const stop = () => client.send(new StopStreamEncryptionCommand({ StreamName: 'ssd-25', EncryptionType: 'KMS', KeyId: KEY }));

  it('allows 25 stops per stream in a rolling 24 hours', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'ssd-25', ShardCount: 1 }));
    await start();
    clock.advance(10_000);
    await stop();
    for (let i = 1; i < 25; i++) {
      clock.advance(1);
      await start();
      await stop();
    }
    // A day after the first start (which no longer counts) but not after the first stop.
    clock.set(t0 + 24 * 3_600_000);
    await start();
    await expectError(
      stop(),
      'LimitExceededException',
      `Exceeded the limit of 25 StopStreamEncryption calls in a rolling 24-hour period for stream ssd-25 under account ${ACCOUNT}.`,
    );
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'ssd-25' }))).StreamDescriptionSummary!;
    assert.deepEqual([s.StreamStatus, s.EncryptionType, s.KeyId], ['ACTIVE', 'KMS', KEY], 'a refused call leaves the stream as it was');
    clock.advance(10_000);
    await stop();
  });
});
