import { cborBytes } from './cbor-writer.js';
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
  return cborBytes(output);
}

/**
 * An error body: `{"__type": "<Type>", "message": "<text>"}`, with `Message` for the protocol
 * errors AWS writes that way, and no message member at all when the text is empty (as AWS sends
 * a bare SerializationException or UnknownOperationException). `type` is the `__type` written
 * (a service may qualify the bare name); the error's `fields` follow the message.
 */
export function encodeError(err: AwsError, format: WireFormat, type: string = err.type): Buffer {
  const body: Record<string, unknown> = { __type: type };
  if (err.message !== '') body[err.capitalMessage ? 'Message' : 'message'] = err.message;
  if (err.fields) Object.assign(body, err.fields);
  if (format === 'json') return jsonBytes(body);
  return cborBytes(body);
}
