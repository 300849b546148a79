/**
 * Encryption at rest: the records a stream takes while its encryption is on (StartStreamEncryption
 * with KeyType KMS, once the stream is ACTIVE again) are sealed with AES-256-GCM before they reach
 * the log, and opened again on read.
 *
 * Keys. The operator's master key (32 bytes) never touches a record. Data keys are derived from it
 * with HKDF-SHA256, one per (stream, KeyId, shard, hour of writing):
 *   salt = "tributary/kinesis/at-rest/1"
 *   info = streamKey NUL KeyId NUL shardIndex NUL hour
 * so a KeyId change (or another stream, shard or hour) means another key, and random 96-bit nonces
 * stay far below the 2^32 messages per key that GCM allows (an hour of one shard).
 *
 * A sealed record is stored with an empty partition key; its data is the envelope (big-endian):
 *
 *   offset size  field
 *    0     1    version     1
 *    1     2    idLength    length of the KeyId in UTF-8 bytes
 *    3     n    keyId       the KeyId the stream had when the record was written
 *    3+n   4    hour        hours since the epoch at writing (selects the data key)
 *    7+n   12   nonce       random
 *    19+n  ..   ciphertext  of: 2-byte partition key length, partition key (UTF-8), data
 *    end-16 16  tag         GCM authentication tag
 *
 * The additional authenticated data is the envelope header up to the nonce (bytes [0, 7+n))
 * followed by streamKey NUL shardIndex, so an envelope moved to another stream or shard does not
 * open (the nonce is authenticated by GCM itself).
 * The log marks sealed records (the embedded engine writes their batches as format 2).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AwsError } from '../protocol/errors.js';
import type { RecordInput, StoredRecord } from '../storage/types.js';
import { writeEncryption } from './encryption.js';
import type { KinesisContext, RecordCipher } from './context.js';
import type { Stream } from './stream.js';

export const MASTER_KEY_BYTES = 32;
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HOUR_MS = 3_600_000;
const SALT = Buffer.from('tributary/kinesis/at-rest/1');
const MAX_CACHED_KEYS = 4096;

/** A stored record that fails authentication: tampered with, or sealed under another master key. */
export class SealedRecordError extends AwsError {
  constructor(message: string) {
    super('InternalFailureException', message, 500);
  }
}

