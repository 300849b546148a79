/**
 * Firehose's own error types (the shared ones, ResourceNotFoundException, ResourceInUseException,
 * InvalidArgumentException, LimitExceededException and ServiceUnavailableException, are in
 * protocol/errors.ts). Messages follow the texts AWS answers with.
 */
import { AwsError, ResourceInUseException, ResourceNotFoundException } from '../protocol/errors.js';

export class ConcurrentModificationException extends AwsError {
  constructor(message: string) {
    super('ConcurrentModificationException', message);
  }
}

/** KMS refused a key; `code` carries KMS's own error code. */
export class InvalidKMSResourceException extends AwsError {
  constructor(message: string, code: string) {
    super('InvalidKMSResourceException', message);
    this.fields = { code };
  }
}

export function deliveryStreamNotFound(name: string, accountId: string): AwsError {
  return new ResourceNotFoundException(`Firehose ${name} under account ${accountId} not found.`);
}

export function deliveryStreamExists(name: string, accountId: string): AwsError {
  return new ResourceInUseException(`Firehose ${name} under accountId ${accountId} already exists`);
}
