/**
 * Scan and Query: the items of a table or of one of its indexes in key order, paging with
 * ExclusiveStartKey / LastEvaluatedKey, Limit and the 1 MB page size, then filters, projections
 * and Select.
 */
import { ValidationException } from '../protocol/errors.js';
import type { Condition, Operand, Path } from './expressions/ast.js';
import { evaluate, project } from './expressions/evaluate.js';
import type { DynamoDb } from './service.js';
import { attributeType, keyNames, type IndexMeta, type TableMeta } from './tables.js';
import {
  checkValue,
  hashKeyPrefix,
  itemFromJson,
  itemSize,
  storageKey,
  memberOf,
  setMember,
  typeOf,
  type AttributeMap,
  type AttributeValue,
} from './values.js';

/** DynamoDB stops a page once it has read 1 MB. */
const PAGE_BYTES = 1024 * 1024;
const BAD_START = 'The provided starting key is invalid: The provided key element does not match the schema';

export interface ReadSource {
  table: TableMeta;
  index?: IndexMeta;
  /** Key attribute names of what is read: the index's when there is one, else the table's. */
  keys: string[];
}

export function readSource(t: TableMeta, indexName: string | undefined): ReadSource {
  if (indexName === undefined) return { table: t, keys: keyNames(t) };
  const index = [...t.globalSecondaryIndexes, ...t.localSecondaryIndexes].find((i) => i.IndexName === indexName);
  if (!index) throw new ValidationException(`The table does not have the specified index: ${indexName}`);
  return { table: t, index, keys: keyNames(index) };
}

export function checkConsistentRead(src: ReadSource, consistent: boolean | undefined): void {
  if (consistent && src.index && src.table.globalSecondaryIndexes.includes(src.index)) {
    throw new ValidationException('Consistent reads are not supported on global secondary indexes');
  }
}

interface Row {
  sortKey: string;
  item: AttributeMap;
}

function keyValue(item: AttributeMap, name: string, type: string): AttributeValue | undefined {
  const v = memberOf(item, name);
  return v !== undefined && typeOf(v) === type ? v : undefined;
}

/** The sort key of an item in an index (undefined when the item is not in the index): index key, then table key. */
function indexSortKey(src: ReadSource, item: AttributeMap): string | undefined {
  const t = src.table;
  const parts: AttributeValue[] = [];
  for (const name of src.keys) {
    const v = keyValue(item, name, attributeType(t, name));
    if (v === undefined) return undefined;
    parts.push(v);
  }
  const tableKeys = keyNames(t).map((n) => item[n]!);
  return storageKey(parts[0]!, parts[1]) + storageKey(tableKeys[0]!, tableKeys[1]);
}

/** Rows in ascending key order; with a hash prefix only those under that hash key. */
async function rows(d: DynamoDb, src: ReadSource, hash?: AttributeValue, after?: string, limit?: number): Promise<Row[]> {
  if (!src.index) {
    const stored = await d.store.items(src.table.id, { prefix: hash && hashKeyPrefix(hash), after, limit });
    return stored.map((s) => ({ sortKey: s.key, item: itemFromJson(s.doc) }));
  }
  const out: Row[] = [];
  const prefix = hash && hashKeyPrefix(hash);
  for (const s of await d.store.items(src.table.id)) {
    const item = itemFromJson(s.doc);
    const sortKey = indexSortKey(src, item);
    if (sortKey === undefined || (prefix !== undefined && !sortKey.startsWith(prefix))) continue;
    if (after !== undefined && sortKey <= after) continue;
    out.push({ sortKey, item });
  }
  out.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  return out;
}

/** The sort key an ExclusiveStartKey stands for. */
function startKey(d: DynamoDb, src: ReadSource, esk: AttributeMap): string {
  for (const v of Object.values(esk)) checkValue(v);
  if (!src.index) return d.keyOf(src.table, esk, BAD_START);
  const names = new Set([...src.keys, ...keyNames(src.table)]);
  if (Object.keys(esk).length !== names.size || [...names].some((n) => esk[n] === undefined)) {
    throw new ValidationException(BAD_START);
  }
  const key = indexSortKey(src, esk);
  if (key === undefined) throw new ValidationException(BAD_START);
  return key;
}

/** The LastEvaluatedKey of an item: the table's key, plus the index's key when reading an index. */
function lastKey(src: ReadSource, item: AttributeMap): AttributeMap {
  const out: AttributeMap = {};
  for (const n of [...keyNames(src.table), ...(src.index ? src.keys : [])]) setMember(out, n, item[n]!);
  return out;
}

export interface ReadOptions {
  limit?: number;
  exclusiveStartKey?: AttributeMap;
  filter?: Condition;
  projection?: Path[];
  select?: string;
  /** Query: the hash key value and the condition on the range key. */
  hash?: AttributeValue;
  rangeCondition?: Condition;
  forward?: boolean;
  segment?: number;
  totalSegments?: number;
}

export interface ReadResult {
  Items?: AttributeMap[];
  Count: number;
  ScannedCount: number;
  LastEvaluatedKey?: AttributeMap;
}

