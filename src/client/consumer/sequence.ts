/**
 * Extended sequence numbers: a Kinesis sequence number (or one of the KCL's sentinel values) plus
 * the sub-sequence number of a user record inside a KPL aggregate.
 */

export type SentinelCheckpoint = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | 'SHARD_END';

export const SENTINELS: readonly SentinelCheckpoint[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END'];

export interface ExtendedSequenceNumber {
  /** A decimal sequence number, or a sentinel. */
  sequenceNumber: string;
  /** Position inside a KPL aggregate; 0 for plain records and sentinels. */
  subSequenceNumber: number;
}

export const TRIM_HORIZON: ExtendedSequenceNumber = { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 };
export const LATEST: ExtendedSequenceNumber = { sequenceNumber: 'LATEST', subSequenceNumber: 0 };
export const AT_TIMESTAMP: ExtendedSequenceNumber = { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 };
export const SHARD_END: ExtendedSequenceNumber = { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 };

export function isSentinel(value: string): value is SentinelCheckpoint {
  return (SENTINELS as readonly string[]).includes(value);
}

export function isShardEnd(e: ExtendedSequenceNumber | undefined): boolean {
  return e?.sequenceNumber === 'SHARD_END';
}

/** A sequence number as it compares: sentinels below (or, for SHARD_END, above) every real number. */
function rank(sequenceNumber: string): bigint {
  switch (sequenceNumber) {
    case 'AT_TIMESTAMP':
      return -3n;
    case 'TRIM_HORIZON':
      return -2n;
    case 'LATEST':
      return -1n;
    case 'SHARD_END':
      return 1n << 200n;
    default:
      return BigInt(sequenceNumber);
  }
}

export function isValidSequenceNumber(value: string): boolean {
  return isSentinel(value) || /^\d{1,128}$/.test(value);
}

/** Compares sequence numbers as integers (never as text), then sub-sequence numbers. */
export function compareExtended(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const ra = rank(a.sequenceNumber);
  const rb = rank(b.sequenceNumber);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return a.subSequenceNumber - b.subSequenceNumber;
}

export function formatExtended(e: ExtendedSequenceNumber): string {
  return e.subSequenceNumber ? `${e.sequenceNumber}.${e.subSequenceNumber}` : e.sequenceNumber;
}
