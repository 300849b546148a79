import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Decoder } from 'cbor-x';
import {
  InternalFailureException,
  ResourceNotFoundException,
  SerializationException,
  UnknownOperationException,
  ValidationException,
  blob,
  decodeInput,
  encodeError,
  encodeOutput,
  list,
  long,
  string,
  structure,
  timestamp,
} from '../../src/protocol/index.js';

const plainCbor = new Decoder({ useRecords: false, mapsAsObjects: true });

describe('encodeOutput: JSON', () => {
  test('no output is an empty body', () => {
    assert.equal(encodeOutput(undefined, 'json').length, 0);
    assert.equal(encodeOutput(undefined, 'cbor').length, 0);
  });

  test('blobs are base64, timestamps epoch seconds with milliseconds, undefined members left out', () => {
    const body = encodeOutput(
      {
        Records: [
          {
            SequenceNumber: '49590338271490256608559692538361571095921575989136588898',
            ApproximateArrivalTimestamp: new Date(1459799926480),
            Data: Buffer.from('hello'),
            PartitionKey: 'p',
            EncryptionType: undefined,
          },
        ],
        NextShardIterator: undefined,
        MillisBehindLatest: 0,
        ChildShards: [],
      },
      'json',
    );
    assert.equal(
      body.toString(),
      '{"Records":[{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898",' +
        '"ApproximateArrivalTimestamp":1459799926.48,"Data":"aGVsbG8=","PartitionKey":"p"}],' +
        '"MillisBehindLatest":0,"ChildShards":[]}',
    );
  });

  test('timestamps: whole seconds, one to three decimals, before 1970 and far ahead', () => {
    const text = (ms: number) => encodeOutput({ T: new Date(ms) }, 'json').toString();
    assert.equal(text(1459799926000), '{"T":1459799926}');
    assert.equal(text(1459799926400), '{"T":1459799926.4}');
    assert.equal(text(1459799926040), '{"T":1459799926.04}');
    assert.equal(text(1459799926004), '{"T":1459799926.004}');
    assert.equal(text(0), '{"T":0}');
    assert.equal(text(999), '{"T":0.999}');
    assert.equal(text(-1500), '{"T":-1.5}');
    assert.equal(text(32503680000001), '{"T":32503680000.001}');
    assert.equal(text(NaN), '{"T":null}');
  });

  test('strings are escaped and kept ASCII; the result is what JSON.parse reads back', () => {
    const value = {
      Quote: 'a"b\\c',
      Control: 'line\nnext\t\u0001',
      Unicode: 'ü0 _./=+-@ — 😀',
      Long: `${'x'.repeat(100)}"${'é'.repeat(10)}`,
      'Key "quoted" ü': 1,
      Numbers: [0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER, Infinity, NaN],
      Flags: [true, false, null],
      Empty: {},
      Nested: { Deep: [{ X: undefined, Y: 'y' }] },
    };
    const body = encodeOutput(value, 'json');
    assert.ok(body.every((b) => b < 0x80), 'ASCII only');
    assert.deepEqual(JSON.parse(body.toString()), {
      ...value,
      Numbers: [0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER, null, null],
      Nested: { Deep: [{ Y: 'y' }] },
    });
  });

  test('Uint8Arrays that are not Buffers are blobs too', () => {
    const bytes = new Uint8Array([0, 1, 2, 3, 4]).subarray(1, 4);
    assert.equal(encodeOutput({ Data: bytes }, 'json').toString(), '{"Data":"AQID"}');
  });

  test('a GetRecords response of 10,000 records of 1 KiB serializes to JSON that reads back exactly', () => {
    const base = 1700000000000;
    const records = Array.from({ length: 10000 }, (_, i) => ({
      SequenceNumber: `4959033827149025660855969253836157109592157598913658${String(i).padStart(4, '0')}`,
      ApproximateArrivalTimestamp: new Date(base + i),
      Data: randomBytes(1024),
      PartitionKey: `pk-${i}`,
    }));
    const output = { Records: records, NextShardIterator: 'A'.repeat(200), MillisBehindLatest: 0 };
    const body = encodeOutput(output, 'json');
    const parsed = JSON.parse(body.toString()) as { Records: Array<{ Data: string; ApproximateArrivalTimestamp: number }> };
    assert.equal(parsed.Records.length, 10000);
    assert.equal(Buffer.from(parsed.Records[9999]!.Data, 'base64').equals(records[9999]!.Data), true);
    assert.equal(parsed.Records[1]!.ApproximateArrivalTimestamp, 1700000000.001);
    assert.deepEqual(
      parsed.Records.map((r) => Buffer.from(r.Data, 'base64')),
      records.map((r) => r.Data),
    );
  });
});

