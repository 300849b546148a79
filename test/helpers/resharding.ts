import assert from 'node:assert/strict';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  ListShardsCommand,
  type ChildShard,
  type KinesisClient,
  type ListShardsCommandInput,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { evenHashRanges } from '../../src/util/hash-key.js';
import { getIterator, HASH_KEY_MAX } from './kinesis.js';

/** Every shard of a stream that ListShards returns for this input, following NextToken. */
export async function listAll(client: KinesisClient, input: ListShardsCommandInput): Promise<Shard[]> {
  const out: Shard[] = [];
  let r = await client.send(new ListShardsCommand(input));
  out.push(...(r.Shards ?? []));
  while (r.NextToken) {
    r = await client.send(new ListShardsCommand({ NextToken: r.NextToken }));
    out.push(...(r.Shards ?? []));
  }
  return out;
}

export async function describeShards(client: KinesisClient, stream: string): Promise<Shard[]> {
  const out: Shard[] = [];
  let more = true;
  while (more) {
    const d = (
      await client.send(
        new DescribeStreamCommand({ StreamName: stream, ExclusiveStartShardId: out.length ? out[out.length - 1]!.ShardId : undefined }),
      )
    ).StreamDescription!;
    out.push(...d.Shards!);
    more = d.HasMoreShards!;
  }
  return out;
}

export const isOpen = (s: Shard) => s.SequenceNumberRange!.EndingSequenceNumber === undefined;

/** The shards tile the hash-key space: sorted by start, no gap, no overlap, from 0 to 2^128 - 1. */
export function assertTiles(shards: readonly Shard[], what = 'shards'): void {
  assert.ok(shards.length > 0, `${what}: none`);
  const ranges = shards
    .map((s) => [BigInt(s.HashKeyRange!.StartingHashKey!), BigInt(s.HashKeyRange!.EndingHashKey!)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.equal(ranges[0]![0], 0n, `${what} start at 0`);
  assert.equal(ranges[ranges.length - 1]![1], HASH_KEY_MAX, `${what} end at 2^128 - 1`);
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]![0], ranges[i - 1]![1] + 1n, `${what}: no gap or overlap`);
}

/** The open shards have exactly the layout CreateStream would give `count` shards. */
export function assertUniform(open: readonly Shard[], count: number): void {
  const got = open
    .map((s) => `${s.HashKeyRange!.StartingHashKey}-${s.HashKeyRange!.EndingHashKey}`)
    .sort((a, b) => (BigInt(a.split('-')[0]!) < BigInt(b.split('-')[0]!) ? -1 : 1));
  assert.deepEqual(
    got,
    evenHashRanges(count).map((r) => `${r.start}-${r.end}`),
  );
}

export interface ShardEnd {
  records: _Record[];
  childShards: ChildShard[];
  millisBehindLatest: number;
}

/** Reads a closed shard from TRIM_HORIZON to its end, checking how the end is reported. */
export async function readToEnd(client: KinesisClient, stream: string, shard: string, limit?: number): Promise<ShardEnd> {
  const records: _Record[] = [];
  let iterator: string | undefined = await getIterator(client, stream, shard, 'TRIM_HORIZON');
  for (let calls = 0; calls < 10_000; calls++) {
    const r: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    records.push(...(r.Records ?? []));
    if (r.NextShardIterator === undefined) {
      assert.equal((r.Records ?? []).length, 0, 'the end of a shard comes with no records');
      assert.ok(r.ChildShards && r.ChildShards.length > 0, 'the end of a shard names its children');
      return { records, childShards: r.ChildShards, millisBehindLatest: r.MillisBehindLatest! };
    }
    assert.equal(r.ChildShards, undefined, 'ChildShards only at the end of a closed shard');
    iterator = r.NextShardIterator;
    if ((r.Records ?? []).length === 0 && r.MillisBehindLatest === 0) throw new Error(`${shard} is open: it has no end`);
  }
  throw new Error(`${shard} never ended`);
}

export interface LineageRead {
  /** Records in the order a KCL-style consumer meets them (parents before children). */
  records: _Record[];
  /** Shard ids in the order they were read. */
  order: string[];
}

/**
 * Reads a stream as the KCL does: the given shards first, each closed shard to its end, and a
 * child only once all its parents are done; open shards are drained to their tip.
 */
export async function readLineage(client: KinesisClient, stream: string, start: readonly string[]): Promise<LineageRead> {
  const done = new Set<string>();
  const parentsOf = new Map<string, string[]>();
  const queue = [...start];
  const records: _Record[] = [];
  const order: string[] = [];
  while (queue.length > 0) {
    const index = queue.findIndex((id) => (parentsOf.get(id) ?? []).every((p) => done.has(p)));
    assert.ok(index >= 0, `no shard is ready among ${queue.join(', ')}`);
    const shard = queue.splice(index, 1)[0]!;
    order.push(shard);
    let iterator: string | undefined = await getIterator(client, stream, shard, 'TRIM_HORIZON');
    for (;;) {
      const r: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(r.Records ?? []));
      if (r.NextShardIterator === undefined) {
        for (const child of r.ChildShards!) {
          parentsOf.set(child.ShardId!, child.ParentShards!);
          if (!queue.includes(child.ShardId!) && !done.has(child.ShardId!) && !order.includes(child.ShardId!)) {
            queue.push(child.ShardId!);
          }
        }
        break;
      }
      iterator = r.NextShardIterator;
      if ((r.Records ?? []).length === 0 && r.MillisBehindLatest === 0) break;
    }
    done.add(shard);
  }
  return { records, order };
}
