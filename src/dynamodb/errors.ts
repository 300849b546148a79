/**
 * DynamoDB's error types. They are thrown as values like every AWS error and written once at the
 * edge; DynamoDB qualifies each `__type` with the namespace that defines it.
 */
import { AwsError } from '../protocol/errors.js';
import type { AttributeMap } from './values.js';

export class ConditionalCheckFailedException extends AwsError {
  constructor(item?: AttributeMap) {
    super('ConditionalCheckFailedException', 'The conditional request failed');
    if (item !== undefined) this.fields = { Item: item };
  }
}

/** Errors of the request framework keep the namespaces DynamoDB answers with. */
const CORAL: Record<string, string> = {
  ValidationException: 'com.amazon.coral.validate#ValidationException',
  SerializationException: 'com.amazon.coral.service#SerializationException',
  UnknownOperationException: 'com.amazon.coral.service#UnknownOperationException',
  MissingAuthenticationTokenException: 'com.amazon.coral.service#MissingAuthenticationTokenException',
  IncompleteSignatureException: 'com.amazon.coral.service#IncompleteSignatureException',
  InvalidSignatureException: 'com.amazon.coral.service#InvalidSignatureException',
  AccessDeniedException: 'com.amazon.coral.service#AccessDeniedException',
  UnrecognizedClientException: 'com.amazon.coral.service#UnrecognizedClientException',
  // The shared pipeline's last-resort error; DynamoDB's name for it is InternalServerError.
  InternalFailureException: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
};

/** The `__type` DynamoDB writes for an error type. */
export function dynamoDbErrorType(type: string): string {
  return CORAL[type] ?? `com.amazonaws.dynamodb.v20120810#${type}`;
}
