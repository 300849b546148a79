/**
 * Closed shards whose records have all passed the retention period: AWS stops listing them and
 * answers a read of one as for a shard that does not exist; their storage is dropped by the
 * retention sweep, their catalog entries are marked so that nothing opens them again, and the
 * open children keep naming them as parents.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { JetStreamApiError } from '@nats-io/jetstream';
import { createEmbeddedLogStore } from '../../src/storage/embedded/index.js';
import { streamDirName } from '../../src/storage/embedded/names.js';
import { JetStreamLogStore } from '../../src/storage/jetstream/index.js';
import { shardStreamName, trimKey } from '../../src/storage/jetstream/names.js';
import { ManualClock } from '../../src/util/clock.js';
import { expectError, getIterator, HASH_KEY_MAX, shardId, shardNotFound, texts } from '../helpers/kinesis.js';
import { describeShards, listAll } from '../helpers/resharding.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const HALF = ((HASH_KEY_MAX + 1n) / 2n).toString();
const STREAM = 'expiring';

/** Whether the engine still holds anything of the shard's log. */
async function stored(server: TestServer, key: string, index: number): Promise<boolean> {
  const logs = server.kinesis.logs;
  if (logs instanceof JetStreamLogStore) {
    const trimPoint = await logs.ctx.shardState.get(trimKey(key, index));
    if (trimPoint && trimPoint.operation === 'PUT') return true;
    try {
      await logs.ctx.jsm.streams.info(shardStreamName(logs.ctx.prefix, key, index));
      return true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10059) return false;
      throw err;
    }
  }
  return existsSync(path.join(server.dataDir, 'streams', streamDirName(key), String(index)));
}

describe('closed shards past retention (injected clock)', () => {
  const dataDir = tempDir('tributary-expired-');
  const clock = new ManualClock();
  let server: TestServer;
  let client: KinesisClient;
  let key: string;

  const put = (data: string, PartitionKey = 'k') =>
    client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey, Data: Buffer.from(data) }));
  const iteratorOf = (index: number) =>
    client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId(index), ShardIteratorType: 'TRIM_HORIZON' }));
  const start = async () => {
    server = await startTestServer({ updateStreamDelayMs: 0 }, { clock, dataDir });
    client = server.client();
  };

  before(async () => {
    await start();
    await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
    key = (await server.kinesis.resolve({ StreamName: STREAM })).key;
  });
  after(async () => {
    await server.destroy();
    removeDir(dataDir);
  });

  it('keeps a closed shard while it may hold unexpired records', async () => {
    await put('before-split');
    await client.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: shardId(0), NewStartingHashKey: HALF }));
    await put('after-split');
    clock.advance(23 * HOUR);
    await server.kinesis.trimAll();
    assert.ok(await stored(server, key, 0), 'the parent is still stored');
    assert.deepEqual(
      (await listAll(client, { StreamName: STREAM })).map((s) => s.ShardId),
      [shardId(0), shardId(1), shardId(2)],
    );
    const parent = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, STREAM, shardId(0), 'TRIM_HORIZON') }));
    assert.deepEqual(texts(parent.Records ?? []), ['before-split']);
  });

  it('answers a read of an expired closed shard as for a missing shard, before the sweep too', async () => {
    clock.advance(2 * HOUR);
    await expectError(iteratorOf(0), 'ResourceNotFoundException', shardNotFound(STREAM, shardId(0)));
  });

  it('drops the expired shard’s storage, marks it in the catalog and keeps the children’s parent references', async () => {
    const swept = clock.now();
    await server.kinesis.trimAll();
    assert.equal(await stored(server, key, 0), false, 'the parent’s storage is gone');
    assert.ok(await stored(server, key, 1), 'an open child is still stored');
    const stream = await server.kinesis.resolve({ StreamName: STREAM });
    assert.equal(stream.shard(0)!.log, undefined, 'the parent’s log is closed');
    const meta = (await server.kinesis.catalog.getStream(key))!.value;
    assert.deepEqual(
      meta.shards.map((s) => [s.index, s.expiredAt]),
      [
        [0, swept],
        [1, undefined],
        [2, undefined],
      ],
    );

    await expectError(iteratorOf(0), 'ResourceNotFoundException', shardNotFound(STREAM, shardId(0)));
    assert.equal(await stored(server, key, 0), false, 'a read does not bring the storage back');
    for (const shards of [await listAll(client, { StreamName: STREAM }), await describeShards(client, STREAM)]) {
      assert.deepEqual(
        shards.map((s) => [s.ShardId, s.ParentShardId]),
        [
          [shardId(1), shardId(0)],
          [shardId(2), shardId(0)],
        ],
      );
    }

    // The children work as before; the sweep leaves the marked shard alone.
    await put('fresh');
    const fresh = await put('fresh-2');
    await server.kinesis.trimAll();
    assert.equal(await stored(server, key, 0), false);
    assert.deepEqual((await server.kinesis.catalog.getStream(key))!.value.shards[0]!.expiredAt, swept, 'marked once');
    const r = await client.send(new GetRecordsCommand({ ShardIterator: await getIterator(client, STREAM, fresh.ShardId!, 'TRIM_HORIZON') }));
    assert.deepEqual(texts(r.Records ?? []), ['fresh', 'fresh-2']);
  });

  it('after a restart, drops the storage a marked shard still has (a crash after marking)', async () => {
    const jetStream = server.kinesis.logs instanceof JetStreamLogStore;
    if (jetStream) {
      // The cluster's storage outlives the node: the leftover is made through the node itself.
      client.destroy();
      await server.close();
      await start();
      const leftover = await server.kinesis.logs.open(key, 0);
      await leftover.append([{ partitionKey: 'k', data: Buffer.from('left') }], clock.now());
    } else {
      // What a crash between the catalog mark and the deletion leaves: the shard's segment files,
      // written here while no server runs, so that only what the restarted server reads from the
      // catalog can tell it that they are to go.
      client.destroy();
      await server.close();
      const offline = createEmbeddedLogStore(path.join(dataDir, 'streams'), { fsync: 'always', fsyncIntervalMs: 0, segmentBytes: 1 << 20, segmentMaxAgeMs: HOUR });
      const leftover = await offline.open(key, 0);
      await leftover.append([{ partitionKey: 'k', data: Buffer.from('left') }], clock.now());
      await offline.close();
      await start();
    }
    assert.ok(await stored(server, key, 0), 'the leftover is there after the restart');
    await server.kinesis.trimAll();
    assert.equal(await stored(server, key, 0), false, 'the sweep finished the drop');
    await expectError(iteratorOf(0), 'ResourceNotFoundException', shardNotFound(STREAM, shardId(0)));
    assert.equal(await stored(server, key, 0), false);
  });
});
