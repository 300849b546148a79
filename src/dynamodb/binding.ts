import type { ServiceBinding } from '../server/router.js';
import { UnknownOperationException } from '../protocol/errors.js';
import { dynamoDbErrorType } from './errors.js';
import { dynamoDbOperations } from './operations/index.js';
import type { DynamoDb } from './service.js';
import { dynamoDbShapes } from './shapes.js';

/** DynamoDB as the router serves it: `X-Amz-Target: DynamoDB_20120810.<Operation>`, JSON 1.0. */
export function dynamoDbBinding(d: DynamoDb, authorize?: ServiceBinding['authorize']): ServiceBinding {
  return {
    ...(authorize ? { authorize } : {}),
    targetPrefix: 'DynamoDB_20120810',
    shapes: dynamoDbShapes,
    jsonContentType: 'application/x-amz-json-1.0',
    errorType: dynamoDbErrorType,
    handle(operation, input) {
      const op = dynamoDbOperations.get(operation);
      if (!op) throw new UnknownOperationException('');
      return op.handle(d, input);
    },
  };
}
