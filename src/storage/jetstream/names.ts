/**
 * Names of the JetStream objects that hold Tributary data.
 *
 * A stream key may hold characters that JetStream names and subject tokens forbid ('.', '*', '>',
 * whitespace). It is escaped: letters, digits and '-' stay, every other UTF-8 byte becomes '_'
 * followed by two hex digits. Distinct keys get distinct names.
 */
import { createHash } from 'node:crypto';

export function escapeKey(key: string): string {
  if (key.length === 0) throw new TypeError('stream key must not be empty');
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // A stream's name names a directory in the server's store: keep it well under 255 bytes. '_H' is
  // never the start of an escape, so a hashed name cannot equal an escaped one.
  if (out.length > MAX_ESCAPED) out = `_H${createHash('sha256').update(key).digest('hex')}`;
  return out;
}

const MAX_ESCAPED = 160;

/** The JetStream stream holding one shard: stream sequence n is the n-th message of the shard. */
export function shardStreamName(prefix: string, streamKey: string, shardIndex: number): string {
  return `${prefix}_${escapeKey(streamKey)}_S${shardIndex}`;
}

/** The one subject of a shard's JetStream stream. */
export function shardSubject(prefix: string, streamKey: string, shardIndex: number): string {
  return `${prefix.toLowerCase()}.${escapeKey(streamKey)}.${shardIndex}`;
}

/** Matches the subjects of every shard of a stream. */
export function streamSubjects(prefix: string, streamKey: string): string {
  return `${prefix.toLowerCase()}.${escapeKey(streamKey)}.*`;
}

/** Key of a shard's trim point in the shard-state bucket. */
export function trimKey(streamKey: string, shardIndex: number): string {
  return `${escapeKey(streamKey)}.${shardIndex}`;
}

/** Core NATS subject on which a shard's writers announce each stored message (its sequence). */
export function appendedSubject(prefix: string, streamKey: string, shardIndex: number): string {
  return `${prefix.toLowerCase()}.appended.${escapeKey(streamKey)}.${shardIndex}`;
}
