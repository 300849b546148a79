import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeLimitsCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ListStreamConsumersCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { defaultConfig, resolveConfig } from '../../src/settings/index.js';
import { ManualClock } from '../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  createStream,
  expectError,
  getIterator,
  HASH_KEY_MAX,
  MiB,
  shardId,
  texts,
  wholeSecond,
} from '../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SHARD0 = '0';
const SHARD1 = HASH_KEY_MAX.toString();

/** An entry routed by ExplicitHashKey, with `size` bytes of data and the 1-byte partition key "k". */
function entry(hashKey: string, data: string | number): PutRecordsRequestEntry {
  return {
    PartitionKey: 'k',
    ExplicitHashKey: hashKey,
    Data: typeof data === 'string' ? Buffer.from(data) : Buffer.alloc(data - 1, 0x61),
  };
}

function writeThrottled(stream: string, shard: number): string {
  return `Rate exceeded for shard ${shardId(shard)} in stream ${stream} under account ${ACCOUNT}.`;
}

function readThrottled(stream: string, shard: number): string {
  return `Rate exceeded for Shard - ${ACCOUNT}/${stream}/${shardId(shard)}`;
}

describe('limits', () => {
  describe('per-shard writes', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = new ManualClock(wholeSecond());
    before(async () => {
      server = await startTestServer({ limits: 'on', fsync: 'never' }, { clock });
      client = server.client();
    });
    after(() => server.destroy());

    const putRecords = (stream: string, Records: PutRecordsRequestEntry[]) =>
      client.send(new PutRecordsCommand({ StreamName: stream, Records }));

    /** Every record of a shard, a second of clock time before each read so that reads stay in their limits. */
    async function readAll(stream: string, shard: number): Promise<string[]> {
      clock.advance(1000);
      let iterator = await getIterator(client, stream, shardId(shard), 'TRIM_HORIZON');
      const out: string[] = [];
      for (;;) {
        clock.advance(1000);
        const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
        out.push(...texts(r.Records!));
        iterator = r.NextShardIterator!;
        if (r.Records!.length === 0 && r.MillisBehindLatest === 0) return out;
      }
    }

    it('takes a burst of 1,000 records per shard, then refuses the excess entry by entry and writes the rest', async () => {
      await createStream(client, 'lim-w', 2);
      const batch = (hash: string, from: number, n: number) => Array.from({ length: n }, (_, i) => entry(hash, `r${from + i}`));
      assert.equal((await putRecords('lim-w', batch(SHARD0, 0, 500))).FailedRecordCount, 0);
      assert.equal((await putRecords('lim-w', batch(SHARD0, 500, 500))).FailedRecordCount, 0, 'one second of records at once');

      // Shard 0 is spent, shard 1 is not: entries alternate between them.
      const mixed = Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? entry(SHARD0, `x${i}`) : entry(SHARD1, `y${i}`)));
      const r = await putRecords('lim-w', mixed);
      assert.equal(r.FailedRecordCount, 250);
      assert.equal(r.Records!.length, 500);
      r.Records!.forEach((res, i) => {
        if (i % 2 === 0) {
          assert.deepEqual(
            { ...res },
            { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: writeThrottled('lim-w', 0) },
            `entry ${i}`,
          );
        } else {
          assert.equal(res.ShardId, shardId(1), `entry ${i}`);
          assert.match(res.SequenceNumber!, /^\d{56}$/);
          assert.equal(res.ErrorCode, undefined);
        }
      });

      // 100 ms later shard 0 has 100 records of room: the first 100 entries go in, in order.
      clock.advance(100);
      const later = await putRecords('lim-w', batch(SHARD0, 1000, 150));
      assert.equal(later.FailedRecordCount, 50);
      assert.ok(later.Records!.slice(0, 100).every((e) => e.SequenceNumber && !e.ErrorCode));
      assert.ok(later.Records!.slice(100).every((e) => e.ErrorCode === 'ProvisionedThroughputExceededException' && !e.SequenceNumber));

      const shard0 = await readAll('lim-w', 0);
      assert.deepEqual(shard0, Array.from({ length: 1100 }, (_, i) => `r${i}`), 'shard 0 holds exactly the admitted records');
      const shard1 = await readAll('lim-w', 1);
      assert.deepEqual(shard1, Array.from({ length: 250 }, (_, i) => `y${2 * i + 1}`));
    });

    it('refuses a whole PutRecord over the limit and writes nothing for it', async () => {
      await createStream(client, 'lim-pr', 1);
      clock.advance(1000);
      for (let i = 0; i < 2; i++) {
        await putRecords('lim-pr', Array.from({ length: 500 }, (_, j) => entry(SHARD0, `p${i * 500 + j}`)));
      }
      await expectError(
        client.send(new PutRecordCommand({ StreamName: 'lim-pr', PartitionKey: 'k', Data: Buffer.from('over') })),
        'ProvisionedThroughputExceededException',
        writeThrottled('lim-pr', 0),
      );
      clock.advance(1);
      const ok = await client.send(new PutRecordCommand({ StreamName: 'lim-pr', PartitionKey: 'k', Data: Buffer.from('in time') }));
      assert.equal(ok.ShardId, shardId(0));
      const all = await readAll('lim-pr', 0);
      assert.equal(all.length, 1001);
      assert.equal(all.at(-1), 'in time');
      assert.ok(!all.includes('over'));
    });

    it('takes a 10 MiB burst of bytes per shard, then 1 MiB a second', async () => {
      await createStream(client, 'lim-b', 1);
      const half = MiB / 2;
      for (let i = 0; i < 2; i++) {
        const r = await putRecords('lim-b', Array.from({ length: 10 }, () => entry(SHARD0, half)));
        assert.equal(r.FailedRecordCount, 0, `batch ${i}`);
      }
      const over = await putRecords('lim-b', [entry(SHARD0, half), entry(SHARD0, 'small')]);
      assert.equal(over.FailedRecordCount, 2, 'the shard has no bytes left, not even for a small record');
      clock.advance(499);
      assert.equal((await putRecords('lim-b', [entry(SHARD0, half)])).FailedRecordCount, 1, '499 ms repay less than 512 KiB');
      clock.advance(1);
      assert.equal((await putRecords('lim-b', [entry(SHARD0, half)])).FailedRecordCount, 0, '500 ms repay 512 KiB');
      assert.equal((await putRecords('lim-b', [entry(SHARD0, 1)])).FailedRecordCount, 1);
    });
  });

  describe('records larger than the write burst', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = new ManualClock(wholeSecond());
    before(async () => {
      server = await startTestServer({ limits: 'on', fsync: 'never', shardWriteBurstBytes: 2 * MiB }, { clock });
      client = server.client();
    });
    after(() => server.destroy());

    it('are taken when the bucket is full, and the excess is repaid at 1 MiB/s', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'lim-big', ShardCount: 1, MaxRecordSizeInKiB: 4096 }));
      const put = (size: number) => client.send(new PutRecordsCommand({ StreamName: 'lim-big', Records: [entry(SHARD0, size)] }));
      assert.equal((await put(3 * MiB)).FailedRecordCount, 0, '3 MiB goes into a full 2 MiB bucket');
      assert.equal((await put(1)).FailedRecordCount, 1);
      clock.advance(1000);
      assert.equal((await put(1)).FailedRecordCount, 1, 'after 1 s the debt is repaid but nothing is saved yet');
      clock.advance(1);
      assert.equal((await put(1)).FailedRecordCount, 0);
    });
  });

  describe('per-shard reads', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = new ManualClock(wholeSecond());
    before(async () => {
      server = await startTestServer({ limits: 'on', fsync: 'never' }, { clock });
      client = server.client();
    });
    after(() => server.destroy());

    const getRecords = (ShardIterator: string) => client.send(new GetRecordsCommand({ ShardIterator }));

    it('allows 5 GetRecords calls a second per shard, at once, then refuses them', async () => {
      await createStream(client, 'lim-r', 2);
      await client.send(new PutRecordsCommand({ StreamName: 'lim-r', Records: [entry(SHARD0, 'a'), entry(SHARD1, 'b')] }));
      let it0 = await getIterator(client, 'lim-r', shardId(0), 'TRIM_HORIZON');
      for (let i = 0; i < 5; i++) it0 = (await getRecords(it0)).NextShardIterator!;
      await expectError(getRecords(it0), 'ProvisionedThroughputExceededException', readThrottled('lim-r', 0));

      const it1 = await getIterator(client, 'lim-r', shardId(1), 'TRIM_HORIZON');
      assert.deepEqual(texts((await getRecords(it1)).Records!), ['b'], 'the other shard has its own allowance');

      clock.advance(199);
      await expectError(getRecords(it0), 'ProvisionedThroughputExceededException');
      clock.advance(1);
      it0 = (await getRecords(it0)).NextShardIterator!;
      await expectError(getRecords(it0), 'ProvisionedThroughputExceededException');
    });

    it('returns every record available up to Limit after a burst while the shard is within its read budget', async () => {
      await createStream(client, 'lim-burst', 1);
      await client.send(new PutRecordsCommand({ StreamName: 'lim-burst', Records: [entry(SHARD0, 'a')] }));
      const small = await client.send(
        new GetRecordsCommand({ ShardIterator: await getIterator(client, 'lim-burst', shardId(0), 'TRIM_HORIZON') }),
      );
      assert.deepEqual(texts(small.Records!), ['a']);
      for (let call = 0; call < 4; call++) {
        const r = await client.send(
          new PutRecordsCommand({ StreamName: 'lim-burst', Records: Array.from({ length: 4 }, () => entry(SHARD0, 40_000)) }),
        );
        assert.equal(r.FailedRecordCount, 0);
      }
      // 10 records of 40 kB are 0.2 s of the 2 MiB/s read rate: the next read waits that long.
      clock.advance(1000);
      const first = await client.send(new GetRecordsCommand({ ShardIterator: small.NextShardIterator, Limit: 10 }));
      assert.equal(first.Records!.length, 10);
      assert.ok(first.MillisBehindLatest! > 0);
      clock.advance(1000);
      const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator, Limit: 10 }));
      assert.equal(second.Records!.length, 6);
      assert.equal(second.MillisBehindLatest, 0);
    });

    it('charges the bytes read: after 3 MiB the shard refuses reads for 1.5 s', async () => {
      await createStream(client, 'lim-rb', 1);
      await client.send(new PutRecordsCommand({ StreamName: 'lim-rb', Records: [entry(SHARD0, MiB), entry(SHARD0, MiB), entry(SHARD0, MiB)] }));
      const first = await getRecords(await getIterator(client, 'lim-rb', shardId(0), 'TRIM_HORIZON'));
      assert.equal(first.Records!.length, 3);
      clock.advance(1499);
      await expectError(getRecords(first.NextShardIterator!), 'ProvisionedThroughputExceededException', readThrottled('lim-rb', 0));
      clock.advance(1);
      const second = await getRecords(first.NextShardIterator!);
      assert.equal(second.Records!.length, 0);
      assert.equal(second.MillisBehindLatest, 0);
    });

    it('blocks the shard for 5 s after a 10 MiB response', async () => {
      await createStream(client, 'lim-r10', 1);
      const put = (n: number) =>
        client.send(new PutRecordsCommand({ StreamName: 'lim-r10', Records: Array.from({ length: n }, () => entry(SHARD0, MiB)) }));
      assert.equal((await put(5)).FailedRecordCount, 0);
      assert.equal((await put(5)).FailedRecordCount, 0);
      clock.advance(1000);
      assert.equal((await put(1)).FailedRecordCount, 0);
      const iterator = await getIterator(client, 'lim-r10', shardId(0), 'TRIM_HORIZON');
      const big = await getRecords(iterator);
      assert.equal(big.Records!.length, 10, 'one call returns at most 10 MiB');
      clock.advance(4999);
      await expectError(getRecords(big.NextShardIterator!), 'ProvisionedThroughputExceededException', readThrottled('lim-r10', 0));
      clock.advance(1);
      assert.equal((await getRecords(big.NextShardIterator!)).Records!.length, 1);
    });

    it('allows 5 GetShardIterator calls a second per shard', async () => {
      await createStream(client, 'lim-gsi', 1);
      for (let i = 0; i < 5; i++) await getIterator(client, 'lim-gsi', shardId(0), 'LATEST');
      await expectError(
        client.send(new GetShardIteratorCommand({ StreamName: 'lim-gsi', ShardId: shardId(0), ShardIteratorType: 'LATEST' })),
        'ProvisionedThroughputExceededException',
        `Rate exceeded for shard ${shardId(0)} in stream lim-gsi under account ${ACCOUNT}.`,
      );
      clock.advance(200);
      await getIterator(client, 'lim-gsi', shardId(0), 'LATEST');
    });

    it('answers a malformed GetShardIterator with its validation error even when the shard is throttled', async () => {
      await createStream(client, 'lim-gsi-bad', 1);
      for (let i = 0; i < 5; i++) await getIterator(client, 'lim-gsi-bad', shardId(0), 'LATEST');
      const throttled = () => client.send(new GetShardIteratorCommand({ StreamName: 'lim-gsi-bad', ShardId: shardId(0), ShardIteratorType: 'LATEST' }));
      await expectError(throttled(), 'ProvisionedThroughputExceededException');
      await expectError(
        client.send(new GetShardIteratorCommand({ StreamName: 'lim-gsi-bad', ShardId: shardId(0), ShardIteratorType: 'AT_SEQUENCE_NUMBER' })),
        'InvalidArgumentException',
        'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
          '(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.',
      );
      await expectError(
        client.send(new GetShardIteratorCommand({ StreamName: 'lim-gsi-bad', ShardId: shardId(0), ShardIteratorType: 'AT_TIMESTAMP' })),
        'InvalidArgumentException',
        'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
      );
      await expectError(throttled(), 'ProvisionedThroughputExceededException');
    });
  });

  describe('control-plane call rates', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = new ManualClock(wholeSecond());
    before(async () => {
      server = await startTestServer({ limits: 'on', controlPlaneRates: 'ListShards=2' }, { clock });
      client = server.client();
      await createStream(client, 'lim-cp', 1);
      await createStream(client, 'lim-cp2', 1);
    });
    after(() => server.destroy());

    it('answers DescribeStream over 10 calls a second with LimitExceededException naming the stream', async () => {
      for (let i = 0; i < 10; i++) await client.send(new DescribeStreamCommand({ StreamName: 'lim-cp' }));
      await expectError(
        client.send(new DescribeStreamCommand({ StreamName: 'lim-cp' })),
        'LimitExceededException',
        `Rate exceeded for stream lim-cp under account ${ACCOUNT}.`,
      );
      await expectError(client.send(new DescribeStreamCommand({ StreamName: 'lim-cp2' })), 'LimitExceededException', /lim-cp2/);
      clock.advance(100);
      await client.send(new DescribeStreamCommand({ StreamName: 'lim-cp' }));
      await expectError(client.send(new DescribeStreamCommand({ StreamName: 'lim-cp' })), 'LimitExceededException');
    });

    it('answers account-wide operations over their rate naming the account', async () => {
      for (let i = 0; i < 5; i++) await client.send(new ListStreamsCommand({}));
      await expectError(client.send(new ListStreamsCommand({})), 'LimitExceededException', `Rate exceeded for account ${ACCOUNT}.`);
      await client.send(new DescribeLimitsCommand({}));
      await expectError(client.send(new DescribeLimitsCommand({})), 'LimitExceededException', `Rate exceeded for account ${ACCOUNT}.`);
      clock.advance(1000);
      await client.send(new DescribeLimitsCommand({}));
      await client.send(new ListStreamsCommand({}));
    });

    it('counts per-stream operations per stream, at the rate the serve option sets', async () => {
      for (let i = 0; i < 2; i++) await client.send(new ListShardsCommand({ StreamName: 'lim-cp' }));
      await expectError(
        client.send(new ListShardsCommand({ StreamName: 'lim-cp' })),
        'LimitExceededException',
        `Rate exceeded for stream lim-cp under account ${ACCOUNT}.`,
      );
      await client.send(new ListShardsCommand({ StreamName: 'lim-cp2' }));
    });
  });

  describe('argument errors before call budgets', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = new ManualClock(wholeSecond());
    before(async () => {
      server = await startTestServer(
        { limits: 'on', fsync: 'never', controlPlaneRates: 'CreateStream=1,ListShards=1,ListStreamConsumers=1' },
        { clock },
      );
      client = server.client();
    });
    after(() => server.destroy());

    it('answers a malformed CreateStream with its own error when the account is over the rate', async () => {
      await createStream(client, 'arg-cs', 1);
      await expectError(createStream(client, 'arg-cs2', 1), 'LimitExceededException', `Rate exceeded for stream arg-cs2 under account ${ACCOUNT}.`);
      await expectError(
        client.send(new CreateStreamCommand({ StreamName: 'arg-cs3' })),
        'InvalidArgumentException',
        'ShardCount is required for a stream in PROVISIONED mode.',
      );
      await expectError(createStream(client, 'arg-cs2', 1), 'LimitExceededException');
    });

    it('answers malformed ListStreams, ListShards and ListStreamConsumers with their own errors when over the rate', async () => {
      clock.advance(1000);
      await createStream(client, 'arg-ls', 1);
      for (let i = 0; i < 5; i++) await client.send(new ListStreamsCommand({}));
      await expectError(client.send(new ListStreamsCommand({})), 'LimitExceededException');
      await expectError(
        client.send(new ListStreamsCommand({ NextToken: 'x', ExclusiveStartStreamName: 'a' })),
        'InvalidArgumentException',
        'NextToken and ExclusiveStartStreamName cannot be provided together.',
      );

      await client.send(new ListShardsCommand({ StreamName: 'arg-ls' }));
      await expectError(client.send(new ListShardsCommand({ StreamName: 'arg-ls' })), 'LimitExceededException');
      await expectError(
        client.send(new ListShardsCommand({ StreamName: 'arg-ls', ShardFilter: { Type: 'AFTER_SHARD_ID' } })),
        'InvalidArgumentException',
        'ShardId must be provided for a ShardFilter of type AFTER_SHARD_ID.',
      );
      await expectError(
        client.send(new ListShardsCommand({ StreamName: 'arg-ls', NextToken: 'x' })),
        'InvalidArgumentException',
        'NextToken and StreamName cannot be provided together.',
      );

      const StreamARN = arnOf('arg-ls');
      await client.send(new ListStreamConsumersCommand({ StreamARN }));
      await expectError(client.send(new ListStreamConsumersCommand({ StreamARN })), 'LimitExceededException');
      await expectError(
        client.send(new ListStreamConsumersCommand({ StreamARN, NextToken: 'x', StreamCreationTimestamp: new Date() })),
        'InvalidArgumentException',
        'NextToken and StreamCreationTimestamp cannot be provided together.',
      );
    });

    it('answers a malformed GetRecords or PutRecord on a throttled shard with its own error', async () => {
      clock.advance(1000);
      await createStream(client, 'arg-dp', 1);
      await client.send(new PutRecordsCommand({ StreamName: 'arg-dp', Records: [entry(SHARD0, MiB)] }));
      const first = await client.send(
        new GetRecordsCommand({ ShardIterator: await getIterator(client, 'arg-dp', shardId(0), 'TRIM_HORIZON') }),
      );
      assert.equal(first.Records!.length, 1);
      // 1 MiB read: the shard refuses reads for 0.5 s.
      await expectError(client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator })), 'ProvisionedThroughputExceededException');
      await expectError(client.send(new GetRecordsCommand({ ShardIterator: 'AAAA' + first.NextShardIterator!.slice(4) })), 'InvalidArgumentException', 'Invalid ShardIterator.');

      // 10 MiB written at once: the shard refuses writes for a second.
      for (let i = 0; i < 9; i++) await client.send(new PutRecordsCommand({ StreamName: 'arg-dp', Records: [entry(SHARD0, MiB)] }));
      await expectError(
        client.send(new PutRecordCommand({ StreamName: 'arg-dp', PartitionKey: 'k', ExplicitHashKey: SHARD0, Data: Buffer.from('x') })),
        'ProvisionedThroughputExceededException',
      );
      await expectError(
        client.send(new PutRecordCommand({ StreamName: 'arg-dp', PartitionKey: 'k', ExplicitHashKey: SHARD0, Data: Buffer.alloc(MiB + 1) })),
        'ValidationException',
      );
    });
  });

  describe('quotas', () => {
    let server: TestServer;
    let client: KinesisClient;
    before(async () => {
      server = await startTestServer({ limits: 'on', shardLimit: 20, onDemandStreamLimit: 2 });
      client = server.client();
    });
    after(() => server.destroy());

    it('keeps the on-demand stream quota set by the serve option, and DescribeLimits reports it', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'q-od1', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
      await client.send(new CreateStreamCommand({ StreamName: 'q-od2', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
      await createStream(client, 'q-p', 3);
      await expectError(
        client.send(new CreateStreamCommand({ StreamName: 'q-od3', StreamModeDetails: { StreamMode: 'ON_DEMAND' } })),
        'LimitExceededException',
        `This request would exceed the on-demand stream limit for the account ${ACCOUNT}. ` +
          'Current on-demand stream count for the account: 2. Limit: 2.',
      );
      const limits = await client.send(new DescribeLimitsCommand({}));
      assert.deepEqual(
        { ShardLimit: limits.ShardLimit, OpenShardCount: limits.OpenShardCount, OnDemandStreamCount: limits.OnDemandStreamCount, OnDemandStreamCountLimit: limits.OnDemandStreamCountLimit },
        { ShardLimit: 20, OpenShardCount: 11, OnDemandStreamCount: 2, OnDemandStreamCountLimit: 2 },
      );
      await expectError(createStream(client, 'q-p2', 10), 'LimitExceededException', /Current shard count for the account: 11\. Limit: 20\./);
    });
  });

  describe('limits off', () => {
    let server: TestServer;
    let client: KinesisClient;
    const clock = new ManualClock(wholeSecond());
    before(async () => {
      server = await startTestServer({ limits: 'off', fsync: 'never' }, { clock });
      client = server.client();
    });
    after(() => server.destroy());

    it('never throttles, however fast the frozen clock makes the calls', async () => {
      await createStream(client, 'off', 1);
      for (let i = 0; i < 6; i++) {
        const r = await client.send(
          new PutRecordsCommand({ StreamName: 'off', Records: Array.from({ length: 500 }, (_, j) => entry(SHARD0, `o${i * 500 + j}`)) }),
        );
        assert.equal(r.FailedRecordCount, 0, `batch ${i}`);
      }
      const big = await client.send(
        new PutRecordsCommand({ StreamName: 'off', Records: Array.from({ length: 10 }, () => entry(SHARD0, MiB)) }),
      );
      assert.equal(big.FailedRecordCount, 0);
      for (let i = 0; i < 20; i++) await client.send(new PutRecordCommand({ StreamName: 'off', PartitionKey: 'k', Data: Buffer.from('x') }));
      let iterator = '';
      for (let i = 0; i < 20; i++) iterator = await getIterator(client, 'off', shardId(0), 'TRIM_HORIZON');
      let read = 0;
      for (let i = 0; i < 20; i++) {
        const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
        read += r.Records!.length;
        iterator = r.NextShardIterator!;
      }
      assert.equal(read, 3000 + 10 + 20);
      for (let i = 0; i < 30; i++) await client.send(new DescribeStreamCommand({ StreamName: 'off' }));
      for (let i = 0; i < 10; i++) await client.send(new DescribeLimitsCommand({}));
    });
  });

  describe('settings', () => {
    it('are on by default and TRIBUTARY_LIMITS=off turns them all off', () => {
      assert.equal(defaultConfig.limits, 'on');
      assert.equal(resolveConfig({}, {}).limits, 'on');
      assert.equal(resolveConfig({}, { TRIBUTARY_LIMITS: 'off' }).limits, 'off');
      assert.equal(resolveConfig({ limits: 'on' }, { TRIBUTARY_LIMITS: 'off' }).limits, 'on', 'a flag wins over the environment');
      assert.throws(() => resolveConfig({ limits: 'maybe' }, {}), /--limits: must be on or off, not maybe/);
    });

    it('default to the AWS figures', () => {
      const c = resolveConfig({}, {});
      assert.deepEqual(
        [c.shardWriteBytesPerSecond, c.shardWriteRecordsPerSecond, c.shardWriteBurstBytes, c.shardReadBytesPerSecond, c.shardReadCallsPerSecond, c.shardIteratorCallsPerSecond, c.onDemandStreamLimit, c.shardLimit],
        [MiB, 1000, 10 * MiB, 2 * MiB, 5, 5, 50, 200],
      );
      assert.equal(resolveConfig({}, { TRIBUTARY_CONTROL_PLANE_RATES: 'DescribeStream=20' }).controlPlaneRates, 'DescribeStream=20');
      assert.throws(() => resolveConfig({}, { TRIBUTARY_CONTROL_PLANE_RATES: 'Nope=1' }), /Nope is not a rate-limited operation/);
    });
  });
});
