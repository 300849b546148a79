import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  type KinesisClient,
  type ListShardsCommandInput,
  type ShardFilter,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  expectError,
  HASH_KEY_MAX,
  lengthAtLeast,
  NAME_PATTERN,
  NOT_NULL,
  shardId,
  streamNotFound,
  validationMessage,
  valueAtLeast,
  valueAtMost,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CREATE_MS = 1000;
const FILTER_TYPES =
  'Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]';
const ALL = [0, 1, 2, 3, 4].map(shardId);

describe('ListShards', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  let createdAt: Date;
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: CREATE_MS, shardLimit: 2000 }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'ls', ShardCount: 5 }));
    clock.advance(CREATE_MS);
    createdAt = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'ls' }))).StreamDescriptionSummary!.StreamCreationTimestamp!;
    clock.advance(60_000);
  });
  after(() => server.destroy());

  const list = (input: Partial<ListShardsCommandInput>) => client.send(new ListShardsCommand(input));
  const ids = async (input: Partial<ListShardsCommandInput>) => ((await list(input)).Shards ?? []).map((s) => s.ShardId);

  it('lists every shard in shard-id order with its hash-key and sequence-number ranges', async () => {
    const r = await list({ StreamName: 'ls' });
    assert.equal(r.NextToken, undefined);
    const shards = r.Shards!;
    assert.deepEqual(shards.map((s) => s.ShardId), ALL);
    const width = (1n << 128n) / 5n;
    shards.forEach((s, i) => {
      assert.equal(s.HashKeyRange!.StartingHashKey, (width * BigInt(i)).toString());
      assert.equal(s.HashKeyRange!.EndingHashKey, (i === 4 ? HASH_KEY_MAX : width * BigInt(i + 1) - 1n).toString());
      assert.match(s.SequenceNumberRange!.StartingSequenceNumber!, /^\d{56}$/);
      assert.equal(s.SequenceNumberRange!.EndingSequenceNumber, undefined, 'open shards have no EndingSequenceNumber');
      assert.equal(s.ParentShardId, undefined);
      assert.equal(s.AdjacentParentShardId, undefined);
    });
  });

  it('pages with MaxResults and NextToken', async () => {
    const first = await list({ StreamName: 'ls', MaxResults: 2 });
    assert.deepEqual(first.Shards!.map((s) => s.ShardId), ALL.slice(0, 2));
    assert.ok(first.NextToken);
    const second = await list({ NextToken: first.NextToken, MaxResults: 2 });
    assert.deepEqual(second.Shards!.map((s) => s.ShardId), ALL.slice(2, 4));
    assert.ok(second.NextToken);
    const third = await list({ NextToken: second.NextToken, MaxResults: 2 });
    assert.deepEqual(third.Shards!.map((s) => s.ShardId), ALL.slice(4));
    assert.equal(third.NextToken, undefined);

    const wide = await list({ NextToken: first.NextToken, MaxResults: 10 });
    assert.deepEqual(wide.Shards!.map((s) => s.ShardId), ALL.slice(2), 'MaxResults may change from page to page');
    assert.equal(wide.NextToken, undefined);
    const exact = await list({ StreamName: 'ls', MaxResults: 5 });
    assert.equal(exact.Shards!.length, 5);
    assert.equal(exact.NextToken, undefined, 'no token when the page holds the last shard');
  });

  it('returns at most 1,000 shards a call, whatever MaxResults', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'ls-wide', ShardCount: 1001 }));
    clock.advance(CREATE_MS);
    const byDefault = await list({ StreamName: 'ls-wide' });
    assert.equal(byDefault.Shards!.length, 1000);
    assert.ok(byDefault.NextToken);
    const large = await list({ StreamName: 'ls-wide', MaxResults: 10_000 });
    assert.equal(large.Shards!.length, 1000);
    const rest = await list({ NextToken: large.NextToken, MaxResults: 10_000 });
    assert.deepEqual(rest.Shards!.map((s) => s.ShardId), [shardId(1000)]);
    assert.equal(rest.NextToken, undefined);
  });

  it('starts after ExclusiveStartShardId', async () => {
    assert.deepEqual(await ids({ StreamName: 'ls', ExclusiveStartShardId: shardId(2) }), ALL.slice(3));
    assert.deepEqual(await ids({ StreamName: 'ls', ExclusiveStartShardId: shardId(4) }), []);
    assert.deepEqual(await ids({ StreamName: 'ls', ExclusiveStartShardId: shardId(0), MaxResults: 1 }), [shardId(1)]);
  });

  it('applies every ShardFilter type on a stream that was never resharded', async () => {
    const filtered = (ShardFilter: ShardFilter) => ids({ StreamName: 'ls', ShardFilter });
    assert.deepEqual(await filtered({ Type: 'AFTER_SHARD_ID', ShardId: shardId(1) }), ALL.slice(2));
    assert.deepEqual(await filtered({ Type: 'AFTER_SHARD_ID', ShardId: shardId(4) }), []);
    assert.deepEqual(await filtered({ Type: 'AT_TRIM_HORIZON' }), ALL);
    assert.deepEqual(await filtered({ Type: 'FROM_TRIM_HORIZON' }), ALL);
    assert.deepEqual(await filtered({ Type: 'AT_LATEST' }), ALL);
    for (const Type of ['AT_TIMESTAMP', 'FROM_TIMESTAMP'] as const) {
      assert.deepEqual(await filtered({ Type, Timestamp: createdAt }), ALL, `${Type} at creation`);
      assert.deepEqual(await filtered({ Type, Timestamp: new Date(clock.now()) }), ALL, `${Type} now`);
      assert.deepEqual(await filtered({ Type, Timestamp: new Date(createdAt.getTime() - 86_400_000) }), ALL, `${Type} before creation`);
    }
  });

  it('keeps the filter across pages', async () => {
    const first = await list({ StreamName: 'ls', ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: shardId(0) }, MaxResults: 2 });
    assert.deepEqual(first.Shards!.map((s) => s.ShardId), [shardId(1), shardId(2)]);
    const second = await list({ NextToken: first.NextToken, MaxResults: 2 });
    assert.deepEqual(second.Shards!.map((s) => s.ShardId), [shardId(3), shardId(4)]);
    assert.equal(second.NextToken, undefined);

    const latest = await list({ StreamName: 'ls', ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 3 });
    assert.deepEqual(latest.Shards!.map((s) => s.ShardId), ALL.slice(0, 3));
    assert.deepEqual(await ids({ NextToken: latest.NextToken, MaxResults: 3 }), ALL.slice(3));
  });

  it('refuses a ShardFilter without the member its type needs', async () => {
    await expectError(
      list({ StreamName: 'ls', ShardFilter: { Type: 'AFTER_SHARD_ID' } }),
      'InvalidArgumentException',
      'ShardId must be provided for a ShardFilter of type AFTER_SHARD_ID.',
    );
    for (const Type of ['AT_TIMESTAMP', 'FROM_TIMESTAMP'] as const) {
      await expectError(
        list({ StreamName: 'ls', ShardFilter: { Type } }),
        'InvalidArgumentException',
        `Timestamp must be provided for a ShardFilter of type ${Type}.`,
      );
    }
  });

  it('refuses NextToken together with anything else that names the stream, the position or the filter', async () => {
    const { NextToken } = await list({ StreamName: 'ls', MaxResults: 1 });
    const cases: Array<[Partial<ListShardsCommandInput>, string]> = [
      [{ StreamName: 'ls' }, 'StreamName'],
      [{ StreamARN: arnOf('ls') }, 'StreamARN'],
      [{ ExclusiveStartShardId: shardId(0) }, 'ExclusiveStartShardId'],
      [{ StreamCreationTimestamp: createdAt }, 'StreamCreationTimestamp'],
      [{ ShardFilter: { Type: 'AT_LATEST' } }, 'ShardFilter'],
    ];
    for (const [extra, member] of cases) {
      await expectError(list({ NextToken, ...extra }), 'InvalidArgumentException', `NextToken and ${member} cannot be provided together.`);
    }
    await expectError(list({}), 'InvalidArgumentException', 'Either NextToken or StreamName should be provided.');
  });

  it('refuses a NextToken older than 300 seconds with ExpiredNextTokenException', async () => {
    const { NextToken } = await list({ StreamName: 'ls', MaxResults: 1 });
    clock.advance(300_000);
    assert.deepEqual(await ids({ NextToken, MaxResults: 1 }), [shardId(1)], 'exactly 300 s old is still valid');
    clock.advance(1);
    await expectError(list({ NextToken, MaxResults: 1 }), 'ExpiredNextTokenException', 'The timestamp encoded in NextToken has expired.');
    await expectError(list({ NextToken: 'not-a-token' }), 'InvalidArgumentException', 'Invalid NextToken.');
  });

  it('checks StreamCreationTimestamp against the stream', async () => {
    assert.deepEqual(await ids({ StreamName: 'ls', StreamCreationTimestamp: createdAt }), ALL);
    await expectError(
      list({ StreamName: 'ls', StreamCreationTimestamp: new Date(createdAt.getTime() - 1000) }),
      'ResourceNotFoundException',
      streamNotFound('ls'),
    );
  });

  it('accepts StreamARN instead of, or together with, StreamName; refuses a mismatching pair', async () => {
    assert.deepEqual(await ids({ StreamARN: arnOf('ls') }), ALL);
    assert.deepEqual(await ids({ StreamARN: arnOf('ls'), StreamName: 'ls' }), ALL);
    await expectError(
      list({ StreamARN: arnOf('ls'), StreamName: 'other' }),
      'InvalidArgumentException',
      `StreamARN ${arnOf('ls')} and StreamName other do not refer to the same stream.`,
    );
  });

  it('refuses a stream that does not exist, and one that is still being created', async () => {
    await expectError(list({ StreamName: 'ls-missing' }), 'ResourceNotFoundException', streamNotFound('ls-missing'));
    await client.send(new CreateStreamCommand({ StreamName: 'ls-new', ShardCount: 2 }));
    await expectError(
      list({ StreamName: 'ls-new' }),
      'ResourceInUseException',
      `Stream ls-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
    clock.advance(CREATE_MS);
    assert.deepEqual(await ids({ StreamName: 'ls-new' }), [shardId(0), shardId(1)]);
  });

  it('validates its input with AWS messages', async () => {
    const long = 's'.repeat(129);
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { StreamName: '', MaxResults: 0, ExclusiveStartShardId: '' },
        validationMessage(
          violation('0', 'maxResults', valueAtLeast(1)),
          violation('', 'exclusiveStartShardId', NAME_PATTERN),
          violation('', 'exclusiveStartShardId', lengthAtLeast(1)),
          violation('', 'streamName', NAME_PATTERN),
          violation('', 'streamName', lengthAtLeast(1)),
        ),
      ],
      [
        { StreamName: 'ls', MaxResults: 10_001, ShardFilter: { Type: 'OLDEST', ShardId: long } },
        validationMessage(
          violation('10001', 'maxResults', valueAtMost(10000)),
          violation('OLDEST', 'shardFilter.type', FILTER_TYPES),
          violation(long, 'shardFilter.shardId', 'Member must have length less than or equal to 128'),
        ),
      ],
      [{ StreamName: 'ls', ShardFilter: {} }, validationMessage(violation(null, 'shardFilter.type', NOT_NULL))],
      [{ NextToken: '' }, validationMessage(violation('', 'nextToken', lengthAtLeast(1)))],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new ListShardsCommand(input as never)), 'ValidationException', message);
    }
  });
});
