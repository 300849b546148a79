import { SerializationException } from './errors.js';

/**
 * Strict standard base64 (RFC 4648 alphabet, `=` padding, no whitespace, no URL-safe letters,
 * zero bits after the last character), with AWS's messages for each way a value can fail.
 *
 * Node's decoder is forgiving (it skips or masks what it does not know), so the fast path decodes
 * first and then proves the input was canonical with cheap native checks; only a failing value
 * takes the slow path that finds the message.
 */
export function decodeBase64Strict(text: string): Buffer {
  const len = text.length;
  if (len % 4 !== 0) {
    throw blobError(text, `Base64 encoded length is expected a multiple of 4 bytes but found: ${len}`);
  }
  if (len === 0) return Buffer.alloc(0);

  let pad = 0;
  if (text.charCodeAt(len - 1) === EQUALS) pad = text.charCodeAt(len - 2) === EQUALS ? 2 : 1;
  const bytes = Buffer.from(text, 'base64');
  const canonical =
    bytes.length === (len >>> 2) * 3 - pad &&
    Buffer.byteLength(text, 'utf8') === len &&
    text.indexOf('-') === -1 &&
    text.indexOf('_') === -1 &&
    (pad === 0 || (pad === 1 ? (sextet(text, len - 2) & 0x3) === 0 : (sextet(text, len - 3) & 0xf) === 0));
  if (canonical) return bytes;
  throw explain(text);
}

const EQUALS = 0x3d;
const INVALID = /[^A-Za-z0-9+/=]|=[^=]/;

function explain(text: string): SerializationException {
  const match = INVALID.exec(text);
  if (match) return blobError(text, `Invalid Base64 character: '${match[0][0]}'`);
  // AWS's own spelling.
  return blobError(text, 'Invalid last non-pad Base64 character dectected');
}

function blobError(text: string, reason: string): SerializationException {
  return new SerializationException(`'${text}' can not be converted to a Blob: ${reason}`);
}

function sextet(text: string, index: number): number {
  const c = text.charCodeAt(index);
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c === 0x2b) return 62;
  if (c === 0x2f) return 63;
  return 0xff;
}
