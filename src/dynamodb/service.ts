/**
 * The DynamoDB service: tables and their items over a TableStore. Operations (./operations) call
 * into it with validated input.
 *
 * Conditional writes are atomic per item: inside a node, writes to one item run one after another
 * (a promise chain per item); between nodes sharing a JetStream store, each write is a
 * compare-and-set on the item's revision, and a write that loses the race reads the item again and
 * re-evaluates its condition.
 */
import { randomUUID } from 'node:crypto';
import { ResourceInUseException, ResourceNotFoundException, ValidationException } from '../protocol/errors.js';
import { TableConflictError, type TableStore } from '../storage/tables.js';
import type { Clock } from '../util/clock.js';
import { ConditionalCheckFailedException } from './errors.js';
import type { Condition } from './expressions/ast.js';
import { evaluate } from './expressions/evaluate.js';
import { attributeType, describeTable, keyNames, type TableMeta } from './tables.js';
import {
  checkItem,
  checkItemSize,
  checkValue,
  itemFromJson,
  itemSize,
  itemToJson,
  storageKey,
  memberOf,
  setMember,
  typeOf,
  valueSize,
  type AttributeMap,
  type AttributeValue,
} from './values.js';

export interface DynamoDbSettings {
  region: string;
  accountId: string;
}

/** How often a write that lost a compare-and-set race tries again before giving up. */
const MAX_ATTEMPTS = 1000;

export const NOT_FOUND = 'Requested resource not found';
export const KEY_MISMATCH = 'The provided key element does not match the schema';

export interface WriteResult {
  old?: AttributeMap;
  next?: AttributeMap;
}

