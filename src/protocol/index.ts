import type { WireFormat } from './decode.js';

export * from './errors.js';
export * from './shape.js';
export { convertInput, decodeInput, parseBody, type WireFormat } from './decode.js';
export { validate, MAX_VIOLATIONS } from './validate.js';
export { encodeOutput, encodeError } from './encode.js';

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
export const CBOR_CONTENT_TYPE = 'application/x-amz-cbor-1.1';

/** The Content-Type of a response in the given format. */
export function contentTypeOf(format: WireFormat): string {
  return format === 'json' ? JSON_CONTENT_TYPE : CBOR_CONTENT_TYPE;
}

/**
 * The wire format a request's Content-Type names, or undefined for anything else. Parameters
 * (`; charset=utf-8`) and case are ignored.
 */
/**
 * Whether a request's Content-Type is plain `application/json`, which AWS's JSON services answer
 * in their Coral envelope (`{"Output":{"__type":…},"Version":"1.0"}`) rather than serve.
 */
export function isPlainJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

export function formatOf(contentType: string | undefined): WireFormat | undefined {
  if (contentType === undefined) return undefined;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  switch (type) {
    case 'application/x-amz-json-1.1':
    case 'application/x-amz-json-1.0':
    case 'application/json':
      return 'json';
    case 'application/x-amz-cbor-1.1':
      return 'cbor';
    default:
      return undefined;
  }
}
