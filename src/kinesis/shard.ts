import type { ShardMeta } from '../storage/catalog.js';
import type { ShardLog } from '../storage/types.js';
import { hashKeyBytes } from '../util/hash-key.js';
import { ShardSequenceFormat } from './sequence-number.js';

export function shardIdOf(index: number): string {
  return 'shardId-' + String(index).padStart(12, '0');
}

/** The largest shard index a shard id can name: AWS reads the number as a signed 32-bit integer. */
const MAX_SHARD_INDEX = 0x7fffffff;

/**
 * The index a shard id names, read as AWS reads it: the text after the last hyphen (or the whole
 * id, without one) must be a decimal number from 0 to 2147483647, with any prefix before the hyphen
 * and any number of leading zeros (`shardId-000000000003`, `x-3`, `3` and `00000000000000000003`
 * all name shard 3, which AWS then calls `shardId-000000000003`). Anything else (`ABKLFD8`,
 * `2.14E4`, `2147483648`, `shardId-`) names no shard: undefined.
 */
export function shardIndexOf(shardId: string): number | undefined {
  const digits = shardId.slice(shardId.lastIndexOf('-') + 1);
  if (!/^\d+$/.test(digits)) return undefined;
  const significant = digits.replace(/^0+(?=\d)/, '');
  if (significant.length > 10) return undefined;
  const n = Number(significant);
  return n <= MAX_SHARD_INDEX ? n : undefined;
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
