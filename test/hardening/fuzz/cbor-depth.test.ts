import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { kinesisShapes } from '../../../src/kinesis/shapes.js';
import { cborNestsDeeperThan, MAX_CBOR_DEPTH } from '../../../src/protocol/cbor-depth.js';
import { decodeInput, SerializationException, validate, type AwsError } from '../../../src/protocol/index.js';
import { scale } from '../scale.js';
import { deepDocument } from '../generators/bodies.js';
import { fuzzSeed } from './seed.js';

/**
 * CBOR bodies nested deeper than MAX_CBOR_DEPTH are refused the same way whatever the caller's
 * stack: before the depth check, the CBOR reader's recursion ran out of stack somewhere between
 * roughly 1,800 and 2,300 levels depending on how deep the request's own call stack was, so one
 * body could be read (and refused for its content) or be unreadable (a bare
 * SerializationException) from one request to the next.
 */

const seed = fuzzSeed();

/** The depth of the CBOR item at `pos`, by plain recursion: [position after it, depth]; undefined when malformed. */
function referenceDepth(buf: Buffer, pos: number): [number, number] | undefined {
  if (pos >= buf.length) return undefined;
  const major = buf[pos]! >> 5;
  const info = buf[pos]! & 31;
  pos++;
  let arg: bigint;
  if (info < 24) arg = BigInt(info);
  else if (info === 24 || info === 25 || info === 26 || info === 27) {
    const n = 1 << (info - 24);
    if (pos + n > buf.length) return undefined;
    arg = BigInt('0x' + buf.subarray(pos, pos + n).toString('hex'));
    pos += n;
  } else if (info === 31) arg = -1n;
  else return undefined;
  const items = (count: bigint): [number, number] | undefined => {
    let deepest = 0;
    if (count < 0n) {
      for (;;) {
        if (pos >= buf.length) return undefined;
        if (buf[pos] === 0xff) return [pos + 1, deepest + 1];
        const r = referenceDepth(buf, pos);
        if (!r) return undefined;
        [pos, deepest] = [r[0], Math.max(deepest, r[1])];
      }
    }
    for (let i = 0n; i < count; i++) {
      const r = referenceDepth(buf, pos);
      if (!r) return undefined;
      [pos, deepest] = [r[0], Math.max(deepest, r[1])];
    }
    return [pos, deepest + 1];
  };
  switch (major) {
    case 0:
    case 1:
      return arg < 0n ? undefined : [pos, 0];
    case 2:
    case 3:
      if (arg < 0n) return items(-1n);
      return pos + Number(arg) > buf.length ? undefined : [pos + Number(arg), 0];
    case 4:
      return arg === 0n ? [pos, 0] : items(arg);
    case 5:
      return arg === 0n ? [pos, 0] : items(arg < 0n ? -1n : arg * 2n);
    case 6:
      return arg < 0n ? undefined : items(1n);
    default:
      return arg < 0n ? undefined : [pos, 0];
  }
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });

test('the depth scan agrees with a plain recursive reading of the same bytes', () => {
  const documents = fc.oneof(
    fc.anything({ maxDepth: 8, withBigInt: true, withDate: true, withTypedArray: true, withMap: true, withSet: true, withNullPrototype: true }).map((v) => {
      try {
        return Buffer.from(encoder.encode(v));
      } catch {
        return Buffer.from([0xf6]);
      }
    }),
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.array(fc.constantFrom(0x81, 0x9f, 0xa1, 0xbf, 0xc1, 0xd9, 0x5f, 0x7f, 0x61, 0x41, 0xff, 0x00, 0x80, 0xa0), { maxLength: 60 })).map(
      ([n, tail]) => Buffer.concat([Buffer.alloc(n, 0x81), Buffer.from(tail)]),
    ),
    fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
  );
  fc.assert(
    fc.property(documents, fc.integer({ min: 0, max: 12 }), (doc, limit) => {
      const ref = referenceDepth(doc, 0);
      // Only whole, well-formed items have a depth to agree on.
      if (!ref || ref[0] !== doc.length) return;
      assert.equal(cborNestsDeeperThan(doc, limit), ref[1] > limit, `depth ${ref[1]}, limit ${limit}: ${doc.toString('hex')}`);
    }),
    { numRuns: scale(5000, 200_000), seed },
  );
});

function refusal(body: Buffer): AwsError | undefined {
  const shape = kinesisShapes.get('PutRecords')!;
  try {
    validate(decodeInput(body, 'cbor', shape), shape);
    return undefined;
  } catch (err) {
    return err as AwsError;
  }
}

/** Runs `fn` under `frames` extra stack frames. */
function underStack<T>(frames: number, fn: () => T): T {
  return frames === 0 ? fn() : underStack(frames - 1, fn);
}

test('a deeply nested CBOR body gets the same answer from any stack depth', () => {
  for (const depth of [MAX_CBOR_DEPTH, MAX_CBOR_DEPTH + 1, 1_900, 2_200, 2_600, 100_000]) {
    for (const asObject of [false, true]) {
      const body = deepDocument('cbor', depth, asObject, true);
      const answers = [0, 2_000, 4_000].map((frames) => {
        const err = underStack(frames, () => refusal(body));
        return `${err?.name}: ${err?.message}`;
      });
      assert.equal(new Set(answers).size, 1, `depth ${depth}: ${answers.join(' | ')}`);
      const err = refusal(body)!;
      if (depth > MAX_CBOR_DEPTH) {
        assert.ok(err instanceof SerializationException && err.message === '', `depth ${depth}: refused as unreadable`);
      } else {
        // Read, then refused for its content: a list where a structure belongs, or no Records.
        assert.notEqual(err.message, '', `depth ${depth}: read, then refused for its content`);
      }
    }
  }
});
