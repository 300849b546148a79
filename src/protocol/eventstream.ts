import { crc32 } from 'node:zlib';
import type { WireFormat } from './decode.js';
import { encodeOutput } from './encode.js';

/**
 * The `application/vnd.amazon.eventstream` framing that event-stream responses (SubscribeToShard)
 * are made of. One message, all integers big-endian:
 *
 *   u32 total length (the whole message, these 4 bytes and the trailing CRC included)
 *   u32 length of the headers section
 *   u32 CRC-32 of the 8 bytes before it (the prelude)
 *   headers: u8 name length, name (UTF-8), u8 value type, value
 *   payload
 *   u32 CRC-32 of every byte before it
 *
 * Only string headers (type 7: u16 length, UTF-8) are written; that is all Kinesis sends.
 */

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** Prelude (8) + prelude CRC (4) + message CRC (4). */
export const MESSAGE_OVERHEAD = 16;
const PRELUDE = 8;
const STRING_TYPE = 7;
/** What clients accept for one message (the AWS SDKs refuse anything larger). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export type EventHeaders = ReadonlyArray<readonly [name: string, value: string]>;

/** One framed message with string headers, in the order given. */
export function encodeMessage(headers: EventHeaders, payload: Uint8Array): Buffer {
  let headersLength = 0;
  for (const [name, value] of headers) {
    const n = Buffer.byteLength(name, 'utf8');
    const v = Buffer.byteLength(value, 'utf8');
    if (n === 0 || n > 255) throw new RangeError(`event header name must be 1..255 bytes: ${name}`);
    if (v > 0xffff) throw new RangeError(`event header ${name} is longer than 65535 bytes`);
    headersLength += 1 + n + 1 + 2 + v;
  }
  const total = MESSAGE_OVERHEAD + headersLength + payload.length;
  if (total > MAX_MESSAGE_BYTES) throw new RangeError(`event message of ${total} bytes is too large`);
  const buf = Buffer.allocUnsafe(total);
  buf.writeUInt32BE(total, 0);
  buf.writeUInt32BE(headersLength, 4);
  buf.writeUInt32BE(crc32(buf.subarray(0, PRELUDE)), PRELUDE);
  let pos = PRELUDE + 4;
  for (const [name, value] of headers) {
    const n = buf.write(name, pos + 1, 'utf8');
    buf.writeUInt8(n, pos);
    pos += 1 + n;
    buf.writeUInt8(STRING_TYPE, pos);
    const v = buf.write(value, pos + 3, 'utf8');
    buf.writeUInt16BE(v, pos + 1);
    pos += 3 + v;
  }
  buf.set(payload, pos);
  pos += payload.length;
  buf.writeUInt32BE(crc32(buf.subarray(0, pos)), pos);
  return buf;
}

/** The `:content-type` of event payloads: JSON for JSON requests, CBOR for CBOR requests. */
export function eventContentType(format: WireFormat): string {
  return format === 'json' ? 'application/json' : 'application/x-amz-cbor-1.1';
}

/** A modeled event (`:message-type` event) whose payload is `body` serialized in `format`. */
export function eventMessage(eventType: string, body: object, format: WireFormat): Buffer {
  return encodeMessage(
    [
      [':message-type', 'event'],
      [':event-type', eventType],
      [':content-type', eventContentType(format)],
    ],
    encodeOutput(body, format),
  );
}

/**
 * The first message of every event stream: the operation's output members other than the stream
 * itself (for SubscribeToShard, none, so `{}`).
 */
export function initialResponseMessage(format: WireFormat, body: object = {}): Buffer {
  return eventMessage('initial-response', body, format);
}

/** A modeled exception of the stream's union (`:message-type` exception) with `{message}`. */
export function exceptionMessage(exceptionType: string, message: string, format: WireFormat): Buffer {
  return encodeMessage(
    [
      [':message-type', 'exception'],
      [':exception-type', exceptionType],
      [':content-type', eventContentType(format)],
    ],
    encodeOutput({ message }, format),
  );
}

/** An error outside the stream's model (`:message-type` error), with an empty payload. */
export function errorMessage(code: string, message: string): Buffer {
  return encodeMessage(
    [
      [':message-type', 'error'],
      [':error-code', code],
      [':error-message', message],
    ],
    Buffer.alloc(0),
  );
}

/**
 * Where an event stream writes: the transport (HTTP/1.1 chunked, HTTP/2, either over TLS or not)
 * behind one small interface.
 */
export interface EventSink {
  /** Writes one whole message; false when the transport's buffer is full (wait for onDrain). */
  write(message: Buffer): boolean;
  /** True while a write has returned false and the transport has not drained since. */
  readonly blocked: boolean;
  /** Calls `fn` once the transport drains (at once if it is not blocked). */
  onDrain(fn: () => void): void;
  /** Ends the stream cleanly; buffered messages are still delivered. */
  end(): void;
  /** Drops the stream now, buffered messages and all (for a peer that stopped reading). */
  destroy(): void;
  readonly closed: boolean;
  /** Calls `fn` once, when the stream is closed for any reason (end, reset, error, peer gone). */
  onClose(fn: () => void): void;
}

/**
 * The output of an operation that answers with an event stream. The protocol layer writes the
 * HTTP response and the `initial-response` message, then hands the sink to `start`; from then on
 * the producer owns the stream and must release everything it holds when the sink closes.
 */
export class EventStreamOutput {
  constructor(
    /** Called with the open sink, after the initial-response message is written. */
    readonly start: (sink: EventSink, format: WireFormat) => void,
    /** Called instead of `start` when the client is gone before the stream could begin. */
    readonly abandon: () => void = () => {},
    /** Output members other than the event stream, sent in the initial-response message. */
    readonly initial: object = {},
  ) {}
}
