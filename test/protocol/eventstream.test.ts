import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { Decoder } from 'cbor-x';
import fc from 'fast-check';
import {
  encodeMessage,
  errorMessage,
  eventMessage,
  exceptionMessage,
  initialResponseMessage,
} from '../../src/protocol/eventstream.js';
import { decodeMessage, FrameError, header, MessageReader } from '../helpers/eventstream.js';

const cbor = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

describe('event-stream encoder', () => {
  it('lays out the prelude, string headers, payload and both CRCs byte by byte', () => {
    const payload = Buffer.from('{"Records":[],"ContinuationSequenceNumber":"4959","MillisBehindLatest":0}');
    const msg = encodeMessage(
      [
        [':message-type', 'event'],
        [':event-type', 'SubscribeToShardEvent'],
        [':content-type', 'application/json'],
      ],
      payload,
    );
    const headerBytes = Buffer.concat([
      Buffer.from([0x0d]),
      Buffer.from(':message-type'),
      Buffer.from([0x07, 0x00, 0x05]),
      Buffer.from('event'),
      Buffer.from([0x0b]),
      Buffer.from(':event-type'),
      Buffer.from([0x07, 0x00, 0x15]),
      Buffer.from('SubscribeToShardEvent'),
      Buffer.from([0x0d]),
      Buffer.from(':content-type'),
      Buffer.from([0x07, 0x00, 0x10]),
      Buffer.from('application/json'),
    ]);
    const total = 16 + headerBytes.length + payload.length;
    assert.equal(msg.length, total);
    assert.equal(msg.readUInt32BE(0), total, 'total length counts the whole message');
    assert.equal(msg.readUInt32BE(4), headerBytes.length, 'headers length');
    assert.equal(msg.readUInt32BE(8), crc32(msg.subarray(0, 8)), 'prelude CRC is CRC-32 of the first 8 bytes');
    assert.deepEqual(msg.subarray(12, 12 + headerBytes.length), headerBytes);
    assert.deepEqual(msg.subarray(12 + headerBytes.length, total - 4), payload);
    assert.equal(msg.readUInt32BE(total - 4), crc32(msg.subarray(0, total - 4)), 'message CRC covers everything before it');
  });

  it('computes the CRC-32 of the IEEE/zlib polynomial (check value of "123456789")', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    // A message with no headers and no payload: its prelude CRC is the CRC of 00 00 00 10 00 00 00 00.
    const empty = encodeMessage([], Buffer.alloc(0));
    assert.deepEqual(empty.subarray(0, 8), Buffer.from([0, 0, 0, 16, 0, 0, 0, 0]));
    assert.equal(empty.readUInt32BE(8), crc32(Buffer.from([0, 0, 0, 16, 0, 0, 0, 0])));
  });

  it('round-trips through an independent decoder, which refuses any damaged byte', () => {
    const msg = eventMessage('SubscribeToShardEvent', { Records: [], ContinuationSequenceNumber: '1', MillisBehindLatest: 5 }, 'json');
    const d = decodeMessage(msg);
    assert.equal(header(d, ':message-type'), 'event');
    assert.equal(header(d, ':event-type'), 'SubscribeToShardEvent');
    assert.equal(header(d, ':content-type'), 'application/json');
    assert.deepEqual(JSON.parse(d.payload.toString()), { Records: [], ContinuationSequenceNumber: '1', MillisBehindLatest: 5 });
    for (const at of [0, 5, 9, 20, msg.length - 10, msg.length - 1]) {
      const bad = Buffer.from(msg);
      bad[at] ^= 0x40;
      assert.throws(() => decodeMessage(bad), FrameError, `a flipped bit at byte ${at} is detected`);
    }
  });

  it('writes initial-response, exception and error messages as the event-stream protocol defines them', () => {
    const initial = decodeMessage(initialResponseMessage('json'));
    assert.equal(header(initial, ':message-type'), 'event');
    assert.equal(header(initial, ':event-type'), 'initial-response');
    assert.equal(initial.payload.toString(), '{}');

    const ex = decodeMessage(exceptionMessage('ResourceInUseException', 'taken over', 'json'));
    assert.equal(header(ex, ':message-type'), 'exception');
    assert.equal(header(ex, ':exception-type'), 'ResourceInUseException');
    assert.equal(header(ex, ':content-type'), 'application/json');
    assert.deepEqual(JSON.parse(ex.payload.toString()), { message: 'taken over' });

    const err = decodeMessage(errorMessage('InternalFailure', 'oops'));
    assert.equal(header(err, ':message-type'), 'error');
    assert.equal(header(err, ':error-code'), 'InternalFailure');
    assert.equal(header(err, ':error-message'), 'oops');
    assert.equal(err.payload.length, 0);
  });

  it('writes CBOR payloads for CBOR requests, with the CBOR content type and tag-1 millisecond timestamps', () => {
    const at = new Date(1_700_000_000_123);
    const msg = decodeMessage(
      eventMessage(
        'SubscribeToShardEvent',
        {
          Records: [{ SequenceNumber: '7', ApproximateArrivalTimestamp: at, Data: Buffer.from([1, 2, 3]), PartitionKey: 'p' }],
          ContinuationSequenceNumber: '7',
          MillisBehindLatest: 0,
        },
        'cbor',
      ),
    );
    assert.equal(header(msg, ':content-type'), 'application/x-amz-cbor-1.1');
    const tagAt = msg.payload.indexOf(Buffer.from('ApproximateArrivalTimestamp')) + 'ApproximateArrivalTimestamp'.length;
    assert.equal(msg.payload[tagAt], 0xc1, 'timestamps are tag 1');
    const body = cbor.decode(msg.payload) as { Records: Array<{ Data: Uint8Array }>; ContinuationSequenceNumber: string };
    assert.deepEqual(Buffer.from(body.Records[0]!.Data), Buffer.from([1, 2, 3]), 'blobs are byte strings');
    assert.equal(body.ContinuationSequenceNumber, '7');
    assert.equal(decodeMessage(initialResponseMessage('cbor')).payload[0], 0xa0, 'the initial response is an empty CBOR map');
  });

  it('refuses header names and values the framing cannot carry', () => {
    assert.throws(() => encodeMessage([['', 'x']], Buffer.alloc(0)), RangeError);
    assert.throws(() => encodeMessage([['n'.repeat(256), 'x']], Buffer.alloc(0)), RangeError);
    assert.throws(() => encodeMessage([['n', 'v'.repeat(65536)]], Buffer.alloc(0)), RangeError);
  });

  it('frames arbitrary headers and payloads that split anywhere in a byte stream (property)', () => {
    const headerName = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(headerName, fc.string({ maxLength: 100 })), { maxLength: 5 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 64 }),
        (headers, payload, chunk) => {
          const unique = [...new Map(headers).entries()];
          const msg = encodeMessage(unique, payload);
          const stream = Buffer.concat([msg, msg]);
          const reader = new MessageReader();
          const got = [];
          for (let i = 0; i < stream.length; i += chunk) got.push(...reader.push(stream.subarray(i, i + chunk)));
          assert.equal(got.length, 2);
          assert.equal(reader.pending, 0);
          for (const m of got) {
            assert.deepEqual(m.payload, Buffer.from(payload));
            for (const [name, value] of unique) assert.equal(header(m, name), value);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
