import type { StreamMeta } from '../storage/catalog.js';
import type { RateMeter } from './rate-meter.js';
import { Shard } from './shard.js';

/** A shard's writes as the write path tracks them (shard-writes.ts). */
export interface ShardWriteState {
  /** The last append handed to the shard's log. */
  last?: Promise<unknown>;
  /** Set while the shard is being closed, and for good once it is. */
  gate?: Promise<void>;
}

/**
 * What this process keeps of a stream beside its catalog document while it serves it: never
 * stored, dropped with the stream. Each field belongs to one module, named beside it.
 */
export class StreamRuntime {
  /** Changes of the stream's document, run one after another (stream-state.ts). */
  changes: Promise<unknown> = Promise.resolve();
  /** The reshard in progress, if any (resharding.ts). */
  reshard: Promise<unknown> | undefined;
  /** Each shard's appends and close gate, by shard index (shard-writes.ts). */
  readonly writes = new Map<number, ShardWriteState>();
  /** The write rate of each shard of an ON_DEMAND stream, by shard index (shard-writes.ts). */
  readonly writeRates = new Map<number, RateMeter>();
  /** The second each deregistered consumer was deleted, by name (consumers.ts). */
  readonly retiredConsumers = new Map<string, number>();
  /** Expired shards whose logs this process dropped, or found dropped (retention.ts). */
  readonly droppedShards = new Set<number>();
}

/** A stream at run time: its catalog document and its shards, ready for routing. */
export class Stream {
  shards: Shard[] = [];
  /** Open shards ordered by starting hash key; they tile the hash-key space. */
  openShards: Shard[] = [];
  private byIndex = new Map<number, Shard>();
  readonly runtime = new StreamRuntime();

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
        shard.readSizeHint = prev.readSizeHint;
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
