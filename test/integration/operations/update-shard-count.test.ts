import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type Shard,
  type UpdateShardCountCommandInput,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  expectError,
  streamNotFound,
  validationMessage,
  valueAtLeast,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { assertTiles, assertUniform, isOpen, listAll, readLineage, readToEnd } from '../../helpers/resharding.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const HOUR = 3_600_000;

describe('UpdateShardCount', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ shardLimit: 400, updateStreamDelayMs: 0 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const update = (input: Partial<UpdateShardCountCommandInput>) =>
    client.send(new UpdateShardCountCommand({ ScalingType: 'UNIFORM_SCALING', ...input } as UpdateShardCountCommandInput));
  const create = async (name: string, shards: number) => {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    clock.advance(1000);
  };

  /** Checks the lineage every closed shard reports at its end: one or two parents per child. */
  async function checkLineage(stream: string, shards: readonly Shard[]): Promise<void> {
    for (const s of shards.filter((x) => !isOpen(x))) {
      const end = await readToEnd(client, stream, s.ShardId!);
      for (const child of end.childShards) {
        assert.ok(child.ParentShards!.includes(s.ShardId!), `${child.ShardId} names ${s.ShardId} as a parent`);
        assert.ok(child.ParentShards!.length === 1 || child.ParentShards!.length === 2, `${child.ShardId} has one or two parents`);
        const listed = shards.find((x) => x.ShardId === child.ShardId)!;
        assert.deepEqual(child.ParentShards, [listed.ParentShardId, listed.AdjacentParentShardId].filter(Boolean));
      }
      if (end.childShards.length === 1) assert.equal(end.childShards[0]!.ParentShards!.length, 2, 'a lone child is a merge child');
    }
  }

  it('scales 4 → 8 → 5 → 3, each time to a uniform layout, children naming at most two parents', async () => {
    await create('usc', 4);
    const written: string[] = [];
    const put = async (tag: string) => {
      const records = Array.from({ length: 40 }, (_, i) => ({ PartitionKey: `${tag}-${i}`, Data: Buffer.from(`${tag}-${i}`) }));
      await client.send(new PutRecordsCommand({ StreamName: 'usc', Records: records }));
      written.push(...records.map((r) => r.PartitionKey));
    };
    await put('a');
    let current = 4;
    for (const target of [8, 5, 3]) {
      clock.advance(1000);
      const r = await update({ StreamName: 'usc', TargetShardCount: target });
      assert.deepEqual(
        { StreamName: r.StreamName, StreamARN: r.StreamARN, CurrentShardCount: r.CurrentShardCount, TargetShardCount: r.TargetShardCount },
        { StreamName: 'usc', StreamARN: arnOf('usc'), CurrentShardCount: current, TargetShardCount: target },
      );
      const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'usc' }))).StreamDescriptionSummary!;
      assert.equal(summary.StreamStatus, 'ACTIVE');
      assert.equal(summary.OpenShardCount, target);
      const shards = await listAll(client, { StreamName: 'usc' });
      assertUniform(shards.filter(isOpen), target);
      assertTiles(await listAll(client, { StreamName: 'usc', ShardFilter: { Type: 'AT_LATEST' } }), 'AT_LATEST');
      await checkLineage('usc', shards);
      await put(`after-${target}`);
      current = target;
    }
    // Every record is read once, following the lineage from the first shards.
    const first = (await listAll(client, { StreamName: 'usc', ShardFilter: { Type: 'AT_TRIM_HORIZON' } })).map((s) => s.ShardId!);
    const read = await readLineage(client, 'usc', first);
    assert.deepEqual(read.records.map((r) => Buffer.from(r.Data!).toString()).sort(), [...written].sort());
  });

  it('refuses to scale beyond double or below half of the open shards', async () => {
    await create('usc-bounds', 8);
    await expectError(
      update({ StreamName: 'usc-bounds', TargetShardCount: 17 }),
      'LimitExceededException',
      'UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 8, Target shard count: 17',
    );
    await expectError(
      update({ StreamName: 'usc-bounds', TargetShardCount: 3 }),
      'LimitExceededException',
      'UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 8, Target shard count: 3',
    );
    await update({ StreamName: 'usc-bounds', TargetShardCount: 4 });
    await update({ StreamName: 'usc-bounds', TargetShardCount: 8 });
    assertUniform((await listAll(client, { StreamName: 'usc-bounds' })).filter(isOpen), 8);
  });

  it('refuses more than 10,000 shards in a stream', async () => {
    await expectError(
      update({ StreamName: 'usc-bounds', TargetShardCount: 10_001 }),
      'LimitExceededException',
      'Target shard count or number of open shards cannot be greater than 10000. Current open shard count: 8, Target shard count: 10001',
    );
  });

  it("refuses to take the account past its shard quota, counting the shards the call adds", async () => {
    const q = await startTestServer({ shardLimit: 10, updateStreamDelayMs: 0 }, { clock });
    try {
      const c = q.client();
      await c.send(new CreateStreamCommand({ StreamName: 'q', ShardCount: 6 }));
      await expectError(
        c.send(new UpdateShardCountCommand({ StreamName: 'q', TargetShardCount: 11, ScalingType: 'UNIFORM_SCALING' })),
        'LimitExceededException',
        `This request would exceed the shard limit for the account ${ACCOUNT} in us-east-1. Current shard count for the account: 6. ` +
          'Limit: 10. Number of additional shards that would have resulted from this request: 5. Refer to the AWS Service Limits page ' +
          '(https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.',
      );
      await c.send(new UpdateShardCountCommand({ StreamName: 'q', TargetShardCount: 10, ScalingType: 'UNIFORM_SCALING' }));
      assert.equal(q.kinesis.openShardCount(), 10);
    } finally {
      await q.destroy();
    }
  });

  it('allows 10 calls per stream in a rolling 24 hours', async () => {
    await create('usc-daily', 2);
    const start = clock.now();
    for (let i = 0; i < 10; i++) {
      await update({ StreamName: 'usc-daily', TargetShardCount: i % 2 === 0 ? 3 : 2 });
      clock.advance(HOUR);
    }
    const message =
      `Stream usc-daily under account ${ACCOUNT} has already been scaled 10 times in the last 24 hours. ` +
      'UpdateShardCount can scale a stream at most 10 times per rolling 24-hour period.';
    await expectError(update({ StreamName: 'usc-daily', TargetShardCount: 3 }), 'LimitExceededException', message);
    clock.set(start + 24 * HOUR - 1);
    await expectError(update({ StreamName: 'usc-daily', TargetShardCount: 3 }), 'LimitExceededException', message);
    clock.set(start + 24 * HOUR);
    const r = await update({ StreamARN: arnOf('usc-daily'), TargetShardCount: 3 });
    assert.equal(r.CurrentShardCount, 2);
    await expectError(update({ StreamName: 'usc-daily', TargetShardCount: 2 }), 'LimitExceededException', message);
  });

  it('keeps the stream UPDATING for the update delay, refusing another scaling meanwhile', async () => {
    const delayed = await startTestServer({ createStreamDelayMs: 2000, updateStreamDelayMs: 2000 }, { clock });
    try {
      const c = delayed.client();
      await c.send(new CreateStreamCommand({ StreamName: 'slow', ShardCount: 2 }));
      clock.advance(2000);
      const r = await c.send(new UpdateShardCountCommand({ StreamName: 'slow', TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' }));
      assert.equal(r.CurrentShardCount, 2);
      const summary = async () => (await c.send(new DescribeStreamSummaryCommand({ StreamName: 'slow' }))).StreamDescriptionSummary!;
      assert.equal((await summary()).StreamStatus, 'UPDATING');
      assert.equal((await summary()).OpenShardCount, 2);
      await expectError(
        c.send(new UpdateShardCountCommand({ StreamName: 'slow', TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' })),
        'ResourceInUseException',
        `Stream slow under account ${ACCOUNT} not ACTIVE, instead in state UPDATING`,
      );
      clock.advance(2000);
      assert.equal((await summary()).StreamStatus, 'ACTIVE');
      assert.equal((await summary()).OpenShardCount, 3);
      assertUniform((await listAll(c, { StreamName: 'slow' })).filter(isOpen), 3);
    } finally {
      await delayed.destroy();
    }
  });

  it('refuses ON_DEMAND streams, unknown streams and malformed requests', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'usc-od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    await expectError(
      update({ StreamName: 'usc-od', TargetShardCount: 5 }),
      'ValidationException',
      `Request is invalid. Stream usc-od under account ${ACCOUNT} is in On-Demand mode.`,
    );
    await expectError(update({ StreamName: 'nope', TargetShardCount: 2 }), 'ResourceNotFoundException', streamNotFound('nope'));
    await expectError(
      update({ StreamName: 'usc-bounds', TargetShardCount: 0 }),
      'ValidationException',
      validationMessage(violation('0', 'targetShardCount', valueAtLeast(1))),
    );
    await expectError(
      client.send(
        new UpdateShardCountCommand({
          StreamName: 'usc-bounds',
          TargetShardCount: 4,
          ScalingType: 'OTHER' as UpdateShardCountCommandInput['ScalingType'],
        }),
      ),
      'ValidationException',
      validationMessage(violation('OTHER', 'scalingType', 'Member must satisfy enum value set: [UNIFORM_SCALING]')),
    );
  });
});
