/**
 * Sequence numbers are 56-digit decimal strings. Written as 47 hexadecimal digits, the fields are
 * (most significant first):
 *
 *   1  layout marker, always 2 (gives the number its 56-digit size)
 *   9  shard creation time, epoch seconds
 *   1  low hex digit of the shard index
 *  16  counter: the record's offset in the shard log plus one (0 marks the shard's start)
 *   2  reserved, 00
 *   9  record arrival time, epoch seconds
 *   8  shard index
 *   1  layout version, 2
 *
 * The offset sits above the arrival time, so numbers increase strictly with the offset within a
 * shard; a child shard, created later than its parents, has a larger creation time and so larger
 * numbers than any of its parents'. The shard's StartingSequenceNumber is counter 0 at its
 * creation time, below every record's number; a closed shard's EndingSequenceNumber uses the
 * largest counter.
 */

const HEX_DIGITS = 47;
export const MAX_COUNTER = 0x7fffffffffffffffn;

export interface DecodedSequenceNumber {
  shardCreatedSeconds: number;
  shardIndex: number;
  counter: bigint;
  arrivalSeconds: number;
}

/** Bit positions of the fields, counted from the least significant bit. */
const ARRIVAL_SHIFT = 36n;
const COUNTER_SHIFT = 80n;

/** The parts of a number that stay the same for every record of one shard. */
export class ShardSequenceFormat {
  private readonly constant: bigint;
  private cachedSecond = -1;
  private cachedBase = 0n;

  constructor(
    readonly shardIndex: number,
    readonly createdSeconds: number,
  ) {
    const index = BigInt(shardIndex >>> 0);
    this.constant = (2n << 184n) | (BigInt(createdSeconds) << 148n) | ((index & 0xfn) << 144n) | (index << 4n) | 2n;
  }

  /** The sequence number of the record at `offset` that arrived at `arrivalMs`. */
  encode(offset: number, arrivalMs: number): string {
    return this.withCounter(BigInt(offset + 1), arrivalMs);
  }

  private withCounter(counter: bigint, arrivalMs: number): string {
    const second = Math.floor(arrivalMs / 1000);
    if (second !== this.cachedSecond) {
      this.cachedSecond = second;
      this.cachedBase = this.constant | (BigInt(second) << ARRIVAL_SHIFT);
    }
    return (this.cachedBase + (counter << COUNTER_SHIFT)).toString();
  }

  starting(): string {
    return this.withCounter(0n, this.createdSeconds * 1000);
  }

  ending(closedMs: number): string {
    return this.withCounter(MAX_COUNTER, closedMs);
  }
}

/** Decodes a number made by ShardSequenceFormat; undefined when it is not one of ours. */
export function decodeSequenceNumber(value: string): DecodedSequenceNumber | undefined {
  if (!/^[1-9]\d{0,128}$/.test(value)) return undefined;
  const h = BigInt(value).toString(16);
  if (h.length !== HEX_DIGITS || h[0] !== '2' || h[HEX_DIGITS - 1] !== '2') return undefined;
  const shardIndex = parseInt(h.slice(38, 46), 16);
  if (shardIndex > 0x7fffffff || (shardIndex & 0xf) !== parseInt(h[10]!, 16)) return undefined;
  const counter = BigInt('0x' + h.slice(11, 27));
  if (counter > MAX_COUNTER) return undefined;
  return {
    shardCreatedSeconds: parseInt(h.slice(1, 10), 16),
    shardIndex,
    counter,
    arrivalSeconds: parseInt(h.slice(29, 38), 16),
  };
}

/**
 * The log offset an iterator starts from for a decoded number: AT a record starts at that record,
 * AFTER it at the next one; AT or AFTER the shard's starting number both start at offset 0.
 */
export function offsetFor(seq: DecodedSequenceNumber, after: boolean): bigint {
  if (seq.counter === 0n) return 0n;
  return after ? seq.counter : seq.counter - 1n;
}

/**
 * A sequence number read by the structure AWS gives its numbers, which is how AWS itself judges
 * one that a client hands back (GetShardIterator's StartingSequenceNumber, SubscribeToShard's,
 * PutRecord's SequenceNumberForOrdering), whoever made it. Three layouts are known:
 *
 * - version 2 (ours, above; today's AWS numbers): 47 hex digits, first digit 2, last digit 2;
 *   the counter's top bit is clear.
 * - version 1 (older AWS streams): 47 hex digits, first digit 2, last digit 1; shard creation
 *   time at hex digits 1–9, arrival time at 13–21, shard index at 38–45.
 * - version 0 (the oldest): below 2^129; a number below 2^124 is read as if 2^124 were added
 *   (so `5` encodes shard 5); shard creation time at hex digits 1–9 (before the year 2477),
 *   shard index at 28–31.
 *
 * Anything else (another last digit, another first digit, another length) is no sequence number.
 */
export interface ParsedSequenceNumber {
  version: 0 | 1 | 2;
  shardIndex: number;
  shardCreatedSeconds: number;
  /** Versions 1 and 2: when the record arrived (epoch seconds). */
  arrivalSeconds?: number;
}

const V0_OFFSET = 1n << 124n;
const V0_END = 1n << 129n;
const V2_LOW = 2n << 184n;
const V2_HIGH = 3n << 184n;
/** The latest shard creation time a version-0 number can carry (AWS refuses later ones). */
const V0_MAX_CREATED_SECONDS = 16_025_175_000;

export function parseSequenceNumber(value: string): ParsedSequenceNumber | undefined {
  if (!/^\d{1,129}$/.test(value)) return undefined;
  let n = BigInt(value);
  if (n < V0_OFFSET) n += V0_OFFSET;
  if (n < V0_END) {
    const h = n.toString(16);
    const shardCreatedSeconds = parseInt(h.slice(1, 10), 16);
    if (shardCreatedSeconds >= V0_MAX_CREATED_SECONDS) return undefined;
    return { version: 0, shardIndex: parseInt(h.slice(28, 32), 16), shardCreatedSeconds };
  }
  if (n <= V2_LOW || n >= V2_HIGH) return undefined;
  const h = n.toString(16);
  const shardCreatedSeconds = parseInt(h.slice(1, 10), 16);
  const shardIndex = parseInt(h.slice(38, 46), 16);
  switch (h[HEX_DIGITS - 1]) {
    case '2':
      if (parseInt(h[11]!, 16) > 7) return undefined;
      return { version: 2, shardIndex, shardCreatedSeconds, arrivalSeconds: parseInt(h.slice(29, 38), 16) };
    case '1':
      return { version: 1, shardIndex, shardCreatedSeconds, arrivalSeconds: parseInt(h.slice(13, 22), 16) };
    default:
      // AWS answers a version-3 number with a bare InternalFailure (500), an accident of its
      // parser; here it is simply not a sequence number, as every other unknown version is.
      return undefined;
  }
}
