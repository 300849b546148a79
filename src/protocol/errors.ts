/**
 * Errors are values with a type. Each class is one AWS error type; the protocol layer
 * serializes any of them with its `__type`, HTTP status and message, once, at the edge.
 */
export class AwsError extends Error {
  /** The bare AWS error name written as `__type`. */
  readonly type: string;
  readonly status: number;
  /** Some protocol errors are written with a capital `Message` key, as AWS does. */
  readonly capitalMessage: boolean;
  /** Further members of the error body (DynamoDB's ConditionalCheckFailedException carries `Item`). */
  fields?: Readonly<Record<string, unknown>>;

  constructor(type: string, message: string, status = 400, capitalMessage = false) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
    this.capitalMessage = capitalMessage;
  }
}

function errorType(type: string, status = 400) {
  return class extends AwsError {
    constructor(message: string) {
      super(type, message, status);
    }
  };
}

export const ResourceNotFoundException = errorType('ResourceNotFoundException');
export const ResourceInUseException = errorType('ResourceInUseException');
export const InvalidArgumentException = errorType('InvalidArgumentException');
export const LimitExceededException = errorType('LimitExceededException');
export const ExpiredIteratorException = errorType('ExpiredIteratorException');
export const ExpiredNextTokenException = errorType('ExpiredNextTokenException');
export const ProvisionedThroughputExceededException = errorType('ProvisionedThroughputExceededException');
export const AccessDeniedException = errorType('AccessDeniedException');
export const DryRunOperationException = errorType('DryRunOperationException');
export const ValidationException = errorType('ValidationException');
export const UnknownOperationException = errorType('UnknownOperationException');
export const MissingAuthenticationTokenException = errorType('MissingAuthenticationTokenException');
export const IncompleteSignatureException = errorType('IncompleteSignatureException');
export const InvalidSignatureException = errorType('InvalidSignatureException');
export const InternalFailureException = errorType('InternalFailureException', 500);
export const ServiceUnavailableException = errorType('ServiceUnavailableException', 503);
/** A request body over the server's limit (HTTP 413); AWS's own wording for it is not published. */
export const RequestEntityTooLargeException = errorType('RequestEntityTooLargeException', 413);

/**
 * What the HTTP layer answers itself, before any operation is known: a request that is not
 * well-formed HTTP/1.1 (400), one not received within the request timeout (408; the AWS SDKs
 * retry this type), one whose head is over the limit (431). AWS's wording for these is not published.
 */
export const BadRequestException = errorType('BadRequestException', 400);
export const RequestTimeoutException = errorType('RequestTimeoutException', 408);
export const RequestHeaderFieldsTooLargeException = errorType('RequestHeaderFieldsTooLargeException', 431);

/** Malformed bodies and type mismatches; AWS writes these with a capital `Message`. */
export class SerializationException extends AwsError {
  constructor(message?: string) {
    super('SerializationException', message ?? '', 400, true);
  }
}

/** Anything that is not an AwsError becomes an InternalFailure without leaking details. */
export function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err;
  return new InternalFailureException('Internal service failure.');
}
