/**
 * S3's errors: a code, an HTTP status and a message, serialized once at the edge as S3's XML
 * `<Error>` document (HEAD responses carry no body). Extra children (e.g. `BucketName`, `Key`)
 * go into the document after the message.
 */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Readonly<Record<string, string>> = {},
    /** Headers the error response carries (e.g. `Content-Range` on 416). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = code;
  }
}

const make =
  (code: string, status: number, message: string) =>
  (extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    new S3Error(code, status, message, extra, headers);

export const noSuchBucket = (bucket: string) =>
  new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string) => new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key });
export const noSuchUpload = (uploadId: string) =>
  new S3Error(
    'NoSuchUpload',
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
export const bucketNotEmpty = (bucket: string) =>
  new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: bucket });
export const bucketAlreadyOwnedByYou = (bucket: string) =>
  new S3Error(
    'BucketAlreadyOwnedByYou',
    409,
    'Your previous request to create the named bucket succeeded and you already own it.',
    { BucketName: bucket },
  );
export const invalidBucketName = (bucket: string) =>
  new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket });
export const keyTooLong = (size: number) =>
  new S3Error('KeyTooLongError', 400, 'Your key is too long', { Size: String(size), MaxSizeAllowed: '1024' });
export const badDigest = make('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
export const checksumMismatch = (algorithm: string) =>
  new S3Error('BadDigest', 400, `The ${algorithm} you specified did not match the calculated checksum.`);
export const invalidDigest = make('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.');
export const sha256Mismatch = (client: string, server: string) =>
  new S3Error('XAmzContentSHA256Mismatch', 400, "The provided 'x-amz-content-sha256' header does not match what was computed.", {
    ClientComputedContentSHA256: client,
    S3ComputedContentSHA256: server,
  });
export const malformedXml = make(
  'MalformedXML',
  400,
  'The XML you provided was not well-formed or did not validate against our published schema',
);
export const invalidRange = (size: number) =>
  new S3Error(
    'InvalidRange',
    416,
    'The requested range is not satisfiable',
    { RangeRequested: '', ActualObjectSize: String(size) },
    { 'Content-Range': `bytes */${size}` },
  );
export const preconditionFailed = (condition: string) =>
  new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
export const entityTooSmall = make('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.');
export const entityTooLarge = make('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size');
export const invalidPart = make(
  'InvalidPart',
  400,
  "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
);
export const invalidPartOrder = make('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
export const invalidArgument = (message: string, name?: string, value?: string) =>
  new S3Error('InvalidArgument', 400, message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' });
export const invalidRequest = (message: string) => new S3Error('InvalidRequest', 400, message);
export const incompleteBody = make('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header');
export const missingContentLength = make('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
export const signatureDoesNotMatch = (message?: string) =>
  new S3Error(
    'SignatureDoesNotMatch',
    403,
    message ?? 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );
export const accessDenied = (message = 'Access Denied') => new S3Error('AccessDenied', 403, message);
export const methodNotAllowed = (method: string, resource: string) =>
  new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', {
    Method: method,
    ResourceType: resource,
  });
export const notImplemented = make('NotImplemented', 501, 'A header you provided implies functionality that is not implemented');
export const internalError = make('InternalError', 500, 'We encountered an internal error. Please try again.');

/** A 304 is not an error document but travels as one: it ends the request with no body. */
export const notModified = () => new S3Error('NotModified', 304, 'Not Modified');

/**
 * What S3 answers a request its HTTP layer refuses with: all 400, told apart by the code
 * (RequestTimeout and RequestHeaderSectionTooLarge are in S3's list of error codes).
 */
export function httpLayerError(status: 400 | 408 | 431): S3Error {
  if (status === 431) {
    return new S3Error('RequestHeaderSectionTooLarge', 400, 'The request header and query parameters used to make the request exceed the maximum allowed size.');
  }
  if (status === 408) {
    return new S3Error('RequestTimeout', 400, 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.');
  }
  return new S3Error('BadRequest', 400, 'An error occurred when parsing the HTTP request.');
}
