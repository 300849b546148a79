import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type Shard,
  SplitShardCommand,
  UpdateShardCountCommand,
  type _Record,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
} from '@aws-sdk/client-kinesis';
import { ACCOUNT, getIterator } from '../../helpers/kinesis.js';
import { assertTiles, isOpen, listAll } from '../../helpers/resharding.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { scale } from '../scale.js';

const STREAMS = ['race-a', 'race-b'];
const RUN_MS = scale(8_000, 180_000);
const WRITERS_PER_STREAM = 4;

// The closed list of answers AWS could give each operation while other clients create, delete,
// reshard and write the same stream.
const S = `race-[ab]`;
const NOT_FOUND = new RegExp(`^Stream ${S} under account ${ACCOUNT} not found\\.$`);
const NOT_ACTIVE = new RegExp(`^Stream ${S} under account ${ACCOUNT} not ACTIVE, instead in state (CREATING|UPDATING|DELETING)$`);
const EXISTS = new RegExp(`^Stream ${S} under account ${ACCOUNT} already exists\\.$`);
const SHARD_GONE = new RegExp(`^Shard shardId-\\d{12} in stream ${S} under account ${ACCOUNT} does not exist$`);
const SHARD_MISSING = new RegExp(`^Could not find shard shardId-\\d{12} in stream ${S} under account ${ACCOUNT}\\.$`);
const ALREADY_RESHARDED = new RegExp(
  `^Shard shardId-\\d{12} in stream ${S} under account ${ACCOUNT} has already been merged or split, and thus is not eligible for merging or splitting\\.$`,
);
const NOT_ADJACENT = new RegExp(
  `^Shards shardId-\\d{12} and shardId-\\d{12} in stream ${S} under account ${ACCOUNT} are not an adjacent pair of shards eligible for merging$`,
);
const SPLIT_KEY = new RegExp(`^NewStartingHashKey \\d+ used in SplitShard\\(\\) on shard shardId-\\d{12} in stream ${S} under account ${ACCOUNT} is not both`);
const SCALED_TOO_OFTEN = /^Stream race-[ab] under account \d{12} has already been scaled \d+ times in the last 24 hours\./;
const SHARD_QUOTA = /^This request would exceed the shard limit for the account /;
const SCALE_BOUNDS = /^UpdateShardCount cannot scale (down below half|up over double) your current open shard count\. Current open shard count: \d+, Target shard count: \d+$/;

type Allowed = ReadonlyArray<readonly [string, RegExp]>;
const ALLOWED: Record<string, Allowed> = {
  CreateStream: [['ResourceInUseException', EXISTS], ['LimitExceededException', SHARD_QUOTA]],
  DeleteStream: [['ResourceNotFoundException', NOT_FOUND], ['ResourceInUseException', NOT_ACTIVE]],
  ListShards: [['ResourceNotFoundException', NOT_FOUND], ['ResourceInUseException', NOT_ACTIVE]],
  SplitShard: [
    ['ResourceNotFoundException', NOT_FOUND],
    ['ResourceNotFoundException', SHARD_MISSING],
    ['ResourceInUseException', NOT_ACTIVE],
    ['InvalidArgumentException', ALREADY_RESHARDED],
    ['InvalidArgumentException', SPLIT_KEY],
    ['LimitExceededException', SHARD_QUOTA],
  ],
  MergeShards: [
    ['ResourceNotFoundException', NOT_FOUND],
    ['ResourceNotFoundException', SHARD_MISSING],
    ['ResourceInUseException', NOT_ACTIVE],
    ['InvalidArgumentException', ALREADY_RESHARDED],
    ['InvalidArgumentException', NOT_ADJACENT],
  ],
  UpdateShardCount: [
    ['ResourceNotFoundException', NOT_FOUND],
    ['ResourceInUseException', NOT_ACTIVE],
    ['LimitExceededException', SCALED_TOO_OFTEN],
    ['LimitExceededException', SCALE_BOUNDS],
    ['LimitExceededException', SHARD_QUOTA],
  ],
  GetShardIterator: [
    ['ResourceNotFoundException', NOT_FOUND],
    ['ResourceNotFoundException', SHARD_GONE],
    ['ResourceInUseException', NOT_ACTIVE],
  ],
  GetRecords: [
    ['ResourceNotFoundException', NOT_FOUND],
    ['ResourceNotFoundException', SHARD_GONE],
  ],
  PutRecord: [['ResourceNotFoundException', NOT_FOUND], ['ResourceInUseException', NOT_ACTIVE]],
  PutRecords: [['ResourceNotFoundException', NOT_FOUND], ['ResourceInUseException', NOT_ACTIVE]],
};

interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number };
}

/** What each operation answered, by outcome; answers outside the closed list are kept apart. */
class Answers {
  readonly counts = new Map<string, number>();
  readonly unexpected: string[] = [];

  async call<T>(op: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const out = await run();
      this.count(`${op}: success`);
      return out;
    } catch (e) {
      const err = e as SdkError;
      const status = err.$metadata?.httpStatusCode;
      const ok = status === 400 && (ALLOWED[op] ?? []).some(([type, message]) => err.name === type && message.test(err.message));
      if (ok) this.count(`${op}: ${err.name}`);
      else this.unexpected.push(`${op} → ${status} ${err.name}: ${err.message}`);
      return undefined;
    }
  }

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

/** A put the client saw acknowledged, or refused. */
interface Put {
  id: string;
  stream: string;
  sentAt: number;
  doneAt: number;
  ack?: { shardId: string; sequenceNumber: string };
}

/** A CreateStream that succeeded: the incarnation it began. */
interface Creation {
  sentAt: number;
  doneAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

describe('concurrent create, delete, reshard and write of the same streams', { timeout: RUN_MS + 300_000 }, () => {
  let server: TestServer;
  let clients: KinesisClient[];
  const answers = new Answers();
  const puts: Put[] = [];
  const creations = new Map<string, Creation[]>(STREAMS.map((s) => [s, []]));
  let seq = 0;

  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 30, deleteStreamDelayMs: 30, updateStreamDelayMs: 30 });
    clients = Array.from({ length: 8 }, () => server.client());
  });
  after(() => server.destroy());

  it('every answer is one AWS could give, and the final state is consistent', async (t) => {
    const deadline = Date.now() + RUN_MS;
    const running = () => Date.now() < deadline;
    const actors: Promise<void>[] = [];

    for (const stream of STREAMS) {
      actors.push(
        (async () => {
          while (running()) {
            const client = pick(clients);
            const sentAt = Date.now();
            const ok = await answers.call('CreateStream', () => client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 })));
            if (ok) creations.get(stream)!.push({ sentAt, doneAt: Date.now() });
            await sleep(20 + Math.random() * 60);
          }
        })(),
        (async () => {
          // Deletions stop a little before the end, so that the last incarnations hold records to check.
          while (Date.now() < deadline - 2_000) {
            await sleep(500 + Math.random() * 1_500);
            if (Date.now() >= deadline - 2_000) break;
            await answers.call('DeleteStream', () => pick(clients).send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true })));
          }
        })(),
      );
      for (let r = 0; r < 2; r++) {
        actors.push(
          (async () => {
            while (running()) {
              await reshardOnce(pick(clients), stream);
              await sleep(10 + Math.random() * 80);
            }
          })(),
        );
      }
      actors.push(
        (async () => {
          while (running()) {
            await readOnce(pick(clients), stream);
            await sleep(Math.random() * 20);
          }
        })(),
      );
      for (let w = 0; w < WRITERS_PER_STREAM; w++) {
        actors.push(
          (async () => {
            while (running()) {
              await writeOnce(pick(clients), stream);
              await sleep(Math.random() * 10);
            }
          })(),
        );
      }
    }
    await Promise.all(actors);

    const summary = [...answers.counts].sort().map(([k, n]) => `${k} ${n}`).join('; ');
    t.diagnostic(`answers: ${summary}`);
    t.diagnostic(`puts: ${puts.length} sent, ${puts.filter((p) => p.ack).length} acknowledged; creations: ${STREAMS.map((s) => creations.get(s)!.length).join(', ')}`);
    assert.deepEqual(answers.unexpected.slice(0, 20), [], 'no answer outside the closed list (no 500, no unknown error)');
    assert.ok((answers.counts.get('PutRecord: success') ?? 0) > 0, 'some writes were acknowledged');

    // Quiesce: every stream ends ACTIVE or gone.
    const client = clients[0]!;
    const final = new Map<string, 'ACTIVE' | 'gone'>();
    for (const stream of STREAMS) {
      let status = '';
      for (let i = 0; i < 400; i++) {
        try {
          status = (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamStatus!;
        } catch (err) {
          assert.equal((err as Error).name, 'ResourceNotFoundException');
          status = 'gone';
        }
        if (status === 'ACTIVE' || status === 'gone') break;
        await sleep(25);
      }
      assert.ok(status === 'ACTIVE' || status === 'gone', `${stream} settles ACTIVE or gone, not ${status}`);
      final.set(stream, status as 'ACTIVE' | 'gone');
    }
    const listed = (await client.send(new ListStreamsCommand({}))).StreamNames ?? [];
    for (const stream of STREAMS) assert.equal(listed.includes(stream), final.get(stream) === 'ACTIVE', `ListStreams agrees on ${stream}`);

    for (const stream of STREAMS) {
      if (final.get(stream) !== 'ACTIVE') continue;
      const shards = await listAll(client, { StreamName: stream });
      assertTiles(shards.filter(isOpen), `${stream}'s open shards`);
      await checkRecords(t, client, stream, shards);
    }
  });

  async function reshardOnce(client: KinesisClient, stream: string): Promise<void> {
    const listed = await answers.call('ListShards', () => client.send(new ListShardsCommand({ StreamName: stream })));
    if (!listed) return;
    const open = (listed.Shards ?? []).filter(isOpen).sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    if (open.length === 0) return;
    const choice = Math.random();
    if (choice < 0.4 && open.length < 6) {
      const shard = pick(open);
      const start = BigInt(shard.HashKeyRange!.StartingHashKey!);
      const end = BigInt(shard.HashKeyRange!.EndingHashKey!);
      await answers.call('SplitShard', () =>
        client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shard.ShardId!, NewStartingHashKey: String((start + end) / 2n) })),
      );
    } else if (choice < 0.8 && open.length > 1) {
      const i = Math.floor(Math.random() * (open.length - 1));
      await answers.call('MergeShards', () =>
        client.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: open[i]!.ShardId!, AdjacentShardToMerge: open[i + 1]!.ShardId! })),
      );
    } else {
      // Within half and double of the open count this client saw (others may change it meanwhile).
      const target = Math.max(Math.ceil(open.length / 2), Math.min(open.length * 2, 1 + Math.floor(Math.random() * 4)));
      await answers.call('UpdateShardCount', () =>
        client.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' })),
      );
    }
  }

  /** Reads a shard from TRIM_HORIZON for a few calls, while the stream may be resharded or deleted. */
  async function readOnce(client: KinesisClient, stream: string): Promise<void> {
    const listed = await answers.call('ListShards', () => client.send(new ListShardsCommand({ StreamName: stream })));
    const shard = listed?.Shards?.length ? pick(listed.Shards) : undefined;
    if (!shard) return;
    const it = await answers.call('GetShardIterator', () =>
      client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })),
    );
    let iterator = it?.ShardIterator;
    for (let i = 0; i < 3 && iterator; i++) {
      const current = iterator;
      const r = await answers.call('GetRecords', () => client.send(new GetRecordsCommand({ ShardIterator: current })));
      iterator = r?.NextShardIterator;
    }
  }

  async function writeOnce(client: KinesisClient, stream: string): Promise<void> {
    if (Math.random() < 0.7) {
      const put: Put = { id: `${stream}/${seq++}`, stream, sentAt: Date.now(), doneAt: 0 };
      puts.push(put);
      const r = await answers.call('PutRecord', () =>
        client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: put.id, Data: Buffer.from(put.id) })),
      );
      put.doneAt = Date.now();
      if (r) put.ack = { shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! };
      return;
    }
    const batch: Put[] = Array.from({ length: 5 }, () => ({ id: `${stream}/${seq++}`, stream, sentAt: Date.now(), doneAt: 0 }));
    puts.push(...batch);
    const r = await answers.call('PutRecords', () =>
      client.send(new PutRecordsCommand({ StreamName: stream, Records: batch.map((p) => ({ PartitionKey: p.id, Data: Buffer.from(p.id) })) })),
    );
    const doneAt = Date.now();
    batch.forEach((p, i) => {
      p.doneAt = doneAt;
      const entry = r?.Records?.[i];
      if (entry?.SequenceNumber) p.ack = { shardId: entry.ShardId!, sequenceNumber: entry.SequenceNumber };
      else if (entry) answers.unexpected.push(`PutRecords entry failed: ${entry.ErrorCode}: ${entry.ErrorMessage}`);
    });
  }

  /**
   * The records of the stream's last incarnation: each read once, in the shard and at the sequence
   * number its put was acknowledged with; every put acknowledged after that incarnation began is
   * there, and nothing written to an earlier incarnation is.
   */
  async function checkRecords(t: import('node:test').TestContext, client: KinesisClient, stream: string, shards: readonly Shard[]): Promise<void> {
    const seen = new Map<string, { shardId: string; sequenceNumber: string }>();
    for (const shard of shards) {
      for (const record of await readWholeShard(client, stream, shard.ShardId!)) {
        const id = Buffer.from(record.Data!).toString('utf8');
        assert.equal(seen.has(id), false, `${id} is read once`);
        seen.set(id, { shardId: shard.ShardId!, sequenceNumber: record.SequenceNumber! });
      }
    }
    const incarnations = creations.get(stream)!;
    assert.ok(incarnations.length > 0, `${stream} was created`);
    const last = incarnations[incarnations.length - 1]!;
    const byId = new Map(puts.filter((p) => p.stream === stream).map((p) => [p.id, p]));
    let present = 0;
    for (const [id, where] of seen) {
      const put = byId.get(id);
      assert.ok(put, `${id} was written by this test`);
      assert.ok(put.ack, `${id} is stored although its put was refused`);
      assert.deepEqual(where, put.ack, `${id} is where its acknowledgement said`);
      assert.ok(put.doneAt >= last.sentAt, `${id} was written to an earlier incarnation of ${stream}, yet the new one holds it`);
      present++;
    }
    let expected = 0;
    for (const put of byId.values()) {
      if (!put.ack || put.sentAt <= last.doneAt) continue;
      expected++;
      assert.ok(seen.has(put.id), `${put.id}, acknowledged after ${stream} was last created, is readable`);
    }
    t.diagnostic(`${stream}: ${shards.length} shards (${shards.filter(isOpen).length} open), ${present} records read, ${expected} of them certainly of the last incarnation`);
  }
});

/** Every record of a shard: a closed one to its end, an open one to its tip. */
async function readWholeShard(client: KinesisClient, stream: string, shardId: string): Promise<_Record[]> {
  const records: _Record[] = [];
  let iterator: string | undefined = await getIterator(client, stream, shardId, 'TRIM_HORIZON');
  for (let calls = 0; calls < 100_000 && iterator; calls++) {
    const r: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    records.push(...(r.Records ?? []));
    if ((r.Records ?? []).length === 0 && r.MillisBehindLatest === 0 && r.NextShardIterator) break;
    iterator = r.NextShardIterator;
  }
  return records;
}
