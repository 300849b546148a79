import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  StartStreamEncryptionCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, arnOf, expectError, getIterator, shardId, streamNotFound, text, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const GUID = '1234abcd-12ab-34cd-56ef-1234567890ab';

describe('StartStreamEncryption', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ updateStreamDelayMs: 1000, fsync: 'never' }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const start = (StreamName: string, KeyId: string, EncryptionType: 'KMS' | 'NONE' = 'KMS') =>
    client.send(new StartStreamEncryptionCommand({ StreamName, EncryptionType, KeyId }));
  const summary = async (StreamName: string) => {
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!;
    return { status: s.StreamStatus, type: s.EncryptionType, key: s.KeyId };
  };
  const put = async (StreamName: string, data: string) =>
    (await client.send(new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: Buffer.from(data) }))).EncryptionType;

  it('turns the stream UPDATING, then encrypts what is written once it is ACTIVE again', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'sse', ShardCount: 1 }));
    assert.equal(await put('sse', 'before'), undefined);
    await start('sse', 'alias/aws/kinesis');
    assert.deepEqual(await summary('sse'), { status: 'UPDATING', type: 'KMS', key: 'alias/aws/kinesis' });
    const d = (await client.send(new DescribeStreamCommand({ StreamName: 'sse' }))).StreamDescription!;
    assert.deepEqual([d.EncryptionType, d.KeyId], ['KMS', 'alias/aws/kinesis']);
    assert.equal(await put('sse', 'during'), undefined, 'records written while UPDATING are not yet encrypted');
    await expectError(
      start('sse', GUID),
      'ResourceInUseException',
      `Stream sse under account ${ACCOUNT} not ACTIVE, instead in state UPDATING`,
    );

    clock.advance(1000);
    assert.deepEqual(await summary('sse'), { status: 'ACTIVE', type: 'KMS', key: 'alias/aws/kinesis' });
    assert.equal(await put('sse', 'after'), 'KMS');
    const batch = await client.send(new PutRecordsCommand({ StreamName: 'sse', Records: [{ PartitionKey: 'k', Data: Buffer.from('batch') }] }));
    assert.equal(batch.EncryptionType, 'KMS');

    const r = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, 'sse', shardId(0), 'TRIM_HORIZON') }));
    assert.deepEqual(
      r.Records!.map((x) => [text(x), x.EncryptionType]),
      [
        ['before', undefined],
        ['during', undefined],
        ['after', 'KMS'],
        ['batch', 'KMS'],
      ],
    );
  });

  it('takes every KMS key form: key id, key ARN, alias name, alias ARN, multi-Region key', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'sse-keys', ShardCount: 1 }));
    const keys = [
      GUID,
      `arn:aws:kms:us-east-1:111122223333:key/${GUID}`,
      'alias/my-key',
      'arn:aws:kms:us-east-1:111122223333:alias/my/key_1',
      'mrk-1234abcd12ab34cd56ef1234567890ab',
    ];
    for (const key of keys) {
      await start('sse-keys', key);
      clock.advance(1000);
      assert.deepEqual(await summary('sse-keys'), { status: 'ACTIVE', type: 'KMS', key }, key);
    }
  });

  it('refuses an EncryptionType other than KMS and a KeyId that names no KMS key', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'sse-bad', ShardCount: 1 }));
    await expectError(
      start('sse-bad', GUID, 'NONE'),
      'InvalidArgumentException',
      'Invalid EncryptionType NONE. The only valid EncryptionType is KMS.',
    );
    for (const key of ['my-key', 'alias/', `arn:aws:s3:::bucket`, '1234']) {
      await expectError(
        start('sse-bad', key),
        'InvalidArgumentException',
        `Invalid KeyId ${key}. Specify a key id, a key ARN, an alias name (alias/...) or an alias ARN.`,
      );
    }
    assert.deepEqual(await summary('sse-bad'), { status: 'ACTIVE', type: 'NONE', key: undefined });
  });

  it('allows 25 starts per stream in a rolling 24 hours', async () => {
    const t0 = clock.now();
    await client.send(new CreateStreamCommand({ StreamName: 'sse-25', ShardCount: 1 }));
    for (let i = 0; i < 25; i++) {
      await start('sse-25', i % 2 ? GUID : 'alias/aws/kinesis');
      clock.advance(1000);
    }
    await expectError(
      start('sse-25', GUID),
      'LimitExceededException',
      `Exceeded the limit of 25 StartStreamEncryption calls in a rolling 24-hour period for stream sse-25 under account ${ACCOUNT}.`,
    );
    assert.equal((await summary('sse-25')).status, 'ACTIVE', 'a refused call leaves the stream as it was');
    clock.set(t0 + 24 * 3_600_000 + 1);
    await start('sse-25', GUID);
  });

  it('refuses a stream that does not exist', async () => {
    await expectError(
      client.send(new StartStreamEncryptionCommand({ StreamARN: arnOf('sse-none'), EncryptionType: 'KMS', KeyId: GUID })),
      'ResourceNotFoundException',
      streamNotFound('sse-none'),
    );
  });
});
