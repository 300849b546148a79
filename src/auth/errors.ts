import { AwsError } from '../protocol/errors.js';

/** An unknown access key, or a session token that does not belong to it. */
export class UnrecognizedClientException extends AwsError {
  constructor(message = 'The security token included in the request is invalid.') {
    super('UnrecognizedClientException', message, 400);
  }
}

/** A session token past its expiry. */
export class ExpiredTokenException extends AwsError {
  constructor(message = 'The security token included in the request is expired') {
    super('ExpiredTokenException', message, 400);
  }
}
