import {
  boolean,
  integer,
  list,
  long,
  map,
  required,
  string,
  structure,
  blob,
  type Shape,
  type StructureShape,
  type Required,
} from '../protocol/shape.js';
import { MAX_DEPTH } from './values.js';

/**
 * The input shape of every DynamoDB operation served (API 2012-08-10), one table per operation,
 * with the model's constraints, in the model's member order.
 *
 * An AttributeValue is recursive (M and L hold AttributeValues); the shape language has no
 * recursion, so the shape is unrolled to DynamoDB's documented nesting limit of 32 levels plus one,
 * whose M and L hold empty structures: a value nested deeper decodes to `{}` there and is refused
 * as empty.
 */

function ddbStructure(name: string, members: Readonly<Record<string, Shape | Required>>): StructureShape {
  return structure(name, members, `com.amazonaws.dynamodb.v20120810.${name}@0`);
}

const tableName = string({ min: 3, max: 255, pattern: '[a-zA-Z0-9_.-]+' });
const indexName = tableName;
const attributeName = string({ max: 65535 });
const keySchemaAttributeName = string({ min: 1, max: 255 });
const arn = string({ min: 1, max: 1283 });
const expression = string();
const positiveLong = long({ min: 1 });
const positiveInteger = integer({ min: 1 });

function attributeValueShape(levels: number): StructureShape {
  const inner: Shape = levels === 0 ? structure('AttributeValue', {}) : attributeValueShape(levels - 1);
  return ddbStructure('AttributeValue', {
    S: string(),
    N: string(),
    B: blob(),
    SS: list(string()),
    NS: list(string()),
    BS: list(blob()),
    M: map(string(), inner),
    L: list(inner),
    NULL: boolean(),
    BOOL: boolean(),
  });
}

