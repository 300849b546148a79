/**
 * The embedded LogStore: one EmbeddedShardLog per shard, each in `<dir>/<stream>/<shardIndex>/`.
 * Opening a shard that is open (or being opened) returns the same log; opening one that is
 * closing waits until it has closed, so two logs never share a directory.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogOptions, LogStore } from '../types.js';
import type { EmbeddedHooks } from './events.js';
import { streamDirName } from './names.js';
import { EmbeddedShardLog } from './shard-log.js';

export function createEmbeddedLogStore(dir: string, options: LogOptions, hooks: EmbeddedHooks = {}): EmbeddedLogStore {
  return new EmbeddedLogStore(dir, options, hooks);
}

export class EmbeddedLogStore implements LogStore {
  private readonly logs = new Map<string, Promise<EmbeddedShardLog>>();
  private readonly closings = new Map<string, Promise<void>>();
  private readonly drops = new Map<string, Promise<void>>();
  /** Drops of single shards under way, by `<stream>/<shardIndex>`. */
  private readonly shardDrops = new Map<string, Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly options: LogOptions,
    private readonly hooks: EmbeddedHooks = {},
  ) {
    checkOptions(options);
  }

  open(streamKey: string, shardIndex: number): Promise<EmbeddedShardLog> {
    let stream: string;
    let key: string;
    try {
      ({ stream, key } = shardKey(streamKey, shardIndex));
    } catch (err) {
      return Promise.reject(err);
    }
    const existing = this.logs.get(key);
    if (existing) return existing;
    const before = [this.drops.get(stream), this.shardDrops.get(key), this.closings.get(key)];
    const opening: Promise<EmbeddedShardLog> = (async () => {
      await Promise.allSettled(before);
      const dir = join(this.dir, stream, String(shardIndex));
      return EmbeddedShardLog.open(dir, this.options, this.shardHooks(streamKey, shardIndex), (_log, closed) =>
        this.closing(key, opening, closed),
      );
    })();
    this.logs.set(key, opening);
    opening.catch(() => {
      if (this.logs.get(key) === opening) this.logs.delete(key);
    });
    return opening;
  }

  dropStream(streamKey: string): Promise<void> {
    const stream = streamDirName(streamKey);
    const previous = this.drops.get(stream);
    const drop = (async () => {
      if (previous) await previous.catch(() => {});
      const prefix = `${stream}/`;
      const waits: Promise<unknown>[] = [];
      for (const [key, opening] of this.logs) {
        if (key.startsWith(prefix)) waits.push(opening.then((log) => log.close()));
      }
      await Promise.allSettled(waits);
      for (const [key, closed] of this.closings) if (key.startsWith(prefix)) waits.push(closed);
      await Promise.allSettled(waits);
      await rm(join(this.dir, stream), { recursive: true, force: true });
    })();
    this.drops.set(stream, drop);
    const forget = () => {
      if (this.drops.get(stream) === drop) this.drops.delete(stream);
    };
    drop.then(forget, forget);
    return drop;
  }

  /**
   * Closes the shard's log (waiting for one being opened or closed) and deletes its directory.
   * An open of the shard that comes later waits for the drop, and then starts an empty log.
   */
  dropShard(streamKey: string, shardIndex: number): Promise<void> {
    let stream: string;
    let key: string;
    try {
      ({ stream, key } = shardKey(streamKey, shardIndex));
    } catch (err) {
      return Promise.reject(err);
    }
    // Opens from now on get a new log, after the drop, not the one being dropped.
    const opening = this.logs.get(key);
    if (opening) this.logs.delete(key);
    const before = [this.drops.get(stream), this.shardDrops.get(key)];
    const drop = (async () => {
      await Promise.allSettled(before);
      if (opening) await opening.then((log) => log.close()).catch(() => {});
      await this.closings.get(key)?.catch(() => {});
      await rm(join(this.dir, stream, String(shardIndex)), { recursive: true, force: true });
    })();
    this.shardDrops.set(key, drop);
    const forget = () => {
      if (this.shardDrops.get(key) === drop) this.shardDrops.delete(key);
    };
    drop.then(forget, forget);
    return drop;
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.logs.values()].map((opening) => opening.then((log) => log.close())));
    await Promise.allSettled([...this.closings.values()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The hooks of one shard's log: its warnings name the shard. */
  private shardHooks(stream: string, shard: number): EmbeddedHooks {
    const sink = this.hooks.onWarning;
    return sink ? { ...this.hooks, onWarning: (w) => sink({ ...w, stream, shard }) } : this.hooks;
  }

  /** A log started closing: later opens of its shard get a new log, once this one is closed. */
  private closing(key: string, opening: Promise<EmbeddedShardLog>, closed: Promise<void>): void {
    if (this.logs.get(key) === opening) this.logs.delete(key);
    this.closings.set(key, closed);
    const forget = () => {
      if (this.closings.get(key) === closed) this.closings.delete(key);
    };
    closed.then(forget, forget);
  }
}

function checkOptions(options: LogOptions): void {
  if (!['always', 'interval', 'never'].includes(options.fsync)) throw new RangeError(`unknown fsync mode ${String(options.fsync)}`);
  if (options.fsync === 'interval' && !(options.fsyncIntervalMs > 0)) {
    throw new RangeError('fsyncIntervalMs must be positive in interval mode');
  }
  if (!(options.segmentBytes > 0)) throw new RangeError('segmentBytes must be positive');
  if (!(options.segmentMaxAgeMs > 0)) throw new RangeError('segmentMaxAgeMs must be positive');
}

/** The directory name of a stream and the key of one of its shards; throws on an invalid shard index. */
function shardKey(streamKey: string, shardIndex: number): { stream: string; key: string } {
  if (!Number.isSafeInteger(shardIndex) || shardIndex < 0) throw new RangeError(`shard index ${shardIndex} is not a non-negative integer`);
  const stream = streamDirName(streamKey);
  return { stream, key: `${stream}/${shardIndex}` };
}
