/**
 * The files of closed shards once retention has passed them: AWS stops listing a closed shard
 * when its records have expired, and nothing of it should stay on disk either, or every reshard
 * (and every ON_DEMAND split) leaves a directory, an empty segment and a trim point behind for
 * good, and the retention sweep opens a log, with its file handle, for each of them.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MergeShardsCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient, removeDir, tempDir, testEngine } from '../../helpers/server.js';
import { createStream } from '../disk/support.js';
import { listShards } from './check.js';
import { spawnLoggingServer, type LoggingServer } from './child.js';

const HALF = (1n << 127n).toString();

async function stop(server: LoggingServer | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  await server.exited;
}

describe('closed shards past retention', { skip: testEngine !== 'embedded' && 'shard directories are the embedded engine' }, () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it(
    'leave no directory behind once the retention sweep has passed them',
    async () => {
      const dataDir = tempDir('tributary-expired-shards-');
      dirs.push(dataDir);
      const args = ['--create-stream-ms', '0', '--update-stream-ms', '0', '--retention-sweep-ms', '200'];
      let server: LoggingServer | undefined = await spawnLoggingServer(dataDir, args);
      try {
        let client = kinesisClient(server.endpoint);
        await createStream(client, 'shrink', 1);
        const put = () =>
          client.send(
            new PutRecordsCommand({
              StreamName: 'shrink',
              Records: Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from(`r${i}`) })),
            }),
          );
        await put();
        await client.send(new SplitShardCommand({ StreamName: 'shrink', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: HALF }));
        await put();
        await client.send(
          new MergeShardsCommand({ StreamName: 'shrink', ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000002' }),
        );
        await put();
        client.destroy();
        await stop(server, 'SIGTERM');

        // Two days later every closed shard is past the 24-hour retention period.
        server = await spawnLoggingServer(dataDir, [...args, '--clock-offset-ms', String(48 * 3_600_000)]);
        client = kinesisClient(server.endpoint);
        const listed = (await listShards(client, 'shrink')).map((s) => Number(s.ShardId!.slice('shardId-'.length)));
        assert.deepEqual(listed, [3], 'only the open shard is listed');
        const [streamDir] = readdirSync(path.join(dataDir, 'streams'));
        const shardDirs = () => readdirSync(path.join(dataDir, 'streams', streamDir!)).map(Number).sort();
        const deadline = Date.now() + 5_000;
        while (shardDirs().length > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(shardDirs(), [3], 'the directories of the expired closed shards are gone');
        client.destroy();
      } finally {
        await stop(server, 'SIGKILL');
      }
    },
  );
});