const attributeValue = attributeValueShape(MAX_DEPTH);
const attributeMap = map(attributeName, attributeValue);
const key = map(attributeName, attributeValue);
const expressionAttributeNames = map(string(), attributeName);
const expressionAttributeValues = map(string(), attributeValue);
const attributesToGet = list(attributeName, { min: 1 });
const comparisonOperator = string({
  enum: ['EQ', 'NE', 'IN', 'LE', 'LT', 'GE', 'GT', 'BETWEEN', 'NOT_NULL', 'NULL', 'CONTAINS', 'NOT_CONTAINS', 'BEGINS_WITH'],
});
const conditionalOperator = string({ enum: ['AND', 'OR'] });
const returnValue = string({ enum: ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'] });
const returnConsumedCapacity = string({ enum: ['INDEXES', 'TOTAL', 'NONE'] });
const returnItemCollectionMetrics = string({ enum: ['SIZE', 'NONE'] });
const returnValuesOnConditionCheckFailure = string({ enum: ['ALL_OLD', 'NONE'] });
const select = string({ enum: ['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES', 'COUNT'] });

const expectedAttributeValue = ddbStructure('ExpectedAttributeValue', {
  Value: attributeValue,
  Exists: boolean(),
  ComparisonOperator: comparisonOperator,
  AttributeValueList: list(attributeValue),
});
const expected = map(attributeName, expectedAttributeValue);
const condition = ddbStructure('Condition', {
  AttributeValueList: list(attributeValue),
  ComparisonOperator: required(comparisonOperator),
});
const filterConditions = map(attributeName, condition);
const attributeValueUpdate = ddbStructure('AttributeValueUpdate', {
  Value: attributeValue,
  Action: string({ enum: ['ADD', 'PUT', 'DELETE'] }),
});

const attributeDefinition = ddbStructure('AttributeDefinition', {
  AttributeName: required(keySchemaAttributeName),
  AttributeType: required(string({ enum: ['S', 'N', 'B'] })),
});
const keySchemaElement = ddbStructure('KeySchemaElement', {
  AttributeName: required(keySchemaAttributeName),
  KeyType: required(string({ enum: ['HASH', 'RANGE'] })),
});
const keySchema = list(keySchemaElement, { min: 1, max: 2 });
const projection = ddbStructure('Projection', {
  ProjectionType: string({ enum: ['ALL', 'KEYS_ONLY', 'INCLUDE'] }),
  NonKeyAttributes: list(keySchemaAttributeName, { min: 1, max: 20 }),
});
const provisionedThroughput = ddbStructure('ProvisionedThroughput', {
  ReadCapacityUnits: required(positiveLong),
  WriteCapacityUnits: required(positiveLong),
});
const onDemandThroughput = ddbStructure('OnDemandThroughput', {
  MaxReadRequestUnits: long(),
  MaxWriteRequestUnits: long(),
});
const warmThroughput = ddbStructure('WarmThroughput', {
  ReadUnitsPerSecond: long(),
  WriteUnitsPerSecond: long(),
});
const globalSecondaryIndex = ddbStructure('GlobalSecondaryIndex', {
  IndexName: required(indexName),
  KeySchema: required(keySchema),
  Projection: required(projection),
  ProvisionedThroughput: provisionedThroughput,
  OnDemandThroughput: onDemandThroughput,
  WarmThroughput: warmThroughput,
});
const localSecondaryIndex = ddbStructure('LocalSecondaryIndex', {
  IndexName: required(indexName),
  KeySchema: required(keySchema),
  Projection: required(projection),
});
const tag = ddbStructure('Tag', {
  Key: required(string({ min: 1, max: 128 })),
  Value: required(string({ min: 0, max: 256 })),
});
const tagList = list(tag);

const createTable = ddbStructure('CreateTableInput', {
  AttributeDefinitions: required(list(attributeDefinition)),
  TableName: required(tableName),
  KeySchema: required(keySchema),
  LocalSecondaryIndexes: list(localSecondaryIndex),
  GlobalSecondaryIndexes: list(globalSecondaryIndex),
  BillingMode: string({ enum: ['PROVISIONED', 'PAY_PER_REQUEST'] }),
  ProvisionedThroughput: provisionedThroughput,
  StreamSpecification: ddbStructure('StreamSpecification', {
    StreamEnabled: required(boolean()),
    StreamViewType: string({ enum: ['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY'] }),
  }),
  SSESpecification: ddbStructure('SSESpecification', {
    Enabled: boolean(),
    SSEType: string({ enum: ['AES256', 'KMS'] }),
    KMSMasterKeyId: string(),
  }),
  Tags: tagList,
  TableClass: string({ enum: ['STANDARD', 'STANDARD_INFREQUENT_ACCESS'] }),
  DeletionProtectionEnabled: boolean(),
  WarmThroughput: warmThroughput,
  ResourcePolicy: string(),
  OnDemandThroughput: onDemandThroughput,
});

const describeTable = ddbStructure('DescribeTableInput', { TableName: required(tableName) });
const deleteTable = ddbStructure('DeleteTableInput', { TableName: required(tableName) });
const listTables = ddbStructure('ListTablesInput', {
  ExclusiveStartTableName: tableName,
  Limit: integer({ min: 1, max: 100 }),
});
const updateTable = ddbStructure('UpdateTableInput', {
  AttributeDefinitions: list(attributeDefinition),
  TableName: required(tableName),
  BillingMode: string({ enum: ['PROVISIONED', 'PAY_PER_REQUEST'] }),
  ProvisionedThroughput: provisionedThroughput,
  GlobalSecondaryIndexUpdates: list(
    ddbStructure('GlobalSecondaryIndexUpdate', {
      Update: ddbStructure('UpdateGlobalSecondaryIndexAction', {
        IndexName: required(indexName),
        ProvisionedThroughput: provisionedThroughput,
        OnDemandThroughput: onDemandThroughput,
      }),
      Create: ddbStructure('CreateGlobalSecondaryIndexAction', {
        IndexName: required(indexName),
        KeySchema: required(keySchema),
        Projection: required(projection),
        ProvisionedThroughput: provisionedThroughput,
        OnDemandThroughput: onDemandThroughput,
      }),
      Delete: ddbStructure('DeleteGlobalSecondaryIndexAction', { IndexName: required(indexName) }),
    }),
  ),
  TableClass: string({ enum: ['STANDARD', 'STANDARD_INFREQUENT_ACCESS'] }),
  DeletionProtectionEnabled: boolean(),
  OnDemandThroughput: onDemandThroughput,
});
const updateContinuousBackups = ddbStructure('UpdateContinuousBackupsInput', {
  TableName: required(tableName),
  PointInTimeRecoverySpecification: required(
    ddbStructure('PointInTimeRecoverySpecification', {
      PointInTimeRecoveryEnabled: required(boolean()),
      RecoveryPeriodInDays: integer({ min: 1, max: 35 }),
    }),
  ),
});
const describeContinuousBackups = ddbStructure('DescribeContinuousBackupsInput', { TableName: required(tableName) });

const getItem = ddbStructure('GetItemInput', {
  TableName: required(tableName),
  Key: required(key),
  AttributesToGet: attributesToGet,
  ConsistentRead: boolean(),
  ReturnConsumedCapacity: returnConsumedCapacity,
  ProjectionExpression: expression,
  ExpressionAttributeNames: expressionAttributeNames,
});
const putItem = ddbStructure('PutItemInput', {
  TableName: required(tableName),
  Item: required(attributeMap),
  Expected: expected,
  ReturnValues: returnValue,
  ReturnConsumedCapacity: returnConsumedCapacity,
  ReturnItemCollectionMetrics: returnItemCollectionMetrics,
  ConditionalOperator: conditionalOperator,
  ConditionExpression: expression,
  ExpressionAttributeNames: expressionAttributeNames,
  ExpressionAttributeValues: expressionAttributeValues,
  ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
});
const updateItem = ddbStructure('UpdateItemInput', {
  TableName: required(tableName),
  Key: required(key),
  AttributeUpdates: map(attributeName, attributeValueUpdate),
  Expected: expected,
  ConditionalOperator: conditionalOperator,
  ReturnValues: returnValue,
  ReturnConsumedCapacity: returnConsumedCapacity,
  ReturnItemCollectionMetrics: returnItemCollectionMetrics,
  UpdateExpression: expression,
  ConditionExpression: expression,
  ExpressionAttributeNames: expressionAttributeNames,
  ExpressionAttributeValues: expressionAttributeValues,
  ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
});
const deleteItem = ddbStructure('DeleteItemInput', {
  TableName: required(tableName),
  Key: required(key),
  Expected: expected,
  ConditionalOperator: conditionalOperator,
  ReturnValues: returnValue,
  ReturnConsumedCapacity: returnConsumedCapacity,
  ReturnItemCollectionMetrics: returnItemCollectionMetrics,
  ConditionExpression: expression,
  ExpressionAttributeNames: expressionAttributeNames,
  ExpressionAttributeValues: expressionAttributeValues,
  ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
});
const scan = ddbStructure('ScanInput', {
  TableName: required(tableName),
  IndexName: indexName,
  AttributesToGet: attributesToGet,
  Limit: positiveInteger,
  Select: select,
  ScanFilter: filterConditions,
  ConditionalOperator: conditionalOperator,
  ExclusiveStartKey: key,
  ReturnConsumedCapacity: returnConsumedCapacity,
  TotalSegments: integer({ min: 1, max: 1000000 }),
  Segment: integer({ min: 0, max: 999999 }),
  ProjectionExpression: expression,
  FilterExpression: expression,
  ExpressionAttributeNames: expressionAttributeNames,
  ExpressionAttributeValues: expressionAttributeValues,
  ConsistentRead: boolean(),
});
const query = ddbStructure('QueryInput', {
  TableName: required(tableName),
  IndexName: indexName,
  Select: select,
  AttributesToGet: attributesToGet,
  Limit: positiveInteger,
  ConsistentRead: boolean(),
  KeyConditions: filterConditions,
  QueryFilter: filterConditions,
  ConditionalOperator: conditionalOperator,
  ScanIndexForward: boolean(),
  ExclusiveStartKey: key,
  ReturnConsumedCapacity: returnConsumedCapacity,
  ProjectionExpression: expression,
  FilterExpression: expression,
  KeyConditionExpression: expression,
  ExpressionAttributeNames: expressionAttributeNames,
  ExpressionAttributeValues: expressionAttributeValues,
});
const batchGetItem = ddbStructure('BatchGetItemInput', {
  RequestItems: required(
    map(
      tableName,
      ddbStructure('KeysAndAttributes', {
        Keys: required(list(key, { min: 1, max: 100 })),
        AttributesToGet: attributesToGet,
        ConsistentRead: boolean(),
        ProjectionExpression: expression,
        ExpressionAttributeNames: expressionAttributeNames,
      }),
      { min: 1, max: 100 },
    ),
  ),
  ReturnConsumedCapacity: returnConsumedCapacity,
});
const writeRequest = ddbStructure('WriteRequest', {
  PutRequest: ddbStructure('PutRequest', { Item: required(attributeMap) }),
  DeleteRequest: ddbStructure('DeleteRequest', { Key: required(key) }),
});
const batchWriteItem = ddbStructure('BatchWriteItemInput', {
  RequestItems: required(map(tableName, list(writeRequest, { min: 1, max: 25 }), { min: 1, max: 25 })),
  ReturnConsumedCapacity: returnConsumedCapacity,
  ReturnItemCollectionMetrics: returnItemCollectionMetrics,
});
const tagResource = ddbStructure('TagResourceInput', {
  ResourceArn: required(arn),
  Tags: required(tagList),
});
const untagResource = ddbStructure('UntagResourceInput', {
  ResourceArn: required(arn),
  TagKeys: required(list(string({ min: 1, max: 128 }))),
});
const listTagsOfResource = ddbStructure('ListTagsOfResourceInput', {
  ResourceArn: required(arn),
  NextToken: string(),
});
const describeLimits = ddbStructure('DescribeLimitsInput', {});
const describeTimeToLive = ddbStructure('DescribeTimeToLiveInput', { TableName: required(tableName) });
const updateTimeToLive = ddbStructure('UpdateTimeToLiveInput', {
  TableName: required(tableName),
  TimeToLiveSpecification: required(
    ddbStructure('TimeToLiveSpecification', {
      Enabled: required(boolean()),
      AttributeName: required(keySchemaAttributeName),
    }),
  ),
});

/** Every DynamoDB operation served, with its input shape. */
export const dynamoDbShapes: ReadonlyMap<string, StructureShape> = new Map([
  ['CreateTable', createTable],
  ['DescribeTable', describeTable],
  ['DeleteTable', deleteTable],
  ['ListTables', listTables],
  ['UpdateTable', updateTable],
  ['UpdateContinuousBackups', updateContinuousBackups],
  ['DescribeContinuousBackups', describeContinuousBackups],
  ['GetItem', getItem],
  ['PutItem', putItem],
  ['UpdateItem', updateItem],
  ['DeleteItem', deleteItem],
  ['Scan', scan],
  ['Query', query],
  ['BatchGetItem', batchGetItem],
  ['BatchWriteItem', batchWriteItem],
  ['TagResource', tagResource],
  ['UntagResource', untagResource],
  ['ListTagsOfResource', listTagsOfResource],
  ['DescribeLimits', describeLimits],
  ['DescribeTimeToLive', describeTimeToLive],
  ['UpdateTimeToLive', updateTimeToLive],
]);