export class DynamoDb {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly settings: DynamoDbSettings,
    readonly store: TableStore,
    readonly clock: Clock,
  ) {}

  async close(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
    await this.store.close();
  }

  // ---- tables

  /** The table, or ResourceNotFoundException with `message`. */
  async table(name: string, message = NOT_FOUND): Promise<TableMeta> {
    const found = await this.store.getTable(name);
    if (!found) throw new ResourceNotFoundException(message);
    return found.value as TableMeta;
  }

  async tableRevisioned(name: string, message = NOT_FOUND): Promise<{ value: TableMeta; revision: number }> {
    const found = await this.store.getTable(name);
    if (!found) throw new ResourceNotFoundException(message);
    return found as { value: TableMeta; revision: number };
  }

  async createTable(meta: Omit<TableMeta, 'id' | 'createdAt'>): Promise<TableMeta> {
    const doc: TableMeta = { ...meta, id: randomUUID(), createdAt: this.clock.now() } as TableMeta;
    try {
      await this.store.putTableIf(doc, 0);
    } catch (err) {
      if (err instanceof TableConflictError) throw new ResourceInUseException(`Table already exists: ${meta.name}`);
      throw err;
    }
    return doc;
  }

  /** Changes a table document by compare-and-set, retrying when another writer came first. */
  async updateTable(name: string, change: (t: TableMeta) => TableMeta): Promise<TableMeta> {
    for (let attempt = 0; ; attempt++) {
      const { value, revision } = await this.tableRevisioned(name, `Requested resource not found: Table: ${name} not found`);
      const next = change(value);
      try {
        await this.store.putTableIf(next, revision);
        return next;
      } catch (err) {
        if (!(err instanceof TableConflictError) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  async dropTable(t: TableMeta): Promise<void> {
    await this.store.dropTable(t.name, t.id);
  }

  async describe(t: TableMeta, status: 'CREATING' | 'ACTIVE' | 'DELETING' | 'UPDATING' = 'ACTIVE'): Promise<Record<string, unknown>> {
    let itemCount = 0;
    let sizeBytes = 0;
    if (status !== 'CREATING') {
      const items = await this.store.items(t.id);
      itemCount = items.length;
      for (const i of items) sizeBytes += itemSize(itemFromJson(i.doc));
    }
    return describeTable(t, { ...this.settings, status, itemCount, sizeBytes });
  }

  // ---- keys

  /**
   * The storage key of a Key parameter: exactly the table's key attributes, of their declared
   * types, non-empty. `message` is what a mismatch says.
   */
  keyOf(t: TableMeta, key: AttributeMap, message = KEY_MISMATCH): string {
    const names = keyNames(t);
    for (const v of Object.values(key)) checkValue(v);
    if (Object.keys(key).length !== names.length) throw new ValidationException(message);
    const parts: AttributeValue[] = [];
    for (const name of names) {
      const v = memberOf(key, name);
      if (v === undefined || typeOf(v) !== attributeType(t, name)) throw new ValidationException(message);
      checkKeyNotEmpty(name, v);
      parts.push(v);
    }
    checkKeySizes(parts);
    return storageKey(parts[0]!, parts[1]);
  }

  /** The storage key of a whole item, with PutItem's messages for a missing or mistyped key. */
  itemKeyOf(t: TableMeta, item: AttributeMap): string {
    const parts: AttributeValue[] = [];
    for (const name of keyNames(t)) {
      const v = memberOf(item, name);
      if (v === undefined) throw new ValidationException(`One or more parameter values were invalid: Missing the key ${name} in the item`);
      const expected = attributeType(t, name);
      const actual = typeOf(v);
      if (actual !== expected) {
        throw new ValidationException(
          `One or more parameter values were invalid: Type mismatch for key ${name} expected: ${expected} actual: ${actual}`,
        );
      }
      checkKeyNotEmpty(name, v);
      parts.push(v);
    }
    checkKeySizes(parts);
    return storageKey(parts[0]!, parts[1]);
  }

  /** The key attributes of an item. */
  keyAttributes(t: TableMeta, item: AttributeMap): AttributeMap {
    const out: AttributeMap = {};
    for (const name of keyNames(t)) {
      const v = memberOf(item, name);
      if (v !== undefined) setMember(out, name, v);
    }
    return out;
  }

  // ---- items

  async getItem(t: TableMeta, key: string): Promise<AttributeMap | undefined> {
    const stored = await this.store.getItem(t.id, key);
    return stored ? itemFromJson(stored.doc) : undefined;
  }

  /**
   * Reads, decides and writes one item atomically. `decide` gets the current item (undefined when
   * there is none) and returns the new item, null to delete it, or undefined to leave it; it may
   * throw (a failed condition). It can run more than once when another node wins a race.
   */
  async writeItem(t: TableMeta, key: string, decide: (old: AttributeMap | undefined) => AttributeMap | null | undefined): Promise<WriteResult> {
    return this.withLock(`${t.id}\n${key}`, async () => {
      for (let attempt = 0; ; attempt++) {
        const stored = await this.store.getItem(t.id, key);
        const old = stored ? itemFromJson(stored.doc) : undefined;
        const next = decide(old);
        try {
          if (next === null) {
            if (stored) await this.store.deleteItemIf(t.id, key, stored.revision);
            return { old };
          }
          if (next === undefined) return { old, next: old };
          checkItemSize(next);
          await this.store.putItemIf(t.id, key, itemToJson(next), stored?.revision ?? 0);
          return { old, next };
        } catch (err) {
          if (!(err instanceof TableConflictError) || attempt >= MAX_ATTEMPTS) throw err;
        }
      }
    });
  }

  /** Throws ConditionalCheckFailedException (with the old item when asked) unless the condition holds. */
  checkCondition(condition: Condition | undefined, old: AttributeMap | undefined, returnOld: boolean): void {
    if (condition === undefined) return;
    if (!evaluate(condition, old ?? {})) {
      throw new ConditionalCheckFailedException(returnOld && old !== undefined ? old : undefined);
    }
  }

  checkNewItem(item: AttributeMap): void {
    checkItem(item);
    checkItemSize(item);
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

/** DynamoDB's limits on the size of key values, in bytes. */
const MAX_HASH_KEY_BYTES = 2048;
const MAX_RANGE_KEY_BYTES = 1024;

function checkKeySizes(parts: AttributeValue[]): void {
  // The wording (including "of2048") is DynamoDB's.
  if (valueSize(parts[0]!) > MAX_HASH_KEY_BYTES) {
    throw new ValidationException(`One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of${MAX_HASH_KEY_BYTES} bytes`);
  }
  if (parts[1] !== undefined && valueSize(parts[1]) > MAX_RANGE_KEY_BYTES) {
    throw new ValidationException(
      `One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of ${MAX_RANGE_KEY_BYTES} bytes`,
    );
  }
}

function checkKeyNotEmpty(name: string, v: AttributeValue): void {
  if (v.S === '') {
    throw new ValidationException(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${name}`,
    );
  }
  if (v.B !== undefined && v.B.length === 0) {
    throw new ValidationException(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: ${name}`,
    );
  }
}
