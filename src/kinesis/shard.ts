import type { ShardMeta } from '../storage/catalog.js';
import type { ShardLog } from '../storage/types.js';
import { hashKeyBytes } from '../util/hash-key.js';
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

/** A shard at run time: its catalog entry, its log and what routing and numbering need. */
export class Shard {
  readonly id: string;
  readonly seq: ShardSequenceFormat;
  readonly startKey: Buffer;
  readonly endKey: Buffer;
  log: ShardLog | undefined;
  /** Clock time of the last retention trim of this shard's log. */
  lastTrimAt = -Infinity;

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
