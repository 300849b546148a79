/**
 * The table store in a replicated JetStream key-value bucket (`<prefix>-tables`), shared by every
 * node of a cluster.
 *
 * A table document is the value under `t.<escaped name>`; an item is the value under
 * `i.<table id>.<sha-256 of the item key>` holding the item key, a newline and the item document (an
 * item key can be longer than a subject token may be, so the bucket key is its digest). A value's revision is
 * the bucket's sequence of its last write, so the conditional writes map onto the bucket's create
 * (only if absent or deleted) and update / delete with a previous sequence: two nodes that race on
 * one item both read revision r, and only one of their writes at r is accepted.
 */
import { createHash } from 'node:crypto';
import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { TableConflictError, type ItemRange, type StoredItem, type TableDoc, type TableStore } from '../tables.js';
import { escapeKey } from './names.js';
import type { JetStreamConnection } from './store.js';

const WRONG_LAST_SEQUENCE = 10071;

/** Reads of current values in flight at once when a listing fetches them key by key. */
const GET_CONCURRENCY = 64;

function tableEntryKey(name: string): string {
  return `t.${escapeKey(name)}`;
}

function itemEntryKey(tableId: string, key: string): string {
  return `i.${escapeKey(tableId)}.${createHash('sha256').update(key).digest('hex')}`;
}

function live(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === 'PUT';
}

function itemValue(key: string, doc: string): string {
  return `${key}\n${doc}`;
}

function storedItem(e: KvEntry): StoredItem {
  const text = e.string();
  const newline = text.indexOf('\n');
  return { key: text.slice(0, newline), doc: text.slice(newline + 1), revision: e.revision };
}

export class JetStreamTableStore implements TableStore {
  private constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
  ) {}

  /** Opens the tables bucket, creating it with the connection's replica count when there is none. */
  static async open(conn: JetStreamConnection): Promise<JetStreamTableStore> {
    const bucket = `${conn.prefix}-tables`;
    const kv = await new Kvm(conn.nc).create(bucket, { replicas: conn.replicas, history: 1 });
    return new JetStreamTableStore(kv, await jetstreamManager(conn.nc), bucket);
  }

  async listTables(): Promise<TableDoc[]> {
    const docs = (await this.values('t.>')).map((e) => e.json<TableDoc>());
    return docs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async getTable(name: string): Promise<{ value: TableDoc; revision: number } | undefined> {
    const entry = await this.kv.get(tableEntryKey(name));
    return live(entry) ? { value: entry.json<TableDoc>(), revision: entry.revision } : undefined;
  }

  putTableIf(doc: TableDoc, revision: number): Promise<number> {
    return this.compareAndSet(tableEntryKey(doc.name), JSON.stringify(doc), revision);
  }

  async dropTable(name: string, id: string): Promise<void> {
    await this.kv.delete(tableEntryKey(name));
    for (const k of await this.keysUnder(`i.${escapeKey(id)}.*`)) await this.kv.purge(k);
  }

  async getItem(tableId: string, key: string): Promise<StoredItem | undefined> {
    const entry = await this.kv.get(itemEntryKey(tableId, key));
    return live(entry) ? storedItem(entry) : undefined;
  }

  putItemIf(tableId: string, key: string, doc: string, revision: number): Promise<number> {
    return this.compareAndSet(itemEntryKey(tableId, key), itemValue(key, doc), revision);
  }

  async deleteItemIf(tableId: string, key: string, revision: number): Promise<void> {
    try {
      await this.kv.delete(itemEntryKey(tableId, key), { previousSeq: revision });
    } catch (err) {
      if (isConflict(err)) throw new TableConflictError(`item is not at revision ${revision}`);
      throw err;
    }
  }

  async items(tableId: string, range: ItemRange = {}): Promise<StoredItem[]> {
    const entries = await this.values(`i.${escapeKey(tableId)}.*`);
    let items: StoredItem[] = entries.map(storedItem);
    const { prefix, after, limit } = range;
    if (prefix !== undefined || after !== undefined) {
      items = items.filter((i) => (prefix === undefined || i.key.startsWith(prefix)) && (after === undefined || i.key > after));
    }
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return limit !== undefined ? items.slice(0, limit) : items;
  }

  async countItems(tableId: string): Promise<number> {
    return (await this.values(`i.${escapeKey(tableId)}.*`)).length;
  }

  async close(): Promise<void> {}

  /**
   * The keys under a key filter that hold a value or a delete marker, as the stream's own
   * per-subject state lists them: one request the server answers from what it holds at that
   * moment. (A consumer over the last values would be told how many to expect when it is made, and
   * a value rewritten meanwhile, its old message removed, leaves it waiting for one that never
   * comes.)
   */
  private async keysUnder(filter: string): Promise<string[]> {
    const prefix = `$KV.${this.bucket}.`;
    const info = await this.jsm.streams.info(`KV_${this.bucket}`, { subjects_filter: prefix + filter });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
  }

  /**
   * The live values under a key filter: the keys listed, then each one's current value read. A key
   * written after the listing is left out, one deleted since is skipped, one rewritten since is read
   * at its newest revision; every step is a request with a timeout, so the read always ends.
   */
  private async values(filter: string): Promise<KvEntry[]> {
    const keys = await this.keysUnder(filter);
    const entries: (KvEntry | null)[] = new Array(keys.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const at = next++;
        entries[at] = await this.kv.get(keys[at]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(GET_CONCURRENCY, keys.length) }, worker));
    return entries.filter(live);
  }

  private async compareAndSet(key: string, value: string, revision: number): Promise<number> {
    try {
      return revision === 0 ? await this.kv.create(key, value) : await this.kv.update(key, value, revision);
    } catch (err) {
      if (isConflict(err)) throw new TableConflictError(`${key} is not at revision ${revision}`);
      throw err;
    }
  }
}

function isConflict(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof JetStreamApiError && e.code === WRONG_LAST_SEQUENCE) return true;
    if (/wrong last sequence|key exists/i.test(e.message)) return true;
  }
  return false;
}
