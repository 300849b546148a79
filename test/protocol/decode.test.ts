import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Encoder, Tag } from 'cbor-x';
import { kinesisShapes } from '../../src/kinesis/shapes.js';
import {
  AwsError,
  SerializationException,
  blob,
  boolean,
  decodeInput,
  integer,
  list,
  long,
  map,
  string,
  structure,
  timestamp,
  type StructureShape,
  type WireFormat,
} from '../../src/protocol/index.js';

const shape = (op: string): StructureShape => {
  const s = kinesisShapes.get(op);
  assert.ok(s, op);
  return s;
};
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const cborEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const cbor = (value: unknown): Buffer => cborEncoder.encode(value);

/** Asserts that decoding throws a SerializationException with exactly this message. */
function assertSerialization(body: Buffer, format: WireFormat, s: StructureShape, message: string): void {
  assert.throws(
    () => decodeInput(body, format, s),
    (err: unknown) => {
      assert.ok(err instanceof SerializationException, `expected SerializationException, got ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    },
  );
}

/** A shape with one member of every kind. */
const everything = structure('Everything', {
  S: string(),
  I: integer(),
  L: long(),
  B: boolean(),
  D: blob(),
  T: timestamp(),
  Ls: list(string()),
  M: map(string(), string()),
  St: structure('Inner', { X: string() }),
});

describe('decodeInput: JSON', () => {
  test('PutRecords with 500 entries becomes Buffers, unknown members are dropped', () => {
    const records = Array.from({ length: 500 }, (_, i) => ({
      Data: Buffer.from(`record ${i}`).toString('base64'),
      PartitionKey: `pk-${i}`,
      ExplicitHashKey: i % 2 === 0 ? String(i) : undefined,
      Extra: 'ignored',
    }));
    const input = decodeInput(json({ StreamName: 's', Records: records, Unknown: { a: 1 } }), 'json', shape('PutRecords'));
    assert.deepEqual(Object.keys(input).sort(), ['Records', 'StreamName']);
    const out = input.Records as Array<Record<string, unknown>>;
    assert.equal(out.length, 500);
    for (let i = 0; i < 500; i++) {
      assert.ok(Buffer.isBuffer(out[i]!.Data));
      assert.equal((out[i]!.Data as Buffer).toString(), `record ${i}`);
      assert.equal(out[i]!.PartitionKey, `pk-${i}`);
      assert.equal('Extra' in out[i]!, false);
      assert.equal(out[i]!.ExplicitHashKey, i % 2 === 0 ? String(i) : undefined);
    }
  });

  test('CreateStream with nested StreamModeDetails and Tags', () => {
    const input = decodeInput(
      json({ StreamName: 's', ShardCount: 3, StreamModeDetails: { StreamMode: 'PROVISIONED' }, Tags: { a: 'b' } }),
      'json',
      shape('CreateStream'),
    );
    assert.deepEqual(input, { StreamName: 's', ShardCount: 3, StreamModeDetails: { StreamMode: 'PROVISIONED' }, Tags: { a: 'b' } });
  });

  test('ListShards with ShardFilter: timestamps are epoch seconds, fractions are milliseconds', () => {
    const input = decodeInput(
      json({ StreamName: 's', ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: 1459799926.48 }, StreamCreationTimestamp: 1459799926 }),
      'json',
      shape('ListShards'),
    );
    const filter = input.ShardFilter as Record<string, unknown>;
    assert.equal(filter.Type, 'AT_TIMESTAMP');
    assert.ok(filter.Timestamp instanceof Date);
    assert.equal((filter.Timestamp as Date).getTime(), 1459799926480);
    assert.equal((input.StreamCreationTimestamp as Date).getTime(), 1459799926000);
  });

  test('GetShardIterator with Timestamp', () => {
    const input = decodeInput(
      json({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: 1700000000.123 }),
      'json',
      shape('GetShardIterator'),
    );
    assert.equal((input.Timestamp as Date).getTime(), 1700000000123);
  });

  test('null members are absent; null list elements and map values are kept for validation to name', () => {
    const input = decodeInput(json({ S: null, Ls: ['a', null], M: { k: null }, St: { X: null } }), 'json', everything);
    assert.deepEqual(input, { Ls: ['a', null], M: { k: null }, St: {} });
  });

  test('integers are truncated toward zero and clamped to the Java type', () => {
    const decode = (v: unknown) => decodeInput(json({ I: v, L: v }), 'json', everything);
    assert.deepEqual(decode(1.9), { I: 1, L: 1 });
    assert.deepEqual(decode(-1.9), { I: -1, L: -1 });
    assert.deepEqual(decode(-0.5), { I: 0, L: 0 });
    assert.deepEqual(decode(100000000000), { I: 2147483647, L: 100000000000 });
    assert.deepEqual(decode(-100000000000), { I: -2147483648, L: -100000000000 });
    assert.equal(decode(1e30).L, 9223372036854775807);
    assert.equal(decodeInput(Buffer.from('{"I": 1e400}'), 'json', everything).I, 2147483647);
  });

  test('an empty body, unparseable JSON, and non-object tops', () => {
    assertSerialization(Buffer.alloc(0), 'json', everything, '');
    assertSerialization(Buffer.from('hello'), 'json', everything, '');
    assertSerialization(Buffer.from('{"a":'), 'json', everything, '');
    assertSerialization(Buffer.from('[]'), 'json', everything, 'Start of list found where not expected');
    assertSerialization(Buffer.from('"x"'), 'json', everything, 'Expected null');
    assert.deepEqual(decodeInput(Buffer.from('null'), 'json', everything), {});
    assert.deepEqual(decodeInput(Buffer.from('{}'), 'json', everything), {});
  });

  test('type mismatches carry the texts AWS sends', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ S: true }, 'class java.lang.Boolean can not be converted to an String'],
      [{ S: 23 }, 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String'],
      [{ S: [] }, 'Start of list found where not expected'],
      [{ S: {} }, 'Start of structure or map found where not expected.'],
      [{ I: '23' }, 'class java.lang.String can not be converted to an Integer'],
      [{ I: true }, 'class java.lang.Boolean can not be converted to an Integer'],
      [{ L: '23' }, 'class java.lang.String can not be converted to an Long'],
      [{ I: [] }, 'Start of list found where not expected'],
      [{ I: {} }, 'Start of structure or map found where not expected.'],
      [{ B: 'yes' }, "'YES' can not be converted to an Boolean"],
      [{ B: 23 }, 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean'],
      [{ B: [] }, 'Start of list found where not expected'],
      [{ D: true }, 'class java.lang.Boolean can not be converted to a Blob'],
      [{ D: 23 }, 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob'],
      [{ D: {} }, 'Start of structure or map found where not expected.'],
      [{ T: 'now' }, 'class java.lang.String can not be converted to milliseconds since epoch'],
      [{ T: false }, 'class java.lang.Boolean can not be converted to milliseconds since epoch'],
      [{ T: [] }, 'Start of list found where not expected'],
      [{ Ls: 'a' }, 'Expected list or null'],
      [{ Ls: 23 }, 'Expected list or null'],
      [{ Ls: {} }, 'Start of structure or map found where not expected.'],
      [{ Ls: [1] }, 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String'],
      [{ M: true }, 'Expected map or null'],
      [{ M: [] }, 'Start of list found where not expected'],
      [{ M: { a: 1 } }, 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String'],
      [{ St: 'x' }, 'Expected null'],
      [{ St: 34.56 }, 'Expected null'],
      [{ St: [] }, 'Start of list found where not expected'],
      [{ St: { X: 1 } }, 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String'],
    ];
    for (const [body, message] of cases) assertSerialization(json(body), 'json', everything, message);
  });

  test('the first bad member in the document is the one reported', () => {
    assertSerialization(Buffer.from('{"I": "x", "S": 1}'), 'json', everything, 'class java.lang.String can not be converted to an Integer');
    assertSerialization(
      Buffer.from('{"S": 1, "I": "x"}'),
      'json',
      everything,
      'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String',
    );
  });

  test('members that are not in the shape are never type-checked', () => {
    assert.deepEqual(decodeInput(json({ Nope: { deep: [true] }, S: 'x' }), 'json', everything), { S: 'x' });
  });

  test('blobs must be strict base64', () => {
    const blobError = (value: string, reason: string) =>
      assertSerialization(json({ D: value }), 'json', everything, `'${value}' can not be converted to a Blob: ${reason}`);
    blobError('23456', 'Base64 encoded length is expected a multiple of 4 bytes but found: 5');
    blobError('=+/=', "Invalid Base64 character: '='");
    blobError('+/+=', 'Invalid last non-pad Base64 character dectected');
    blobError('ab=c', "Invalid Base64 character: '='");
    blobError('ab c', "Invalid Base64 character: ' '");
    blobError('ab-_', "Invalid Base64 character: '-'");
    blobError('abī=', "Invalid Base64 character: 'ī'");
    blobError('a===', 'Invalid last non-pad Base64 character dectected');
    assert.deepEqual(decodeInput(json({ D: '' }), 'json', everything).D, Buffer.alloc(0));
    assert.deepEqual(decodeInput(json({ D: 'AAE=' }), 'json', everything).D, Buffer.from([0, 1]));
    assert.deepEqual(decodeInput(json({ D: '+/8=' }), 'json', everything).D, Buffer.from([0xfb, 0xff]));
  });

  test('a __proto__ member or map key cannot reach the prototype', () => {
    const input = decodeInput(Buffer.from('{"__proto__": {"S": "x"}, "M": {"__proto__": "v"}}'), 'json', everything);
    assert.equal(Object.getPrototypeOf(input), Object.prototype);
    assert.equal(input.S, undefined);
    const m = input.M as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(m), Object.prototype);
    assert.deepEqual(Object.keys(m), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(m, '__proto__')?.value, 'v');
  });
});

describe('decodeInput: CBOR', () => {
  test('PutRecords with 500 entries: byte strings become Buffers', () => {
    const records = Array.from({ length: 500 }, (_, i) => ({ Data: Buffer.from(`record ${i}`), PartitionKey: `pk-${i}` }));
    const input = decodeInput(cbor({ StreamName: 's', Records: records }), 'cbor', shape('PutRecords'));
    const out = input.Records as Array<Record<string, unknown>>;
    assert.equal(out.length, 500);
    assert.ok(out.every((r, i) => Buffer.isBuffer(r.Data) && r.Data.toString() === `record ${i}`));
  });

  test('a blob may also be a base64 text string', () => {
    assert.deepEqual(decodeInput(cbor({ D: 'AAE=' }), 'cbor', everything).D, Buffer.from([0, 1]));
    assertSerialization(cbor({ D: 'AAE' }), 'cbor', everything, "'AAE' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3");
  });

  test('timestamps are tag 1 around epoch milliseconds, as the Java SDK writes them', () => {
    const millis = 1459799926480;
    const body = cbor({
      StreamName: 's',
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Tag(BigInt(millis), 1),
    });
    // c1 1b <8-byte millis>: what Jackson's CBOR generator writes for a long inside tag 1.
    const expected = Buffer.alloc(10);
    expected[0] = 0xc1;
    expected[1] = 0x1b;
    expected.writeBigUInt64BE(BigInt(millis), 2);
    assert.ok(body.includes(expected));
    const input = decodeInput(body, 'cbor', shape('GetShardIterator'));
    assert.ok(input.Timestamp instanceof Date);
    assert.equal((input.Timestamp as Date).getTime(), millis);
  });

  test('tag 1 around a 32-bit integer, a double, and plain numbers are milliseconds too', () => {
    const ts = structure('T', { T: timestamp() });
    const decodeHex = (hex: string) => (decodeInput(Buffer.from(`a16154${hex}`, 'hex'), 'cbor', ts).T as Date).getTime();
    assert.equal(decodeHex('c11a000f4240'), 1000000);
    const double = Buffer.alloc(8);
    double.writeDoubleBE(1459799926480);
    assert.equal(decodeHex(`c1fb${double.toString('hex')}`), 1459799926480);
    assert.equal(decodeHex('1b0000015403fc6a50'), 1460355754576);
    assert.equal(decodeHex('1903e8'), 1000);
    assert.equal(decodeHex('3903e7'), -1000);
  });

  test('cbor-x is left reading tag 1 its own way for everyone else', async () => {
    const { decode } = await import('cbor-x');
    // RFC seconds, multiplied by 1000…
    assert.equal((decode(Buffer.from('c11903e8', 'hex')) as Date).getTime(), 1000000);
    // …and its default decoder cannot read Java's 8-byte millis at all, which is why ours is configured.
    assert.throws(() => decode(Buffer.from('c11b0000015403fc6a50', 'hex')), TypeError);
  });

  test('indefinite-length maps and arrays are accepted', () => {
    // {_ "Ls": [_ "a", "b"], "S": "x"}
    const body = Buffer.from('bf624c739f61616162ff61536178ff', 'hex');
    assert.deepEqual(decodeInput(body, 'cbor', everything), { Ls: ['a', 'b'], S: 'x' });
  });

  test('64-bit integers are numbers and clamp like JSON ones', () => {
    assert.deepEqual(decodeInput(cbor({ I: 2 ** 40, L: 2 ** 40 }), 'cbor', everything), { I: 2147483647, L: 2 ** 40 });
    assert.deepEqual(decodeInput(cbor({ I: 2.7 }), 'cbor', everything), { I: 2 });
  });

  test('malformed CBOR, empty bodies and CBOR-only kinds', () => {
    assertSerialization(Buffer.alloc(0), 'cbor', everything, '');
    assertSerialization(Buffer.from('a2', 'hex'), 'cbor', everything, '');
    assertSerialization(Buffer.from('a16153f5ff00', 'hex'), 'cbor', everything, '');
    assertSerialization(cbor({ S: Buffer.from('x') }), 'cbor', everything, 'Unexpected field type');
    assertSerialization(cbor({ S: new Tag('x', 99) }), 'cbor', everything, 'Unexpected field type');
    assertSerialization(cbor({ I: 'x' }), 'cbor', everything, 'class java.lang.String can not be converted to an Integer');
    assertSerialization(cbor({ Ls: {} }), 'cbor', everything, 'Start of structure or map found where not expected.');
  });

  test('CBOR null and undefined members are absent', () => {
    assert.deepEqual(decodeInput(Buffer.from('a26153f66149f7', 'hex'), 'cbor', everything), {});
  });
});

test('every error thrown is an AwsError subclass with status 400', () => {
  try {
    decodeInput(Buffer.from('x'), 'json', everything);
    assert.fail('expected a throw');
  } catch (err) {
    assert.ok(err instanceof AwsError);
    assert.equal(err.status, 400);
    assert.equal(err.capitalMessage, true);
  }
});
