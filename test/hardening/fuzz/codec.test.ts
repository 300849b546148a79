import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { dynamoDbShapes } from '../../../src/dynamodb/shapes.js';
import { kinesisShapes } from '../../../src/kinesis/shapes.js';
import { parseCbor } from '../../../src/protocol/cbor.js';
import { AwsError, decodeInput, encodeError, SerializationException, validate, ValidationException, type StructureShape } from '../../../src/protocol/index.js';
import { scale } from '../scale.js';
import { body, deepDocument, garbageBody, type Format } from '../generators/bodies.js';
import { forceInvalid, mutatedValue, validValue } from '../generators/shapes.js';
import { fuzzSeed } from './seed.js';

/**
 * Property tests at the codec: every operation's shape, through the same generators the wire tests
 * use. Valid values decode and validate in both formats; mutated ones and damaged bodies end in a
 * SerializationException or ValidationException and nothing else; error bodies read back.
 */

const seed = fuzzSeed();
const FORMATS: Format[] = ['json', 'cbor'];
const services: Array<[string, ReadonlyMap<string, StructureShape>]> = [
  ['Kinesis', kinesisShapes],
  ['DynamoDB', dynamoDbShapes],
];

function decodeAndValidate(b: Buffer, format: Format, shape: StructureShape): void {
  validate(decodeInput(b, format, shape), shape);
}

/** Runs `fn` and returns the client error it throws, failing on any other kind of throw. */
function clientError(fn: () => void): AwsError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof SerializationException || err instanceof ValidationException) return err;
    throw err;
  }
}

for (const [service, shapes] of services) {
  test(`${service}: generated valid requests decode and validate, in JSON and CBOR`, (t) => {
    const runs = scale(40, 2000);
    for (const [operation, shape] of shapes) {
      for (const format of FORMATS) {
        fc.assert(
          fc.property(validValue(shape), (value) => {
            decodeAndValidate(body(value, format), format, shape);
          }),
          { numRuns: runs, seed: seed + operation.length },
        );
      }
    }
    t.diagnostic(`seed ${seed}; ${shapes.size} operations × ${runs} × 2 formats`);
  });

  test(`${service}: mutated requests and damaged bodies end only in client errors`, (t) => {
    const runs = scale(60, 3000);
    let refused = 0;
    let total = 0;
    for (const [operation, shape] of shapes) {
      for (const format of FORMATS) {
        fc.assert(
          fc.property(mutatedValue(shape, {}, 1500), fc.nat(), (m, n) => {
            const b = body(m.value, format);
            const err = clientError(() => decodeAndValidate(b, format, shape));
            total++;
            if (err) refused++;
            if (m.kind === 'wrong-type') assert.ok(err instanceof SerializationException, `${operation}: a type mismatch is a SerializationException`);
            assert.ok(clientError(() => decodeAndValidate(body(forceInvalid(m.value, shape), format), format, shape)), 'forceInvalid makes any request invalid');
            const damaged = fc.sample(garbageBody(b, format, 1500), { seed: n, numRuns: 1 })[0]!;
            clientError(() => decodeAndValidate(damaged, format, shape));
          }),
          { numRuns: runs, seed: seed + operation.length },
        );
      }
    }
    t.diagnostic(`${refused} of ${total} mutated requests refused`);
  });
}

test('documents nested 100,000 levels deep are refused, never a crash', () => {
  const shape = kinesisShapes.get('PutRecords')!;
  for (const format of FORMATS) {
    for (const asObject of [false, true]) {
      for (const closed of [false, true]) {
        const err = clientError(() => decodeAndValidate(deepDocument(format, 100_000, asObject, closed), format, shape));
        const what = `${format} ${asObject ? 'maps' : 'lists'} ${closed ? 'closed' : 'open'}`;
        // A closed JSON object nests only unknown members, which are skipped: the request is then
        // merely missing its Records. Everything else cannot be read.
        if (format === 'json' && asObject && closed) assert.ok(err instanceof ValidationException, what);
        else assert.ok(err instanceof SerializationException, what);
      }
    }
  }
});

test('error bodies carry any message and read back as written, in both formats', () => {
  fc.assert(
    fc.property(fc.constantFrom('ValidationException', 'SerializationException', 'ResourceNotFoundException'), fc.string({ unit: 'binary', maxLength: 200 }), (type, message) => {
      const err = new AwsError(type, message, 400, type === 'SerializationException');
      const json = JSON.parse(encodeError(err, 'json').toString('utf8')) as Record<string, unknown>;
      const cbor = parseCbor(encodeError(err, 'cbor')) as Record<string, unknown>;
      for (const b of [json, cbor]) {
        assert.equal(b.__type, type);
        const m = b.message ?? b.Message;
        if (message === '') assert.equal(m, undefined);
        else assert.equal(typeof m, 'string');
      }
      // JSON keeps every UTF-16 unit, lone surrogates included (escaped).
      if (message !== '') assert.equal(json.message ?? json.Message, message);
    }),
    { numRuns: scale(2000, 100_000), seed },
  );
});
