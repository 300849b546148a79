import { Decoder, type Options } from 'cbor-x';
import { cborNestsDeeperThan, MAX_CBOR_DEPTH } from './cbor-depth.js';

/**
 * The CBOR decoder and the two places where AWS's CBOR differs from the library's defaults:
 * timestamps are tag 1 around integer epoch *milliseconds*, and 64-bit integers are plain
 * numbers. Nothing here touches cbor-x's process-wide extension table. Responses are written by
 * cbor-writer.ts.
 */

const decoder = new Decoder({
  useRecords: false,
  mapsAsObjects: true,
  // Without this, every 8-byte integer (which is how Java writes epoch millis) becomes a BigInt,
  // and the library's tag-1 reader throws on it.
  int64AsNumber: true,
} as Options);

/**
 * Parses one CBOR item; throws whatever the library throws on malformed input, and refuses
 * nesting deeper than MAX_CBOR_DEPTH before the library's recursion meets the stack limit.
 */
export function parseCbor(body: Buffer): unknown {
  if (cborNestsDeeperThan(body, MAX_CBOR_DEPTH)) throw new Error(`CBOR nested deeper than ${MAX_CBOR_DEPTH} levels`);
  return decoder.decode(body);
}

/**
 * The epoch milliseconds that were inside a tag 1 the library turned into a Date. cbor-x reads
 * tag 1 as RFC seconds (multiplying by 1000); rather than re-registering tag 1 globally, ask the
 * library how it currently reads a known tag and undo its scale. NaN when it cannot be undone.
 */
export function tag1Millis(date: Date): number {
  const probe: unknown = decoder.decode(TAG1_PROBE);
  if (!(probe instanceof Date)) return NaN;
  const scale = probe.getTime() / TAG1_PROBE_VALUE;
  if (scale !== 1 && scale !== 1000) return NaN;
  return date.getTime() / scale;
}

const TAG1_PROBE_VALUE = 1000;
/** Tag 1 (0xc1) around the 16-bit unsigned integer 1000. */
const TAG1_PROBE = Buffer.from([0xc1, 0x19, 0x03, 0xe8]);
