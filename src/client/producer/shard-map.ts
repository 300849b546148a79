import type { Shard } from '@aws-sdk/client-kinesis';
import { HASH_KEY_MAX, partitionKeyHash, tilesHashKeySpace } from '../../util/hash-key.js';

export { HASH_KEY_MAX, partitionKeyHash };

/** The hash key a record is routed by: its explicit hash key if it has one, else its partition key's MD5. */
export function recordHashKey(partitionKey: string, explicitHashKey: string | undefined): bigint {
  return explicitHashKey === undefined ? partitionKeyHash(partitionKey) : BigInt(explicitHashKey);
}

export interface ShardRange {
  shardId: string;
  start: bigint;
  end: bigint;
}

/**
 * The open shards of a stream, sorted by hash range, for predicting which shard a hash key goes to.
 * Closed shards (those with an ending sequence number) are left out: Kinesis writes only to open ones.
 */
export class ShardMap {
  readonly shards: readonly ShardRange[];

  constructor(shards: readonly Shard[]) {
    this.shards = shards
      .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined && s.ShardId && s.HashKeyRange)
      .map((s) => ({
        shardId: s.ShardId!,
        start: BigInt(s.HashKeyRange!.StartingHashKey!),
        end: BigInt(s.HashKeyRange!.EndingHashKey!),
      }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** The open shard whose range holds the hash key, or undefined if none does (a map caught mid-reshard). */
  shardFor(hashKey: bigint): ShardRange | undefined {
    const list = this.shards;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = list[mid]!;
      if (hashKey < s.start) hi = mid - 1;
      else if (hashKey > s.end) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** True when the open shards cover the whole hash-key space without gap or overlap. */
  get complete(): boolean {
    return tilesHashKeySpace(this.shards);
  }
}
