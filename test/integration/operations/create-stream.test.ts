import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordCommand,
  type CreateStreamCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  expectError,
  HASH_KEY_MAX,
  lengthAtLeast,
  lengthAtMost,
  NAME_PATTERN,
  NOT_NULL,
  REGION,
  shardId,
  streamNotFound,
  validationMessage,
  valueAtLeast,
  valueAtMost,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DELAY_MS = 1000;
const SHARD_LIMIT = 12;

describe('CreateStream', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ shardLimit: SHARD_LIMIT, createStreamDelayMs: DELAY_MS, deleteStreamDelayMs: DELAY_MS }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const create = (input: Partial<CreateStreamCommandInput>) => client.send(new CreateStreamCommand(input as CreateStreamCommandInput));
  const status = async (name: string) =>
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary!.StreamStatus;
  async function createActive(name: string, shards: number) {
    await create({ StreamName: name, ShardCount: shards });
    clock.advance(DELAY_MS);
    assert.equal(await status(name), 'ACTIVE');
  }
  async function deleteNow(name: string) {
    await client.send(new DeleteStreamCommand({ StreamName: name }));
    clock.advance(DELAY_MS);
    await expectError(client.send(new DescribeStreamSummaryCommand({ StreamName: name })), 'ResourceNotFoundException');
  }

  it('answers with an empty body; the stream is CREATING, then ACTIVE with its shards', async () => {
    const createdAt = clock.now();
    const out = await create({ StreamName: 'cs-life', ShardCount: 3 });
    assert.deepEqual(Object.keys(out).filter((k) => k !== '$metadata'), []);
    const creating = (await client.send(new DescribeStreamCommand({ StreamName: 'cs-life' }))).StreamDescription!;
    assert.equal(creating.StreamStatus, 'CREATING');
    assert.deepEqual(creating.Shards, [], 'no shards while CREATING');
    assert.equal(creating.StreamCreationTimestamp!.getTime(), createdAt);
    await expectError(
      client.send(new PutRecordCommand({ StreamName: 'cs-life', PartitionKey: 'k', Data: Buffer.from('x') })),
      'ResourceNotFoundException',
      streamNotFound('cs-life'),
    );
    clock.advance(DELAY_MS - 1);
    assert.equal(await status('cs-life'), 'CREATING');
    clock.advance(1);
    const active = (await client.send(new DescribeStreamCommand({ StreamName: 'cs-life' }))).StreamDescription!;
    assert.equal(active.StreamStatus, 'ACTIVE');
    assert.equal(active.StreamARN, `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/cs-life`);
    assert.deepEqual(
      active.Shards!.map((s) => [s.ShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]),
      [
        [shardId(0), '0', '113427455640312821154458202477256070484'],
        [shardId(1), '113427455640312821154458202477256070485', '226854911280625642308916404954512140969'],
        [shardId(2), '226854911280625642308916404954512140970', '340282366920938463463374607431768211455'],
      ],
    );
    const put = await client.send(new PutRecordCommand({ StreamName: 'cs-life', PartitionKey: 'k', Data: Buffer.from('x') }));
    assert.match(put.SequenceNumber!, /^\d{56}$/);
  });

  it('gives a one-shard stream the whole hash-key space', async () => {
    await createActive('cs-one', 1);
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: 'cs-one' }));
    assert.deepEqual(Shards!.map((s) => [s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]), [['0', HASH_KEY_MAX.toString()]]);
  });

  it('refuses a name in use, whatever the status of the stream', async () => {
    const inUse = 'Stream cs-dup under account 000000000000 already exists.';
    await create({ StreamName: 'cs-dup', ShardCount: 1 });
    await expectError(create({ StreamName: 'cs-dup', ShardCount: 1 }), 'ResourceInUseException', inUse);
    clock.advance(DELAY_MS);
    await expectError(create({ StreamName: 'cs-dup', ShardCount: 2 }), 'ResourceInUseException', inUse);
    await client.send(new DeleteStreamCommand({ StreamName: 'cs-dup' }));
    await expectError(create({ StreamName: 'cs-dup', ShardCount: 1 }), 'ResourceInUseException', inUse);
    clock.advance(DELAY_MS);
    await createActive('cs-dup', 1);
    await deleteNow('cs-dup');
  });

  it('refuses shards beyond the account shard limit with LimitExceededException', async () => {
    await createActive('cs-limit-a', 3);
    const open = 3 + 3 + 1; // cs-life, cs-limit-a, cs-one
    const wanted = SHARD_LIMIT - open + 1;
    await expectError(
      create({ StreamName: 'cs-limit-b', ShardCount: wanted }),
      'LimitExceededException',
      `This request would exceed the shard limit for the account ${ACCOUNT} in ${REGION}. ` +
        `Current shard count for the account: ${open}. Limit: ${SHARD_LIMIT}. ` +
        `Number of additional shards that would have resulted from this request: ${wanted}. ` +
        'Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) ' +
        'for current limits and how to request higher limits.',
    );
    await createActive('cs-limit-b', wanted - 1);
    await expectError(create({ StreamName: 'cs-limit-c', ShardCount: 1 }), 'LimitExceededException', /^This request would exceed the shard limit/);
    await deleteNow('cs-limit-a');
    await deleteNow('cs-limit-b');
    await createActive('cs-limit-c', 1);
    await deleteNow('cs-limit-c');
  });

  it('allows at most five streams CREATING or DELETING at once', async () => {
    const names = ['cs-busy-1', 'cs-busy-2', 'cs-busy-3', 'cs-busy-4'];
    for (const name of names) await create({ StreamName: name, ShardCount: 1 });
    await client.send(new DeleteStreamCommand({ StreamName: 'cs-one' }));
    const limit =
      'This request would have exceed the limit on the number  of streams that can simultaneously be in CREATING or DELETING ' +
      `for the account ${ACCOUNT}. Limit: 5.`;
    await expectError(create({ StreamName: 'cs-busy-5', ShardCount: 1 }), 'LimitExceededException', limit);
    clock.advance(DELAY_MS);
    await create({ StreamName: 'cs-busy-5', ShardCount: 1 });
    clock.advance(DELAY_MS);
    for (const name of [...names, 'cs-busy-5']) await deleteNow(name);
  });

  it('creates an ON_DEMAND stream with four shards', async () => {
    await create({ StreamName: 'cs-od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
    clock.advance(DELAY_MS);
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'cs-od' }))).StreamDescriptionSummary!;
    assert.equal(s.StreamModeDetails!.StreamMode, 'ON_DEMAND');
    assert.equal(s.OpenShardCount, 4);
    await deleteNow('cs-od');
  });

  it('keeps MaxRecordSizeInKiB', async () => {
    await create({ StreamName: 'cs-size', ShardCount: 1, MaxRecordSizeInKiB: 4096 });
    clock.advance(DELAY_MS);
    const s = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'cs-size' }))).StreamDescriptionSummary!;
    assert.equal(s.MaxRecordSizeInKiB, 4096);
    await deleteNow('cs-size');
  });

  it('refuses arguments that do not fit together with InvalidArgumentException', async () => {
    await expectError(create({ StreamName: 'cs-no-count' }), 'InvalidArgumentException', 'ShardCount is required for a stream in PROVISIONED mode.');
    await expectError(
      create({ StreamName: 'cs-auto', ShardCount: 1, RecordDistributionStrategy: 'AUTO' }),
      'InvalidArgumentException',
      'RecordDistributionStrategy AUTO and WarmThroughputMiBps are only supported for streams in ON_DEMAND mode.',
    );
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    await expectError(
      create({ StreamName: 'cs-tags', ShardCount: 1, Tags: tags }),
      'InvalidArgumentException',
      'Failed to create stream: a stream cannot have more than 50 tags.',
    );
    await createActive('cs-tags', 1);
    await deleteNow('cs-tags');
    await create({ StreamName: 'cs-tags', ShardCount: 1, Tags: Object.fromEntries(Object.entries(tags).slice(1)) });
    clock.advance(DELAY_MS);
    await deleteNow('cs-tags');
  });

  it('validates its input with AWS messages', async () => {
    const long = 'n'.repeat(129);
    const longValue = 'v'.repeat(257);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, validationMessage(violation(null, 'streamName', NOT_NULL))],
      [
        { StreamName: 'bad name!', ShardCount: 0 },
        validationMessage(violation('0', 'shardCount', valueAtLeast(1)), violation('bad name!', 'streamName', NAME_PATTERN)),
      ],
      [{ StreamName: '', ShardCount: 1 }, validationMessage(violation('', 'streamName', NAME_PATTERN), violation('', 'streamName', lengthAtLeast(1)))],
      [{ StreamName: long, ShardCount: 1 }, validationMessage(violation(long, 'streamName', lengthAtMost(128)))],
      [
        { StreamName: 's', StreamModeDetails: { StreamMode: 'FAST' } },
        validationMessage(violation('FAST', 'streamModeDetails.streamMode', 'Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]')),
      ],
      [{ StreamName: 's', StreamModeDetails: {} }, validationMessage(violation(null, 'streamModeDetails.streamMode', NOT_NULL))],
      [
        { StreamName: 's', ShardCount: 1, MaxRecordSizeInKiB: 1023 },
        validationMessage(violation('1023', 'maxRecordSizeInKiB', valueAtLeast(1024))),
      ],
      [
        { StreamName: 's', ShardCount: 1, MaxRecordSizeInKiB: 10241, RecordDistributionStrategy: 'RANDOM' },
        validationMessage(
          violation('10241', 'maxRecordSizeInKiB', valueAtMost(10240)),
          violation('RANDOM', 'recordDistributionStrategy', 'Member must satisfy enum value set: [AUTO, USER_PARTITION_KEY]'),
        ),
      ],
      [
        { StreamName: 's', ShardCount: 1, Tags: { team: longValue } },
        validationMessage(
          violation(
            `{team=${longValue}}`,
            'tags',
            'Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]',
          ),
        ),
      ],
    ];
    for (const [input, message] of cases) {
      await expectError(create(input), 'ValidationException', message);
    }
  });
});
