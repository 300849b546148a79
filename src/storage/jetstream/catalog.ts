/**
 * The catalog in a replicated JetStream key-value bucket, shared by every node of a cluster.
 *
 * A stream document is one value under `streams.<key>`, a setting one under `settings.<name>`
 * (both escaped as in names.ts). A value's revision is the bucket's sequence of its last write, so
 * the compare-and-set writes of the Catalog interface map onto the bucket's create (only if
 * absent) and update (only if still at that revision). The plain putStream and putSetting write
 * unconditionally, as the embedded catalog does. The metric minutes are in a stream of their own
 * (metrics.ts).
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import {
  CatalogConflictError,
  type Catalog,
  type CatalogWatch,
  type MetricRow,
  type Revisioned,
  type StreamChange,
  type StreamMeta,
} from '../catalog.js';
import { JetStreamMetrics } from './metrics.js';
import { escapeKey } from './names.js';
import type { JetStreamConnection } from './store.js';

const WRONG_LAST_SEQUENCE = 10071;
/** How long sync() waits for the watch to deliver the newest revision. */
const SYNC_TIMEOUT_MS = 5_000;

function streamEntryKey(key: string): string {
  return `streams.${escapeKey(key)}`;
}

function settingEntryKey(name: string): string {
  return `settings.${escapeKey(name)}`;
}

function live(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === 'PUT';
}

export class JetStreamCatalog implements Catalog {
  private constructor(
    readonly kv: KV,
    private readonly metrics: JetStreamMetrics,
  ) {}

  /** Opens the catalog bucket, creating it with the connection's replica count when there is none. */
  static async open(conn: JetStreamConnection): Promise<JetStreamCatalog> {
    // Reads go to the bucket's leader (no direct get): a replica may not have the newest write yet,
    // and a compare-and-set needs the revision that is current.
    const kv = await new Kvm(conn.nc).create(`${conn.prefix}-catalog`, { replicas: conn.replicas, history: 1, allow_direct: false });
    return new JetStreamCatalog(kv, new JetStreamMetrics(conn));
  }

  async loadStreams(): Promise<StreamMeta[]> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys('streams.>')) keys.push(k);
    const docs: StreamMeta[] = [];
    for (const k of keys) {
      const entry = await this.kv.get(k);
      if (live(entry)) docs.push(entry.json<StreamMeta>());
    }
    return docs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async putStream(stream: StreamMeta): Promise<void> {
    await this.kv.put(streamEntryKey(stream.key), JSON.stringify(stream));
  }

  async deleteStream(key: string): Promise<void> {
    await this.kv.delete(streamEntryKey(key));
  }

  async getSetting(name: string): Promise<string | undefined> {
    return (await this.getSettingRevisioned(name))?.value;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.kv.put(settingEntryKey(name), value);
  }

  async getStream(key: string): Promise<Revisioned<StreamMeta> | undefined> {
    const entry = await this.kv.get(streamEntryKey(key));
    return live(entry) ? { value: entry.json<StreamMeta>(), revision: entry.revision } : undefined;
  }

  putStreamIf(stream: StreamMeta, revision: number): Promise<number> {
    return this.compareAndSet(streamEntryKey(stream.key), JSON.stringify(stream), revision);
  }

  async getSettingRevisioned(name: string): Promise<Revisioned<string> | undefined> {
    const entry = await this.kv.get(settingEntryKey(name));
    return live(entry) ? { value: entry.string(), revision: entry.revision } : undefined;
  }

  putSettingIf(name: string, value: string, revision: number): Promise<number> {
    return this.compareAndSet(settingEntryKey(name), value, revision);
  }

  /**
   * Watches the whole bucket (so that sync() can wait for its newest revision, whatever key that
   * is) and hands stream documents and deletions to `onChange`. A deletion carries only the
   * entry's key: the watch remembers which stream key each entry held.
   */
  async watchStreams(onChange: (change: StreamChange) => void): Promise<CatalogWatch> {
    const iter = await this.kv.watch({ key: '>' });
    const keys = new Map<string, string>();
    let seen = 0;
    let waiters: { revision: number; resolve: () => void }[] = [];
    let stopped = false;
    const done = (async () => {
      for await (const e of iter) {
        if (e.key.startsWith('streams.')) {
          if (e.operation === 'PUT') {
            let value: StreamMeta | undefined;
            try {
              value = e.json<StreamMeta>();
            } catch {
              value = undefined;
            }
            if (value) {
              keys.set(e.key, value.key);
              onChange({ key: value.key, value, revision: e.revision });
            }
          } else {
            const key = keys.get(e.key);
            keys.delete(e.key);
            if (key !== undefined) onChange({ key, value: undefined, revision: e.revision });
          }
        }
        seen = Math.max(seen, e.revision);
        if (waiters.length > 0) {
          const ready = waiters.filter((w) => w.revision <= seen);
          waiters = waiters.filter((w) => w.revision > seen);
          for (const w of ready) w.resolve();
        }
      }
    })();
    const kv = this.kv;
    return {
      async sync() {
        if (stopped) return;
        const last = (await kv.status()).streamInfo.state.last_seq;
        if (last <= seen) return;
        // A watch that cannot catch up (the connection is down) must not hold requests forever.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, SYNC_TIMEOUT_MS);
          timer.unref();
          waiters.push({ revision: last, resolve: () => (clearTimeout(timer), resolve()) });
        });
      },
      async stop() {
        stopped = true;
        iter.stop();
        for (const w of waiters) w.resolve();
        waiters = [];
        await done.catch(() => undefined);
      },
    };
  }

  /** Publishes the rows of completed minutes to the shared metrics stream (see metrics.ts). */
  appendMetrics(rows: readonly MetricRow[]): Promise<void> {
    return this.metrics.append(rows);
  }

  /** Every node's rows of a stream in [fromMinute, toMinute], combined per shard, minute and name. */
  readMetrics(stream: string, fromMinute: number, toMinute: number): Promise<MetricRow[]> {
    return this.metrics.read(stream, fromMinute, toMinute);
  }

  deleteMetricsBefore(minute: number): Promise<void> {
    return this.metrics.deleteBefore(minute);
  }

  async close(): Promise<void> {}

  private async compareAndSet(key: string, value: string, revision: number): Promise<number> {
    try {
      return revision === 0 ? await this.kv.create(key, value) : await this.kv.update(key, value, revision);
    } catch (err) {
      if (isConflict(err)) throw new CatalogConflictError(`${key} is not at revision ${revision}`);
      throw err;
    }
  }
}

function isConflict(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof JetStreamApiError && e.code === WRONG_LAST_SEQUENCE) return true;
    if (/wrong last sequence/i.test(e.message)) return true;
  }
  return false;
}