export class AtRestCipher implements RecordCipher {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== MASTER_KEY_BYTES) throw new RangeError(`the master key must be ${MASTER_KEY_BYTES} bytes`);
  }

  /**
   * A value that identifies the master key without revealing it: HMAC-SHA256 of a fixed label.
   * Kept with the data so that a restart with another key fails before serving anything.
   */
  fingerprint(): string {
    return createHmac('sha256', this.masterKey).update('tributary master key check 1').digest('hex');
  }

  private dataKey(streamKey: string, keyId: string, shardIndex: number, hour: number): Buffer {
    const id = `${streamKey}\0${keyId}\0${shardIndex}\0${hour}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', this.masterKey, SALT, id, 32));
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.delete(this.keys.keys().next().value!);
      this.keys.set(id, key);
    }
    return key;
  }

  /** Seals records bound for one shard; the result is what the log stores. */
  sealAll(streamKey: string, shardIndex: number, keyId: string, records: readonly RecordInput[], now: number): RecordInput[] {
    const hour = Math.floor(now / HOUR_MS);
    const key = this.dataKey(streamKey, keyId, shardIndex, hour);
    const idBytes = Buffer.byteLength(keyId, 'utf8');
    const head = 19 + idBytes;
    // The header before the nonce and the binding: the same for every record of the call.
    const aad = Buffer.alloc(7 + idBytes);
    aad[0] = VERSION;
    aad.writeUInt16BE(idBytes, 1);
    aad.write(keyId, 3, 'utf8');
    aad.writeUInt32BE(hour, 3 + idBytes);
    const fullAad = Buffer.concat([aad, Buffer.from(`${streamKey}\0${shardIndex}`, 'utf8')]);
    const nonces = randomBytes(NONCE_BYTES * records.length);
    const out: RecordInput[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const pkBytes = Buffer.byteLength(r.partitionKey, 'utf8');
      const envelope = Buffer.allocUnsafe(head + 2 + pkBytes + r.data.length + TAG_BYTES);
      aad.copy(envelope, 0);
      nonces.copy(envelope, 7 + idBytes, i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, envelope.subarray(7 + idBytes, head));
      cipher.setAAD(fullAad);
      const plain = Buffer.allocUnsafe(2 + pkBytes);
      plain.writeUInt16BE(pkBytes, 0);
      plain.write(r.partitionKey, 2, 'utf8');
      let at = head;
      at += cipher.update(plain).copy(envelope, at);
      at += cipher.update(r.data).copy(envelope, at);
      at += cipher.final().copy(envelope, at);
      cipher.getAuthTag().copy(envelope, at);
      out[i] = { partitionKey: '', data: envelope, sealed: true };
    }
    return out;
  }

  /** Opens a sealed record in place: partition key and data become the producer's again. */
  open(streamKey: string, shardIndex: number, record: StoredRecord): void {
    if (record.opened === true) return;
    const env = record.data;
    const fail = (why: string): never => {
      throw new SealedRecordError(`Record at offset ${record.offset} of shard ${shardIndex} cannot be decrypted: ${why}.`);
    };
    if (env.length < 3 || env[0] !== VERSION) fail('unknown envelope version');
    const idBytes = env.readUInt16BE(1);
    const head = 19 + idBytes;
    if (env.length < head + 2 + TAG_BYTES) fail('envelope too short');
    const keyId = env.toString('utf8', 3, 3 + idBytes);
    const hour = env.readUInt32BE(3 + idBytes);
    const key = this.dataKey(streamKey, keyId, shardIndex, hour);
    const decipher = createDecipheriv('aes-256-gcm', key, env.subarray(7 + idBytes, head));
    decipher.setAAD(Buffer.concat([env.subarray(0, 7 + idBytes), Buffer.from(`${streamKey}\0${shardIndex}`, 'utf8')]));
    decipher.setAuthTag(env.subarray(env.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(env.subarray(head, env.length - TAG_BYTES)), decipher.final()]);
    } catch {
      return fail('authentication failed (the stored bytes were altered, or the master key differs)');
    }
    const pkBytes = plain.readUInt16BE(0);
    record.partitionKey = plain.toString('utf8', 2, 2 + pkBytes);
    record.data = plain.subarray(2 + pkBytes);
    record.opened = true;
  }

  /** Opens every sealed record of a read. Returns whether any was sealed. */
  openAll(streamKey: string, shardIndex: number, records: readonly StoredRecord[]): boolean {
    let any = false;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.sealed === true) {
        this.open(streamKey, shardIndex, r);
        any = true;
      }
    }
    return any;
  }
}

/** The KeyId used for a record written during StopStreamEncryption's UPDATING period. */
const DEFAULT_KEY_ID = 'alias/aws/kinesis';

/** The records as the shard's log should store them: sealed while the stream's encryption is on. */
export function sealForShard(
  k: KinesisContext,
  stream: Stream,
  shardIndex: number,
  records: readonly RecordInput[],
  now: number,
): readonly RecordInput[] {
  const cipher = k.cipher;
  if (cipher === undefined || writeEncryption(stream.meta, now) !== 'KMS') return records;
  return cipher.sealAll(stream.key, shardIndex, stream.meta.keyId ?? DEFAULT_KEY_ID, records, now);
}

/** Opens the sealed records of a read in place; fails loudly on any that does not authenticate. */
export function openRecords(k: KinesisContext, streamKey: string, shardIndex: number, records: readonly StoredRecord[]): void {
  let sealed = false;
  for (let i = 0; i < records.length && !sealed; i++) sealed = records[i]!.sealed === true;
  if (!sealed) return;
  const cipher = k.cipher;
  if (cipher === undefined) throw new SealedRecordError('Encrypted records cannot be read: no master key is configured.');
  cipher.openAll(streamKey, shardIndex, records);
}
