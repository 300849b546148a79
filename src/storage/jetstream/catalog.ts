/**
 * The catalog in a replicated JetStream key-value bucket, shared by every node of a cluster.
 *
 * A stream document is one value under `streams.<key>`, a setting one under `settings.<name>`
 * (both escaped as in names.ts). A value's revision is the bucket's sequence of its last write, so
 * the compare-and-set writes of the Catalog interface map onto the bucket's create (only if
 * absent) and update (only if still at that revision). The plain putStream and putSetting write
 * unconditionally, as the embedded catalog does.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { CatalogConflictError, type Catalog, type Revisioned, type StreamMeta } from '../catalog.js';
import { escapeKey } from './names.js';
import type { JetStreamConnection } from './store.js';

const WRONG_LAST_SEQUENCE = 10071;

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
  private constructor(readonly kv: KV) {}

  /** Opens the catalog bucket, creating it with the connection's replica count when there is none. */
  static async open(conn: JetStreamConnection): Promise<JetStreamCatalog> {
    const kv = await new Kvm(conn.nc).create(`${conn.prefix}-catalog`, { replicas: conn.replicas, history: 1 });
    return new JetStreamCatalog(kv);
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