describe('encodeOutput: CBOR', () => {
  test('a Date is tag 1 (0xc1) around the integer epoch milliseconds', () => {
    const millis = 1459799926480;
    const body = encodeOutput({ T: new Date(millis) }, 'cbor');
    const expected = Buffer.alloc(10);
    expected[0] = 0xc1;
    expected[1] = 0x1b; // 8-byte unsigned integer
    expected.writeBigUInt64BE(BigInt(millis), 2);
    assert.deepEqual(body, Buffer.concat([Buffer.from('a16154', 'hex'), expected]));
  });

  test('small and negative millisecond values use the shortest integer forms', () => {
    assert.deepEqual(encodeOutput({ T: new Date(1000) }, 'cbor'), Buffer.from('a16154c11903e8', 'hex'));
    assert.deepEqual(encodeOutput({ T: new Date(-1000) }, 'cbor'), Buffer.from('a16154c13903e7', 'hex'));
    const early = encodeOutput({ T: new Date(-1e13) }, 'cbor');
    assert.equal(early[3], 0xc1);
    assert.equal(early[4], 0x3b); // 8-byte negative integer
  });

  test('blobs are byte strings, big integers stay integers, undefined members are left out', () => {
    const body = encodeOutput({ Data: Buffer.from([1, 2, 3]), Millis: 2 ** 40, Half: 0.5, Gone: undefined, S: 'x' }, 'cbor');
    assert.equal(
      body.toString('hex'),
      'a4' + '6444617461' + '43010203' + '664d696c6c6973' + '1b0000010000000000' + '6448616c66' + 'fb3fe0000000000000' + '6153' + '6178',
    );
    const decoded = plainCbor.decode(body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(decoded), ['Data', 'Millis', 'Half', 'S']);
  });

  test('a GetRecords-shaped output decodes back with the Java conventions', () => {
    const body = encodeOutput(
      { Records: [{ SequenceNumber: '1', ApproximateArrivalTimestamp: new Date(1700000000123), Data: Buffer.from('hi') }], MillisBehindLatest: 0 },
      'cbor',
    );
    assert.ok(body.includes(Buffer.from('c11b0000018bcfe5687b', 'hex')));
    const shape = structure('GetRecordsOutput', {
      Records: list(structure('Record', { SequenceNumber: string(), ApproximateArrivalTimestamp: timestamp(), Data: blob() })),
      MillisBehindLatest: long(),
    });
    const decoded = decodeInput(body, 'cbor', shape) as { Records: Array<Record<string, unknown>>; MillisBehindLatest: number };
    assert.deepEqual(decoded, {
      Records: [{ SequenceNumber: '1', ApproximateArrivalTimestamp: new Date(1700000000123), Data: Buffer.from('hi') }],
      MillisBehindLatest: 0,
    });
  });
});

describe('encodeError', () => {
  test('JSON bodies with __type and message', () => {
    assert.equal(
      encodeError(new ResourceNotFoundException('Stream s under account 000000000000 not found.'), 'json').toString(),
      '{"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."}',
    );
    assert.equal(
      encodeError(new ValidationException("1 validation error detected: Value null at 'records' failed"), 'json').toString(),
      '{"__type":"ValidationException","message":"1 validation error detected: Value null at \'records\' failed"}',
    );
  });

  test('capital Message for serialization errors; only __type when there is no text', () => {
    assert.equal(
      encodeError(new SerializationException('class java.lang.String can not be converted to an Integer'), 'json').toString(),
      '{"__type":"SerializationException","Message":"class java.lang.String can not be converted to an Integer"}',
    );
    assert.equal(encodeError(new SerializationException(), 'json').toString(), '{"__type":"SerializationException"}');
    assert.equal(encodeError(new UnknownOperationException(''), 'json').toString(), '{"__type":"UnknownOperationException"}');
  });

  test('CBOR maps', () => {
    const decoded = plainCbor.decode(encodeError(new InternalFailureException('Internal service failure.'), 'cbor'));
    assert.deepEqual(decoded, { __type: 'InternalFailureException', message: 'Internal service failure.' });
    assert.deepEqual(plainCbor.decode(encodeError(new SerializationException(), 'cbor')), { __type: 'SerializationException' });
  });
});
