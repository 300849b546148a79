import { createHash } from 'node:crypto';
import type { Shard } from '@aws-sdk/client-kinesis';

/** The largest hash key, 2^128 - 1. */
export const HASH_KEY_MAX = (1n << 128n) - 1n;

/** MD5 of the partition key's UTF-8 bytes as an unsigned 128-bit integer: the key Kinesis routes by. */
export function partitionKeyHash(partitionKey: string): bigint {
  const d = createHash('md5').update(partitionKey, 'utf8').digest();
  return (d.readBigUInt64BE(0) << 64n) | d.readBigUInt64BE(8);
}

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
    const list = this.shards;
    if (list.length === 0 || list[0]!.start !== 0n || list[list.length - 1]!.end !== HASH_KEY_MAX) return false;
    for (let i = 1; i < list.length; i++) if (list[i]!.start !== list[i - 1]!.end + 1n) return false;
    return true;
  }
}
