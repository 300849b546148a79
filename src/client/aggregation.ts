/**
 * The KPL aggregation format: many user records packed into one Kinesis record.
 *
 *   F3 89 9A C2  ||  protobuf AggregatedRecord  ||  MD5(protobuf bytes) (16 bytes)
 *
 *   AggregatedRecord { repeated string partition_key_table = 1;
 *                      repeated string explicit_hash_key_table = 2;
 *                      repeated Record records = 3; }
 *   Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *            required bytes data = 3; repeated Tag tags = 4; }
 *   Tag { required string key = 1; optional string value = 2; }
 *
 * The codec is hand-written (no protobuf runtime): it writes fields in field-number order, the
 * key tables in order of first use and omits empty repeated fields, so its output is byte-for-byte
 * what protobuf encoders produce for the same message. Decoding skips unknown fields and tags.
 * bench/scenarios/producer-aggregation.ts compares it with a protobufjs reflection codec.
 */
import { createHash } from 'node:crypto';
import type { _Record } from '@aws-sdk/client-kinesis';

export interface UserRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array;
  sequenceNumber: string; // the Kinesis record's sequence number
  subSequenceNumber: number; // index inside the aggregated record; 0 for a plain record
  aggregated: boolean;
  approximateArrivalTimestamp?: Date;
  encryptionType?: string;
}

/** The four bytes every aggregated record starts with. */
export const KPL_MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
export const MD5_DIGEST_BYTES = 16;
/** Largest Kinesis record: data plus partition key (UTF-8 bytes). */
export const MAX_KINESIS_RECORD_BYTES = 1024 * 1024;
/** The KPL's default AggregationMaxSize (bytes of the aggregated record's data). */
export const DEFAULT_AGGREGATION_MAX_BYTES = 51_200;
/** The KPL's default (and largest) AggregationMaxCount. */
export const DEFAULT_AGGREGATION_MAX_COUNT = 4_294_967_295;

/** Thrown by the decoder on malformed protobuf; never escapes deaggregate(). */
class MalformedAggregate extends Error {}

// ---------------------------------------------------------------------------------------------
// Decoding

// The decoder keeps its read position in `pos` (module state, so that reading a varint allocates
// nothing); every function below reads from `pos` and advances it.
let pos = 0;

/** Reads a varint ending before `end`. Indexes and lengths fit in 2^53; larger values are malformed. */
function readVarint(buf: Uint8Array, end: number): number {
  if (pos >= end) throw new MalformedAggregate('truncated varint');
  let b = buf[pos++]!;
  if (b < 0x80) return b;
  let result = b & 0x7f;
  let mul = 128;
  for (let i = 1; i < 10; i++) {
    if (pos >= end) throw new MalformedAggregate('truncated varint');
    b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) throw new MalformedAggregate('varint too large');
      return result;
    }
    mul *= 128;
  }
  throw new MalformedAggregate('varint too long');
}

/** Reads a length prefix and returns where the field ends; `pos` is left at its start. */
function readLength(buf: Uint8Array, end: number): number {
  const len = readVarint(buf, end);
  const fieldEnd = pos + len;
  if (fieldEnd > end) throw new MalformedAggregate('truncated field');
  return fieldEnd;
}

function skipField(buf: Uint8Array, end: number, wireType: number): void {
  switch (wireType) {
    case 0:
      readVarint(buf, end);
      return;
    case 1:
      pos += 8;
      break;
    case 2:
      pos = readLength(buf, end);
      return;
    case 5:
      pos += 4;
      break;
    default:
      throw new MalformedAggregate(`unsupported wire type ${wireType}`);
  }
  if (pos > end) throw new MalformedAggregate('truncated field');
}

