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
import type { Operation } from './operation.js';
import { putItem } from './put-item.js';
import { query } from './query.js';
import { scan } from './scan.js';
import { tagResource } from './tag-resource.js';
import { untagResource } from './untag-resource.js';
import { updateContinuousBackups } from './update-continuous-backups.js';
import { updateItem } from './update-item.js';
import { updateTable } from './update-table.js';
import { updateTimeToLive } from './update-time-to-live.js';

/** Every DynamoDB operation served, by name. */
export const dynamoDbOperations: ReadonlyMap<string, Operation> = new Map(
  [
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
  ].map((op) => [op.name, op] as const),
);
