import { createHash, hash } from 'node:crypto';

/**
 * The Kinesis hash-key space, shared by the server (routing records to shards) and the client
 * library (predicting the shard a record goes to): a record's hash key is the MD5 of its partition
 * key's UTF-8 bytes read as an unsigned big-endian 128-bit integer, or its explicit hash key.
 *
 * The server routes by 16 big-endian bytes compared as Buffers (no BigInt per record); BigInt
 * forms are for range arithmetic and for callers that hold decimal strings.
 */

/** The hash-key space is [0, 2^128 - 1]. */
export const HASH_KEY_MAX = (1n << 128n) - 1n;

/** MD5 of the UTF-8 bytes of a partition key: its hash key as 16 big-endian bytes. */
export function partitionKeyHashBytes(partitionKey: string): Buffer {
  return hash('md5', partitionKey, 'buffer');
}

/** MD5 of the UTF-8 bytes of a partition key, read as an unsigned big-endian 128-bit integer. */
export function partitionKeyHash(partitionKey: string): bigint {
  const d = createHash('md5').update(partitionKey, 'utf8').digest();
  return (d.readBigUInt64BE(0) << 64n) | d.readBigUInt64BE(8);
}

/** 16 big-endian bytes of a hash key, so that routing compares Buffers, not BigInts. */
export function hashKeyBytes(value: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(value >> 64n, 0);
  b.writeBigUInt64BE(value & 0xffffffffffffffffn, 8);
  return b;
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

/**
 * Whether ranges sorted by start cover the whole hash-key space, each starting where the one
 * before it ends, with neither gap nor overlap.
 */
export function tilesHashKeySpace(sorted: readonly HashRange[]): boolean {
  if (sorted.length === 0 || sorted[0]!.start !== 0n || sorted[sorted.length - 1]!.end !== HASH_KEY_MAX) return false;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start !== sorted[i - 1]!.end + 1n) return false;
  return true;
}
