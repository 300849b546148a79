/**
 * The payload of one JetStream message: the records of one or more appends, each record as
 *   flags      u8  (bit 0: `data` is a sealed envelope, see RecordInput.sealed)
 *   timestamp  u64 (epoch ms)
 *   keyLength  u32, then the partition key (UTF-8)
 *   dataLength u32, then the data
 * all big-endian. The message headers say where it sits in the shard (see HEADER_*), so reads can
 * find a message without decoding payloads.
 */
import type { RecordInput, StoredRecord } from '../types.js';

export const HEADER_OFFSET = 'Tributary-Offset';
export const HEADER_COUNT = 'Tributary-Count';
export const HEADER_FIRST_TS = 'Tributary-First-Timestamp';
export const HEADER_LAST_TS = 'Tributary-Last-Timestamp';
/**
 * On a message without records that closes the shard to appends ('closed') or opens it again
 * ('open'); the state of a shard is that of its newest such message.
 */
export const HEADER_SEAL = 'Tributary-Seal';

const RECORD_OVERHEAD = 17;
const FLAG_SEALED = 1;

/** The sealed flag, where the record type has one. */
type MaybeSealed = { sealed?: boolean };

export interface StampedAppend {
  records: readonly RecordInput[];
  timestamp: number;
}

export function encodedSize(records: readonly RecordInput[]): number {
  let size = 0;
  for (const r of records) size += RECORD_OVERHEAD + Buffer.byteLength(r.partitionKey) + r.data.length;
  return size;
}

export function encodeMessage(appends: readonly StampedAppend[]): Buffer {
  let size = 0;
  for (const a of appends) size += encodedSize(a.records);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const a of appends) {
    for (const r of a.records) {
      out[at++] = (r as MaybeSealed).sealed ? FLAG_SEALED : 0;
      out.writeBigUInt64BE(BigInt(a.timestamp), at);
      at += 8;
      const keyLength = out.write(r.partitionKey, at + 4, 'utf8');
      out.writeUInt32BE(keyLength, at);
      at += 4 + keyLength;
      out.writeUInt32BE(r.data.length, at);
      at += 4;
      r.data.copy(out, at);
      at += r.data.length;
    }
  }
  return out;
}

/** Decodes the records of a message whose first record has `firstOffset`. */
export function decodeMessage(payload: Uint8Array, firstOffset: number): StoredRecord[] {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: StoredRecord[] = [];
  let at = 0;
  let offset = firstOffset;
  while (at < buf.length) {
    if (at + RECORD_OVERHEAD > buf.length) throw new Error(`truncated record at offset ${offset}`);
    const flags = buf[at++];
    const timestamp = Number(buf.readBigUInt64BE(at));
    at += 8;
    const keyLength = buf.readUInt32BE(at);
    at += 4;
    const partitionKey = buf.toString('utf8', at, at + keyLength);
    at += keyLength;
    const dataLength = buf.readUInt32BE(at);
    at += 4;
    if (at + dataLength > buf.length) throw new Error(`truncated record at offset ${offset}`);
    // Copied, so the record does not keep the whole message alive.
    const data = Buffer.from(buf.subarray(at, at + dataLength));
    at += dataLength;
    const record: StoredRecord & MaybeSealed = { offset: offset++, timestamp, partitionKey, data };
    if (flags & FLAG_SEALED) record.sealed = true;
    out.push(record);
  }
  return out;
}