function utf8(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/** What the protobuf AggregatedRecord in buf[start, end) holds; record i is pk[i], ehk[i] (-1: none), data [ds[i], de[i]). */
interface Decoded {
  partitionKeys: string[];
  explicitHashKeys: string[];
  pk: number[];
  ehk: number[];
  ds: number[];
  de: number[];
}

function decodeAggregate(buf: Uint8Array, start: number, end: number): Decoded {
  const d: Decoded = { partitionKeys: [], explicitHashKeys: [], pk: [], ehk: [], ds: [], de: [] };
  pos = start;
  while (pos < end) {
    const key = readVarint(buf, end);
    const wire = key & 7;
    const field = (key - wire) / 8;
    if (wire !== 2 || field < 1 || field > 3) {
      skipField(buf, end, wire);
      continue;
    }
    const fieldEnd = readLength(buf, end);
    if (field === 1) d.partitionKeys.push(utf8(buf, pos, fieldEnd));
    else if (field === 2) d.explicitHashKeys.push(utf8(buf, pos, fieldEnd));
    else {
      let pk = -1;
      let ehk = -1;
      let ds = -1;
      let de = -1;
      while (pos < fieldEnd) {
        const k = readVarint(buf, fieldEnd);
        if (k === 0x08) pk = readVarint(buf, fieldEnd);
        else if (k === 0x10) ehk = readVarint(buf, fieldEnd);
        else if (k === 0x1a) {
          de = readLength(buf, fieldEnd);
          ds = pos;
          pos = de;
        } else skipField(buf, fieldEnd, k & 7);
      }
      if (pk < 0 || ds < 0) throw new MalformedAggregate('missing required field');
      d.pk.push(pk);
      d.ehk.push(ehk);
      d.ds.push(ds);
      d.de.push(de);
    }
    pos = fieldEnd;
  }
  const nPk = d.partitionKeys.length;
  const nEhk = d.explicitHashKeys.length;
  for (let i = 0; i < d.pk.length; i++) {
    if (d.pk[i]! >= nPk) throw new MalformedAggregate('partition key index out of range');
    if (d.ehk[i]! >= nEhk) throw new MalformedAggregate('explicit hash key index out of range');
  }
  return d;
}

function startsWithMagic(data: Uint8Array): boolean {
  return (
    data.length >= KPL_MAGIC.length + MD5_DIGEST_BYTES &&
    data[0] === 0xf3 &&
    data[1] === 0x89 &&
    data[2] === 0x9a &&
    data[3] === 0xc2
  );
}

function md5(data: Uint8Array): Buffer {
  return createHash('md5').update(data).digest();
}

function plainRecord(record: _Record, data: Uint8Array): UserRecord {
  return {
    partitionKey: record.PartitionKey ?? '',
    explicitHashKey: undefined,
    data,
    sequenceNumber: record.SequenceNumber ?? '',
    subSequenceNumber: 0,
    aggregated: false,
    approximateArrivalTimestamp: record.ApproximateArrivalTimestamp,
    encryptionType: record.EncryptionType,
  };
}

/** True when the bytes carry the KPL magic and a matching MD5 trailer. */
export function isAggregated(data: Uint8Array): boolean {
  if (!startsWithMagic(data)) return false;
  const bodyEnd = data.length - MD5_DIGEST_BYTES;
  const digest = md5(data.subarray(KPL_MAGIC.length, bodyEnd));
  return Buffer.from(data.buffer, data.byteOffset + bodyEnd, MD5_DIGEST_BYTES).equals(digest);
}

/** Takes a record as @aws-sdk/client-kinesis returns it (the `_Record` type) and returns its user records:
 *  one for a plain record (aggregated=false), or every record inside a KPL aggregated record. An aggregated record
 *  whose MD5 trailer does not match, or whose protobuf does not parse, is returned as a plain record (as the KCL does).
 *  The user records' data are views into the record's Data (no copy). Every user record has all the
 *  properties of UserRecord; those without a value are undefined. */
export function deaggregate(record: _Record): UserRecord[] {
  const data = record.Data ?? new Uint8Array(0);
  if (!isAggregated(data)) return [plainRecord(record, data)];
  let d: Decoded;
  try {
    d = decodeAggregate(data, KPL_MAGIC.length, data.length - MD5_DIGEST_BYTES);
  } catch (err) {
    if (err instanceof MalformedAggregate) return [plainRecord(record, data)];
    throw err;
  }
  const sequenceNumber = record.SequenceNumber ?? '';
  const arrival = record.ApproximateArrivalTimestamp;
  const encryption = record.EncryptionType;
  const n = d.pk.length;
  const out: UserRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const e = d.ehk[i]!;
    out[i] = {
      partitionKey: d.partitionKeys[d.pk[i]!]!,
      explicitHashKey: e < 0 ? undefined : d.explicitHashKeys[e],
      data: data.subarray(d.ds[i]!, d.de[i]!),
      sequenceNumber,
      subSequenceNumber: i,
      aggregated: true,
      approximateArrivalTimestamp: arrival,
      encryptionType: encryption,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

interface KeyEntry {
  index: number;
  bytes: Buffer;
}

interface PendingEntry {
  pk: number;
  ehk: number | undefined;
  data: Uint8Array;
  /** Bytes of the Record message body (without its own tag and length). */
  bodySize: number;
}

export interface AggregatorOptions {
  /** Largest size of the aggregated record's data (magic + protobuf + MD5). Default 51,200 (the KPL's
   *  AggregationMaxSize); never more than 1 MiB minus the partition key. */
  maxBytes?: number;
  /** Most user records in one aggregated record. Default 4,294,967,295 (the KPL's AggregationMaxCount). */
  maxCount?: number;
}

/** The Kinesis record an Aggregator builds: send it with PutRecord(s) as is. */
export interface AggregatedRecord {
  /** The first user record's partition key. */
  partitionKey: string;
  /** The first user record's explicit hash key, if it had one. */
  explicitHashKey: string | undefined;
  data: Uint8Array;
}

/**
 * Collects user records and builds one KPL aggregated record. add() refuses (returns false) a record
 * that would take the aggregate past maxBytes / maxCount or past 1 MiB of data plus partition key;
 * an empty aggregator always accepts a record that fits in 1 MiB on its own.
 */
export class Aggregator {
  readonly maxBytes: number;
  readonly maxCount: number;
  private pkTable = new Map<string, KeyEntry>();
  private pkList: KeyEntry[] = [];
  private ehkTable = new Map<string, KeyEntry>();
  private ehkList: KeyEntry[] = [];
  private entries: PendingEntry[] = [];
  /** Size of the protobuf message so far. */
  private protoSize = 0;
  private firstPkBytes = 0;

  constructor(options: AggregatorOptions = {}) {
    this.maxBytes = Math.min(options.maxBytes ?? DEFAULT_AGGREGATION_MAX_BYTES, MAX_KINESIS_RECORD_BYTES);
    this.maxCount = options.maxCount ?? DEFAULT_AGGREGATION_MAX_COUNT;
  }

  /** Number of user records added. */
  get count(): number {
    return this.entries.length;
  }

  /** Size of the aggregated record's data if built now (magic + protobuf + MD5), or 0 when empty. */
  get sizeInBytes(): number {
    return this.entries.length === 0 ? 0 : KPL_MAGIC.length + this.protoSize + MD5_DIGEST_BYTES;
  }

  /** Size the aggregated record's data would have with this record added (without adding it). */
  sizeWith(partitionKey: string, data: Uint8Array, explicitHashKey?: string): number {
    return KPL_MAGIC.length + this.protoSize + this.growth(partitionKey, data, explicitHashKey).total + MD5_DIGEST_BYTES;
  }

  private growth(
    partitionKey: string,
    data: Uint8Array,
    explicitHashKey: string | undefined,
  ): { total: number; body: number; pkBytes: number } {
    let total = 0;
    const pk = this.pkTable.get(partitionKey);
    const pkBytes = pk ? pk.bytes.length : Buffer.byteLength(partitionKey, 'utf8');
    if (!pk) total += 1 + varintSize(pkBytes) + pkBytes;
    let body = 1 + varintSize(pk ? pk.index : this.pkList.length);
    if (explicitHashKey !== undefined) {
      const ehk = this.ehkTable.get(explicitHashKey);
      if (!ehk) {
        const n = Buffer.byteLength(explicitHashKey, 'utf8');
        total += 1 + varintSize(n) + n;
      }
      body += 1 + varintSize(ehk ? ehk.index : this.ehkList.length);
    }
    body += 1 + varintSize(data.length) + data.length;
    total += 1 + varintSize(body) + body;
    return { total, body, pkBytes };
  }

  /** Adds a user record; returns false (and adds nothing) when it does not fit. */
  add(partitionKey: string, data: Uint8Array, explicitHashKey?: string): boolean {
    if (this.entries.length >= this.maxCount) return false;
    const g = this.growth(partitionKey, data, explicitHashKey);
    const size = KPL_MAGIC.length + this.protoSize + g.total + MD5_DIGEST_BYTES;
    const firstPk = this.entries.length === 0 ? g.pkBytes : this.firstPkBytes;
    if (size + firstPk > MAX_KINESIS_RECORD_BYTES) return false;
    if (size > this.maxBytes && this.entries.length > 0) return false;
    let pk = this.pkTable.get(partitionKey);
    if (!pk) {
      pk = { index: this.pkList.length, bytes: Buffer.from(partitionKey, 'utf8') };
      this.pkTable.set(partitionKey, pk);
      this.pkList.push(pk);
    }
    let ehkIndex: number | undefined;
    if (explicitHashKey !== undefined) {
      let ehk = this.ehkTable.get(explicitHashKey);
      if (!ehk) {
        ehk = { index: this.ehkList.length, bytes: Buffer.from(explicitHashKey, 'utf8') };
        this.ehkTable.set(explicitHashKey, ehk);
        this.ehkList.push(ehk);
      }
      ehkIndex = ehk.index;
    }
    if (this.entries.length === 0) this.firstPkBytes = g.pkBytes;
    this.entries.push({ pk: pk.index, ehk: ehkIndex, data, bodySize: g.body });
    this.protoSize += g.total;
    return true;
  }

  /** Encodes the collected records. The aggregator keeps them until clear(). Throws when empty. */
  build(): AggregatedRecord {
    if (this.entries.length === 0) throw new Error('Aggregator.build() called with no records');
    const out = new Uint8Array(KPL_MAGIC.length + this.protoSize + MD5_DIGEST_BYTES);
    out.set(KPL_MAGIC, 0);
    let pos = KPL_MAGIC.length;
    for (const k of this.pkList) {
      out[pos++] = 0x0a; // field 1, length-delimited
      pos = writeVarint(out, pos, k.bytes.length);
      out.set(k.bytes, pos);
      pos += k.bytes.length;
    }
    for (const k of this.ehkList) {
      out[pos++] = 0x12; // field 2, length-delimited
      pos = writeVarint(out, pos, k.bytes.length);
      out.set(k.bytes, pos);
      pos += k.bytes.length;
    }
    for (const e of this.entries) {
      out[pos++] = 0x1a; // field 3, length-delimited
      pos = writeVarint(out, pos, e.bodySize);
      out[pos++] = 0x08; // partition_key_index, varint
      pos = writeVarint(out, pos, e.pk);
      if (e.ehk !== undefined) {
        out[pos++] = 0x10; // explicit_hash_key_index, varint
        pos = writeVarint(out, pos, e.ehk);
      }
      out[pos++] = 0x1a; // data, length-delimited
      pos = writeVarint(out, pos, e.data.length);
      out.set(e.data, pos);
      pos += e.data.length;
    }
    const digest = md5(out.subarray(KPL_MAGIC.length, pos));
    out.set(digest, pos);
    const first = this.entries[0]!;
    const firstEhk = first.ehk === undefined ? undefined : this.ehkList[first.ehk]!.bytes.toString('utf8');
    return { partitionKey: this.pkList[first.pk]!.bytes.toString('utf8'), explicitHashKey: firstEhk, data: out };
  }

  /** Forgets every record added. */
  clear(): void {
    this.pkTable.clear();
    this.pkList = [];
    this.ehkTable.clear();
    this.ehkList = [];
    this.entries = [];
    this.protoSize = 0;
    this.firstPkBytes = 0;
  }
}
