import assert from 'node:assert/strict';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { deaggregate, type UserRecord } from '../../../src/client/aggregation.js';
import { recordHashKey } from '../../../src/client/producer/index.js';
import { listAll } from '../../helpers/resharding.js';

export interface ReadRecord extends UserRecord {
  shardId: string;
}

/** The shards of a stream, each parent before its children. */
export function lineageOrder(shards: readonly Shard[]): Shard[] {
  const byId = new Map(shards.map((s) => [s.ShardId!, s]));
  const out: Shard[] = [];
  const seen = new Set<string>();
  const visit = (s: Shard): void => {
    if (seen.has(s.ShardId!)) return;
    seen.add(s.ShardId!);
    for (const p of [s.ParentShardId, s.AdjacentParentShardId]) {
      const parent = p === undefined ? undefined : byId.get(p);
      if (parent) visit(parent);
    }
    out.push(s);
  };
  for (const s of shards) visit(s);
  return out;
}

/**
 * Every user record of a stream, shard by shard in lineage order (parents first), each shard from
 * TRIM_HORIZON to its end or tip. Aggregated records are deaggregated and, as the KCL does, only
 * user records whose hash key the shard's range holds are kept.
 */
export async function readStream(client: KinesisClient, stream: string): Promise<ReadRecord[]> {
  const shards = lineageOrder(await listAll(client, { StreamName: stream }));
  const out: ReadRecord[] = [];
  for (const shard of shards) {
    const start = BigInt(shard.HashKeyRange!.StartingHashKey!);
    const end = BigInt(shard.HashKeyRange!.EndingHashKey!);
    let iterator: string | undefined = (
      await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    for (let calls = 0; iterator !== undefined; calls++) {
      assert.ok(calls < 10_000, `${shard.ShardId} never ended`);
      const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const record of r.Records ?? []) {
        for (const u of deaggregate(record)) {
          if (u.aggregated) {
            const hash = recordHashKey(u.partitionKey, u.explicitHashKey);
            if (hash < start || hash > end) continue;
          }
          out.push({ ...u, shardId: shard.ShardId! });
        }
      }
      iterator = r.NextShardIterator;
      if ((r.Records ?? []).length === 0 && r.MillisBehindLatest === 0) break;
    }
  }
  return out;
}

/** Data of `size` bytes that names its key and its place in the key's sequence. */
export function payload(key: string, n: number, size: number): Buffer {
  const head = `${key}/${n}/`;
  return Buffer.from(head.padEnd(size, 'x'));
}

export function parsePayload(data: Uint8Array): { key: string; n: number } {
  const [key, n] = Buffer.from(data).toString('utf8').split('/');
  return { key: key!, n: Number(n) };
}

/** Each key's records appear exactly once each, numbered 0..count-1 in order. */
export function assertExactlyOnceInOrder(records: readonly ReadRecord[], expected: ReadonlyMap<string, number>): void {
  const seen = new Map<string, number[]>();
  for (const r of records) {
    const { key, n } = parsePayload(r.data);
    assert.equal(r.partitionKey, key, 'the record carries its partition key');
    let list = seen.get(key);
    if (!list) seen.set(key, (list = []));
    list.push(n);
  }
  assert.deepEqual([...seen.keys()].sort(), [...expected.keys()].sort(), 'every key is in the stream');
  for (const [key, count] of expected) {
    const list = seen.get(key)!;
    assert.equal(list.length, count, `${key}: ${list.length} records read, ${count} put`);
    for (let i = 0; i < list.length; i++) {
      if (list[i] !== i) assert.fail(`${key}: record ${list[i]} where ${i} was expected (duplicate, loss or reorder)`);
    }
  }
}
