import { cborInteger, encodeCbor, timestampTag } from './cbor.js';
import type { WireFormat } from './decode.js';
import type { AwsError } from './errors.js';
import { jsonBytes } from './json-writer.js';

const EMPTY = Buffer.alloc(0);

/**
 * A response body. `undefined` (operations without output) is an empty body. Outputs hold
 * Buffers (blobs), Dates (timestamps), strings, numbers, booleans, arrays and plain objects;
 * undefined members are left out.
 */
export function encodeOutput(output: object | undefined, format: WireFormat): Buffer {
  if (output === undefined) return EMPTY;
  if (format === 'json') return jsonBytes(output);
  return encodeCbor(forCbor(output));
}

/**
 * An error body: `{"__type": "<Type>", "message": "<text>"}`, with `Message` for the protocol
 * errors AWS writes that way, and no message member at all when the text is empty (as AWS sends
 * a bare SerializationException or UnknownOperationException).
 */
export function encodeError(err: AwsError, format: WireFormat): Buffer {
  const body: Record<string, string> = { __type: err.type };
  if (err.message !== '') body[err.capitalMessage ? 'Message' : 'message'] = err.message;
  if (format === 'json') return jsonBytes(body);
  return encodeCbor(body);
}

/**
 * A copy the CBOR encoder writes the AWS way: Dates as tag 1 around integer epoch milliseconds,
 * integers beyond 32 bits as integers rather than doubles, Buffers as byte strings.
 */
function forCbor(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? cborInteger(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return timestampTag(value);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = forCbor(value[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const member = obj[key];
    if (member === undefined || typeof member === 'function') continue;
    out[key] = forCbor(member);
  }
  return out;
}
