import type { StreamMeta } from '../storage/catalog.js';
import { Shard } from './shard.js';

/** A stream at run time: its catalog document and its shards, ready for routing. */
export class Stream {
  shards: Shard[] = [];
  /** Open shards ordered by starting hash key; they tile the hash-key space. */
  openShards: Shard[] = [];
  private byIndex = new Map<number, Shard>();

  constructor(
    public meta: StreamMeta,
    readonly arn: string,
  ) {
    this.rebuild();
  }

  get name(): string {
    return this.meta.name;
  }

  get key(): string {
    return this.meta.key;
  }

  /** Re-derives the shard objects from meta, keeping the open logs of shards that remain. */
  rebuild(): void {
    const old = this.byIndex;
    this.byIndex = new Map();
    this.shards = this.meta.shards.map((m) => {
      const prev = old.get(m.index);
      const shard = new Shard(m);
      if (prev) {
        shard.log = prev.log;
        shard.lastTrimAt = prev.lastTrimAt;
      }
      this.byIndex.set(m.index, shard);
      return shard;
    });
    this.openShards = this.shards.filter((s) => s.isOpen).sort((a, b) => Buffer.compare(a.startKey, b.startKey));
  }

  shard(index: number): Shard | undefined {
    return this.byIndex.get(index);
  }

  /** The open shard whose hash-key range holds `hashKey` (16 big-endian bytes). */
  route(hashKey: Buffer): Shard {
    const open = this.openShards;
    let lo = 0;
    let hi = open.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (Buffer.compare(open[mid]!.startKey, hashKey) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return open[lo]!;
  }

  get retentionMs(): number {
    return this.meta.retentionHours * 3_600_000;
  }
}
