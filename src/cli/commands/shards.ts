/** `tributary shards <stream>`: the shard map (ListShards, every page) as a table. */
import { type KinesisClient, ListShardsCommand, type ListShardsCommandOutput, type Shard, type ShardFilter } from '@aws-sdk/client-kinesis';
import type { Command } from 'commander';
import { type ClientOptions, guarded, kinesisClient, withClientOptions } from '../client-options.js';
import { formatJson, formatTable } from '../table.js';

const KEY_SPACE = 2n ** 128n;

/** The shards of the stream (every one, open and closed, without a filter), in ListShards order. */
export async function listShards(kinesis: KinesisClient, streamName: string, filter?: ShardFilter): Promise<Shard[]> {
  const shards: Shard[] = [];
  let page: ListShardsCommandOutput | undefined;
  do {
    page = await kinesis.send(
      new ListShardsCommand(page?.NextToken ? { NextToken: page.NextToken } : { StreamName: streamName, ShardFilter: filter }),
    );
    shards.push(...(page.Shards ?? []));
  } while (page.NextToken);
  return shards;
}

/** A hash key as a percentage of the key space, two decimals: 0.00%, 25.00%, 100.00%. */
export function keyPercent(key: bigint): string {
  const hundredths = (key * 10_000n) / KEY_SPACE;
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}%`;
}

/** A long number shortened to its first and last digits: 340282…211455. */
function abbreviate(n: string, keep = 6): string {
  return n.length <= keep * 2 + 1 ? n : `${n.slice(0, keep)}…${n.slice(-keep)}`;
}

function rangeCell(s: Shard, full: boolean): [string, string] {
  const start = s.HashKeyRange?.StartingHashKey ?? '';
  const end = s.HashKeyRange?.EndingHashKey ?? '';
  if (full) return [start, end];
  // Where the range starts and ends, as shares of the key space (the end is exclusive).
  return [keyPercent(BigInt(start || 0)), keyPercent(BigInt(end || 0) + 1n)];
}

export function shardTable(shards: readonly Shard[], full: boolean): string {
  const rows = shards.map((s) => {
    const [start, end] = rangeCell(s, full);
    const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined).join(', ');
    const closed = s.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    const seq = s.SequenceNumberRange?.StartingSequenceNumber ?? '';
    return [s.ShardId ?? '', parents || '-', start, end, closed ? 'closed' : 'open', full ? seq : abbreviate(seq)];
  });
  return formatTable(['SHARD', 'PARENTS', 'HASH START', 'HASH END', 'STATE', 'STARTING SEQUENCE'], rows);
}

export function registerShards(program: Command): void {
  withClientOptions(program.command('shards').description("show a stream's shard map: parents, hash ranges, open or closed"))
    .argument('<stream>', 'the stream')
    .option('--full', 'print hash keys and sequence numbers in full (default: ranges as shares of the key space)')
    .option('--json', 'print the ListShards answer (every page) as JSON')
    .action((stream: string, opts: ClientOptions & { full?: boolean; json?: boolean }) =>
      guarded(opts, async () => {
        const kinesis = kinesisClient(opts);
        const shards = await listShards(kinesis, stream);
        kinesis.destroy();
        process.stdout.write(opts.json ? formatJson({ Shards: shards }) : shardTable(shards, opts.full === true));
      }),
    );
}
