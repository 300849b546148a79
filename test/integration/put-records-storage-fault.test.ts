import pino from 'pino';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { createStream, readShard, shardId, texts } from '../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A real storage fault on one shard of the embedded engine: a shard's log lives in
 * `<data>/streams/<stream>/<shard index>/` and is created on its first append, so a regular file
 * put where that directory belongs makes every open of the log fail (the directory cannot be
 * made), while the stream's other shards keep working.
 */
describe('PutRecords when one shard’s storage fails', () => {
  const STREAM = 'storage-fault';
  let server: TestServer;
  let client: KinesisClient;
  /** The first hash key of each shard. */
  let starts: string[];
  let blocker: string;
  const logged: Record<string, unknown>[] = [];

  const entry = (shard: number, data: string): PutRecordsRequestEntry => ({
    PartitionKey: 'k',
    Data: Buffer.from(data),
    ExplicitHashKey: starts[shard],
  });

  before(async () => {
    // The server's error-level log events, as the operator would read them.
    const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    server = await startTestServer({ storage: 'embedded', fsync: 'always' }, { logger: log });
    // A 500 is retried by the SDK by default; every call here is made once.
    client = server.client({ maxAttempts: 1 });
    await createStream(client, STREAM, 3);
    const shards = (await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? [];
    starts = shards.map((s) => s.HashKeyRange!.StartingHashKey!);
    assert.equal(starts.length, 3);
    // The first append to shard 0 makes the stream's directory; shard 1's log was never opened.
    await client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: Buffer.from('first'), ExplicitHashKey: starts[0] }));
    const streams = path.join(server.dataDir, 'streams');
    const dirs = readdirSync(streams).filter((d) => d.startsWith(`${STREAM}~`));
    assert.equal(dirs.length, 1, 'the stream has one directory');
    assert.deepEqual(readdirSync(path.join(streams, dirs[0]!)), ['0'], 'only shard 0 has a log yet');
    blocker = path.join(streams, dirs[0]!, '1');
    writeFileSync(blocker, 'not a directory');
  });
  after(() => server.destroy());

  it('answers 200 with InternalFailure for the failing shard’s entries, and stores the others', async () => {
    const records = [entry(0, 'a0'), entry(1, 'b0'), entry(2, 'c0'), entry(1, 'b1'), entry(0, 'a1'), entry(2, 'c1')];
    logged.length = 0;
    const r = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
    const reported = logged
      .filter((e) => e.msg === 'a shard write failed; its records were answered InternalFailure')
      .map(({ stream, shard, records }) => ({ stream, shard, records }));
    assert.deepEqual(reported, [{ stream: STREAM, shard: shardId(1), records: 2 }], 'the fault is reported for the operator’s log');
    assert.equal(r.$metadata.httpStatusCode, 200);
    assert.equal(r.FailedRecordCount, 2);
    assert.equal(r.Records?.length, records.length);
    const failed = { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' };
    assert.deepEqual(r.Records![1], failed);
    assert.deepEqual(r.Records![3], failed);
    const stored: Array<[entry: number, shard: number]> = [
      [0, 0],
      [2, 2],
      [4, 0],
      [5, 2],
    ];
    for (const [i, shard] of stored) {
      const e: PutRecordsResultEntry = r.Records![i]!;
      assert.equal(e.ShardId, shardId(shard), `entry ${i}`);
      assert.match(e.SequenceNumber ?? '', /^[1-9]\d*$/, `entry ${i} has a sequence number`);
      assert.equal(e.ErrorCode, undefined);
    }
    assert.deepEqual(texts(await readShard(client, STREAM, shardId(0))), ['first', 'a0', 'a1']);
    assert.deepEqual(texts(await readShard(client, STREAM, shardId(2))), ['c0', 'c1']);
    const shard0 = await readShard(client, STREAM, shardId(0));
    assert.deepEqual(
      shard0.slice(1).map((x) => x.SequenceNumber),
      [r.Records![0]!.SequenceNumber, r.Records![4]!.SequenceNumber],
      'the reported sequence numbers are the stored records’',
    );
  });

  it('answers PutRecord to the failing shard with InternalFailureException, HTTP 500', async () => {
    await assert.rejects(
      client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: Buffer.from('b2'), ExplicitHashKey: starts[1] })),
      (err: Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }) => {
        assert.equal(err.name, 'InternalFailureException');
        assert.equal(err.$metadata?.httpStatusCode, 500);
        assert.equal(err.$fault, 'server');
        return true;
      },
    );
  });

  it('keeps serving, and the shard takes records once its storage works again', async () => {
    const ok = await client.send(
      new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: Buffer.from('a2'), ExplicitHashKey: starts[0] }),
    );
    assert.equal(ok.ShardId, shardId(0));
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
    assert.equal(summary.StreamDescriptionSummary?.StreamStatus, 'ACTIVE');

    rmSync(blocker);
    const r = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: [entry(1, 'b3'), entry(2, 'c2')] }));
    assert.equal(r.FailedRecordCount, 0);
    assert.deepEqual(
      r.Records?.map((e) => e.ShardId),
      [shardId(1), shardId(2)],
    );
    assert.deepEqual(texts(await readShard(client, STREAM, shardId(1))), ['b3'], 'nothing of the failed puts was stored');
    assert.deepEqual(texts(await readShard(client, STREAM, shardId(2))), ['c0', 'c1', 'c2']);
  });
});