function segmentOf(src: ReadSource, item: AttributeMap, total: number): number {
  const hash = item[keyNames(src.table)[0]!]!;
  let h = 0;
  for (const c of hashKeyPrefix(hash)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % total;
}

function indexProjection(src: ReadSource, item: AttributeMap): AttributeMap {
  const p = src.index?.Projection;
  if (!p || p.ProjectionType === 'ALL' || p.ProjectionType === undefined) return item;
  const names = new Set([...keyNames(src.table), ...src.keys, ...(p.ProjectionType === 'INCLUDE' ? p.NonKeyAttributes ?? [] : [])]);
  const out: AttributeMap = {};
  for (const n of names) {
    const v = memberOf(item, n);
    if (v !== undefined) setMember(out, n, v);
  }
  return out;
}

export async function read(d: DynamoDb, src: ReadSource, o: ReadOptions): Promise<ReadResult> {
  const forward = o.forward ?? true;
  const after = o.exclusiveStartKey ? startKey(d, src, o.exclusiveStartKey) : undefined;
  const simple = forward && o.totalSegments === undefined && o.rangeCondition === undefined && o.limit !== undefined;
  let all = await rows(d, src, o.hash, forward ? after : undefined, simple ? o.limit! + 1 : undefined);
  if (o.rangeCondition) all = all.filter((r) => evaluate(o.rangeCondition!, r.item, 'KeyConditionExpression'));
  if (!forward) {
    all.reverse();
    if (after !== undefined) all = all.filter((r) => r.sortKey < after);
  }
  if (o.totalSegments !== undefined) all = all.filter((r) => segmentOf(src, r.item, o.totalSegments!) === o.segment);

  const items: AttributeMap[] = [];
  let scanned = 0;
  let bytes = 0;
  let last: AttributeMap | undefined;
  for (let i = 0; i < all.length; i++) {
    const row = all[i]!;
    scanned++;
    bytes += itemSize(row.item);
    if (!o.filter || evaluate(o.filter, row.item, 'FilterExpression')) {
      let out = indexProjection(src, row.item);
      if (o.projection) out = project(out, o.projection);
      items.push(out);
    }
    // Like DynamoDB, a page that reached its Limit names its last key even when nothing follows;
    // a page cut at 1 MB does so only when something follows.
    const more = i < all.length - 1;
    if ((o.limit !== undefined && scanned >= o.limit) || (more && bytes >= PAGE_BYTES)) {
      last = lastKey(src, row.item);
      break;
    }
  }
  return {
    Items: o.select === 'COUNT' ? undefined : items,
    Count: items.length,
    ScannedCount: scanned,
    LastEvaluatedKey: last,
  };
}

// ---- key conditions

function flattenAnd(c: Condition, out: Condition[]): void {
  if (c.kind === 'and') {
    flattenAnd(c.left, out);
    flattenAnd(c.right, out);
  } else {
    out.push(c);
  }
}

function keyPath(o: Operand): string | undefined {
  return o.kind === 'path' && o.path.length === 1 && 'name' in o.path[0]! ? o.path[0].name : undefined;
}

const NOT_SUPPORTED = 'Query key condition not supported';

/** The key attribute a key-condition part is about, when it is about one attribute. */
function conditionAttribute(c: Condition): string | undefined {
  if (c.kind === 'compare') return keyPath(c.left) ?? keyPath(c.right);
  if (c.kind === 'between') return keyPath(c.operand);
  if (c.kind === 'function') return c.args[0] && keyPath(c.args[0]);
  return undefined;
}

/** Splits a key condition into the hash key value and the condition on the range key. */
export function analyzeKeyCondition(src: ReadSource, c: Condition): { hash: AttributeValue; range?: Condition } {
  const parts: Condition[] = [];
  flattenAnd(c, parts);
  if (parts.length > 2) throw new ValidationException('Conditions can be of length 1 or 2 only');
  const [hashName, rangeName] = src.keys as [string, string | undefined];
  let hash: AttributeValue | undefined;
  let range: Condition | undefined;
  for (const p of parts) {
    let attr: string | undefined;
    let value: Operand | undefined;
    if (p.kind === 'compare') {
      if (p.op === '<>') throw new ValidationException(`Unsupported operator in KeyConditionExpression: <>`);
      const l = keyPath(p.left);
      const r = keyPath(p.right);
      attr = l ?? r;
      value = l !== undefined ? p.right : p.left;
      if (attr === undefined || value.kind !== 'value') throw new ValidationException(NOT_SUPPORTED);
    } else if (p.kind === 'between') {
      attr = keyPath(p.operand);
    } else if (p.kind === 'function' && p.name === 'begins_with') {
      attr = keyPath(p.args[0]!);
    } else {
      throw new ValidationException(NOT_SUPPORTED);
    }
    if (attr === undefined) throw new ValidationException(NOT_SUPPORTED);
    if (attr === hashName && p.kind === 'compare' && p.op === '=' && hash === undefined) {
      hash = (value as { value: AttributeValue }).value;
      if (typeOf(hash) !== attributeType(src.table, hashName)) {
        throw new ValidationException('One or more parameter values were invalid: Condition parameter type does not match schema type');
      }
    } else if (attr === rangeName && range === undefined) {
      range = p;
    } else if (attr === hashName || attr === rangeName) {
      throw new ValidationException(
        hash !== undefined && attr === hashName || range !== undefined && attr === rangeName
          ? 'KeyConditionExpressions must only contain one condition per key'
          : NOT_SUPPORTED,
      );
    } else if (hash === undefined && !parts.some((q) => q !== p && conditionAttribute(q) === hashName)) {
      throw new ValidationException(`Query condition missed key schema element: ${hashName}`);
    } else {
      throw new ValidationException(NOT_SUPPORTED);
    }
  }
  if (hash === undefined) throw new ValidationException(`Query condition missed key schema element: ${hashName}`);
  return range === undefined ? { hash } : { hash, range };
}
