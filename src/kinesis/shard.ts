import type { ShardMeta } from '../storage/catalog.js';
import type { ShardLog } from '../storage/types.js';
import { ShardSequenceFormat } from './sequence-number.js';

export function shardIdOf(index: number): string {
  return 'shardId-' + String(index).padStart(12, '0');
}

/** The index named by a shard id ("shardId-000000000003"; AWS also takes the bare number). */
export function shardIndexOf(shardId: string): number | undefined {
  const m = /^(?:shardId-)?(\d{1,12})$/.exec(shardId);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 0x7fffffff ? n : undefined;
}

/** 16 big-endian bytes of a hash key, so that routing compares Buffers, not BigInts. */
export function hashKeyBytes(value: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(value >> 64n, 0);
  b.writeBigUInt64BE(value & 0xffffffffffffffffn, 8);
  return b;
}

/** A shard at run time: its catalog entry, its log and what routing and numbering need. */
export class Shard {
  readonly id: string;
  readonly seq: ShardSequenceFormat;
  readonly startKey: Buffer;
  readonly endKey: Buffer;
  log: ShardLog | undefined;
  /** Clock time of the last retention trim of this shard's log. */
  lastTrimAt = -Infinity;
  /**
   * Average bytes of the records GetRecords last read from this shard, so that a read asks the
   * response budget for about what it will need (operations/get-records.ts).
   */
  readSizeHint: number | undefined;

  constructor(readonly meta: ShardMeta) {
    this.id = shardIdOf(meta.index);
    this.seq = new ShardSequenceFormat(meta.index, Math.floor(meta.createdAt / 1000));
    this.startKey = hashKeyBytes(BigInt(meta.startingHashKey));
    this.endKey = hashKeyBytes(BigInt(meta.endingHashKey));
  }

  get index(): number {
    return this.meta.index;
  }

  get isOpen(): boolean {
    return this.meta.closedAt === undefined;
  }
}
