import { createHash } from 'node:crypto';

/** The hash-key space is [0, 2^128 - 1]. */
export const HASH_KEY_MAX = (1n << 128n) - 1n;

/** MD5 of the UTF-8 bytes of a partition key, read as an unsigned big-endian 128-bit integer. */
export function partitionKeyHash(partitionKey: string): bigint {
  const d = createHash('md5').update(partitionKey, 'utf8').digest();
  return (d.readBigUInt64BE(0) << 64n) | d.readBigUInt64BE(8);
}

export interface HashRange {
  start: bigint;
  end: bigint;
}

/**
 * Splits the hash-key space into `count` ranges of width floor(2^128 / count); the last range
 * takes the remainder, as AWS lays out a new stream's shards.
 */
export function evenHashRanges(count: number): HashRange[] {
  const width = (1n << 128n) / BigInt(count);
  const ranges: HashRange[] = [];
  for (let i = 0; i < count; i++) {
    const start = width * BigInt(i);
    const end = i === count - 1 ? HASH_KEY_MAX : width * BigInt(i + 1) - 1n;
    ranges.push({ start, end });
  }
  return ranges;
}
