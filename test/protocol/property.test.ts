import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { kinesisShapes } from '../../src/kinesis/shapes.js';
import { decodeBase64Strict } from '../../src/protocol/base64.js';
import {
  AwsError,
  SerializationException,
  ValidationException,
  blob,
  decodeInput,
  encodeOutput,
  list,
  structure,
  timestamp,
  validate,
  type WireFormat,
} from '../../src/protocol/index.js';

const roundTrip = structure('RoundTrip', {
  Data: blob(),
  When: timestamp(),
  Records: list(structure('Entry', { Data: blob(), At: timestamp() })),
});

/** Dates both formats carry to the millisecond (CBOR's tag 1 is read through cbor-x's Date). */
const dates = fc.date({ min: new Date('1700-01-01T00:00:00Z'), max: new Date('2240-01-01T00:00:00Z'), noInvalidDate: true });
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

for (const format of ['json', 'cbor'] as WireFormat[]) {
  test(`${format}: encode then decode keeps blobs and timestamps (ms precision)`, () => {
    fc.assert(
      fc.property(bytes, dates, fc.array(fc.record({ Data: bytes, At: dates }).map((r) => ({ ...r })), { maxLength: 5 }), (data, when, records) => {
        const body = encodeOutput({ Data: data, When: when, Records: records }, format);
        const decoded = decodeInput(body, format, roundTrip);
        assert.deepEqual(decoded, { Data: data, When: when, Records: records });
      }),
      { numRuns: 300 },
    );
  });
}

test('json: timestamps survive from year 1 to 9999', () => {
  const anyYear = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
  fc.assert(
    fc.property(anyYear, (when) => {
      const decoded = decodeInput(encodeOutput({ When: when }, 'json'), 'json', roundTrip);
      assert.equal((decoded.When as Date).getTime(), when.getTime());
    }),
    { numRuns: 1000 },
  );
});

/** Decoding and validating anything must end in success or one of the two client errors. */
function onlyClientErrors(body: Buffer, format: WireFormat, op: string): void {
  const shape = kinesisShapes.get(op)!;
  try {
    validate(decodeInput(body, format, shape), shape);
  } catch (err) {
    if (err instanceof SerializationException || err instanceof ValidationException) {
      assert.ok(err instanceof AwsError && err.status === 400);
      return;
    }
    throw err;
  }
}

const operations = [...kinesisShapes.keys()];
const anyOperation = fc.constantFrom(...operations);
const cborEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

/** Values shaped like a request to `op`: its member names with random contents, plus strangers. */
function requestLike(op: string): fc.Arbitrary<Record<string, unknown>> {
  const names = kinesisShapes.get(op)!.members.map((m) => m.name);
  const value = fc.oneof(
    fc.anything({ maxDepth: 3, withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true }),
    fc.array(fc.dictionary(fc.constantFrom(...names, 'Data', 'PartitionKey', 'Type', 'StreamMode'), fc.jsonValue(), { maxKeys: 4 }), { maxLength: 4 }),
    fc.base64String(),
    fc.string(),
  );
  return fc.dictionary(fc.constantFrom(...names, '__proto__', 'Other'), value, { maxKeys: names.length + 2 });
}

test('random bytes are SerializationException (or a decoded request), never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), anyOperation, fc.constantFrom<WireFormat>('json', 'cbor'), (raw, op, format) => {
      onlyClientErrors(Buffer.from(raw), format, op);
    }),
    { numRuns: 3000 },
  );
});

test('random JSON documents only ever give the two client errors', () => {
  fc.assert(
    fc.property(anyOperation, fc.jsonValue(), (op, doc) => {
      onlyClientErrors(Buffer.from(JSON.stringify(doc) ?? 'null'), 'json', op);
    }),
    { numRuns: 2000 },
  );
});

test('request-shaped junk in JSON and CBOR only ever gives the two client errors', () => {
  fc.assert(
    fc.property(
      anyOperation.chain((op) => fc.tuple(fc.constant(op), requestLike(op))),
      ([op, request]) => {
        let text: string | undefined;
        try {
          text = JSON.stringify(request, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
        } catch {
          text = undefined;
        }
        if (text !== undefined) onlyClientErrors(Buffer.from(text), 'json', op);
        let cborBody: Buffer | undefined;
        try {
          cborBody = cborEncoder.encode(request);
        } catch {
          cborBody = undefined;
        }
        if (cborBody !== undefined) onlyClientErrors(cborBody, 'cbor', op);
      },
    ),
    { numRuns: 2000 },
  );
});

const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=|[A-Za-z0-9+/][AQgw]==)?$/;

test('strict base64 accepts exactly the canonical texts', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n.īĀ😀';
  const nearlyBase64 = fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('base64')),
    fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom(...alphabet))
      .map(([a, at, c]) => {
        const s = Buffer.from(a).toString('base64');
        const i = at % s.length;
        return s.slice(0, i) + c + s.slice(i + 1);
      }),
    fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 16 }),
  );
  fc.assert(
    fc.property(nearlyBase64, (text) => {
      let decoded: Buffer | undefined;
      try {
        decoded = decodeBase64Strict(text);
      } catch (err) {
        assert.ok(err instanceof SerializationException);
        assert.ok(err.message.startsWith(`'${text}' can not be converted to a Blob: `), err.message);
      }
      assert.equal(decoded !== undefined, CANONICAL_BASE64.test(text), text);
      if (decoded !== undefined) assert.deepEqual(decoded, Buffer.from(text, 'base64'));
    }),
    { numRuns: 5000 },
  );
});

test('JSON output reads back as JSON.stringify would have written it', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue()), (value) => {
      const body = encodeOutput(value, 'json');
      assert.ok(body.every((b) => b < 0x80));
      assert.deepEqual(JSON.parse(body.toString()), JSON.parse(JSON.stringify(value)));
    }),
    { numRuns: 1000 },
  );
});
