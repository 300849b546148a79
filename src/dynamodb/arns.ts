import { ResourceNotFoundException, ValidationException, type AwsError } from '../protocol/errors.js';
import type { DynamoDbSettings } from './service.js';

const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:([^:]*):(\d{12}):table\/([a-zA-Z0-9_.-]{3,255})$/;

export function notFoundByArn(arn: string): AwsError {
  // "ResourcArn" is DynamoDB's own spelling in this message.
  return new ResourceNotFoundException(`Requested resource not found: ResourcArn: ${arn} not found`);
}

/** The name of the table a resource ARN names; DynamoDB's errors for one it cannot use. */
export function tableNameOfArn(settings: DynamoDbSettings, arn: string): string {
  const m = TABLE_ARN.exec(arn);
  if (!m) throw new ValidationException(`Invalid TableArn: Invalid ResourceArn provided as input ${arn}`);
  if (m[1] !== settings.region || m[2] !== settings.accountId) throw notFoundByArn(arn);
  return m[3]!;
}
