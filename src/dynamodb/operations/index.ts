import { operationTable, type OperationTable } from '../../protocol/operation.js';
import type { DynamoDb } from '../service.js';
import { batchGetItem } from './batch-get-item.js';
import { batchWriteItem } from './batch-write-item.js';
import { createTable } from './create-table.js';
import { deleteItem } from './delete-item.js';
import { deleteTable } from './delete-table.js';
import { describeContinuousBackups } from './describe-continuous-backups.js';
import { describeLimits } from './describe-limits.js';
import { describeTable } from './describe-table.js';
import { describeTimeToLive } from './describe-time-to-live.js';
import { getItem } from './get-item.js';
import { listTables } from './list-tables.js';
import { listTagsOfResource } from './list-tags-of-resource.js';
import { putItem } from './put-item.js';
import { query } from './query.js';
import { scan } from './scan.js';
import { tagResource } from './tag-resource.js';
import { untagResource } from './untag-resource.js';
import { updateContinuousBackups } from './update-continuous-backups.js';
import { updateItem } from './update-item.js';
import { updateTable } from './update-table.js';
import { updateTimeToLive } from './update-time-to-live.js';

/** DynamoDB's `X-Amz-Target` prefix: `DynamoDB_20120810.<Operation>`. */
export const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810';
/** DynamoDB speaks JSON 1.0. */
export const DYNAMODB_JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';

/** Every DynamoDB operation served, by name. */
export const dynamoDbOperations: OperationTable<DynamoDb> = operationTable<DynamoDb>([
    createTable,
    describeTable,
    deleteTable,
    listTables,
    updateTable,
    updateContinuousBackups,
    describeContinuousBackups,
    describeTimeToLive,
    updateTimeToLive,
    describeLimits,
    getItem,
    putItem,
    updateItem,
    deleteItem,
    scan,
    query,
    batchGetItem,
    batchWriteItem,
    tagResource,
    untagResource,
    listTagsOfResource,
]);
