import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { fromItem, toItem, type Item, type Lease } from './lease.js';
import type { ExtendedSequenceNumber } from './sequence.js';
import { errorName, sleep } from './util.js';

export function isConditionalFailure(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}

/**
 * The lease table: every write that changes ownership or progress is conditional on the
 * leaseCounter read before (the fencing token) and, where an owner is involved, on leaseOwner.
 * Conditional writes that lose a race return false instead of throwing.
 */
export class LeaseTable {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** Creates the table (leaseKey HASH, PAY_PER_REQUEST) unless it exists; waits until it is usable. */
  async ensureTable(create: boolean, timeoutMs = 60_000): Promise<void> {
    let status = await this.tableStatus();
    if (status === undefined) {
      if (!create) throw new Error(`lease table ${this.tableName} does not exist`);
      try {
        await this.client.send(
          new CreateTableCommand({
            TableName: this.tableName,
            KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      } catch (err) {
        if (errorName(err) !== 'ResourceInUseException') throw err;
      }
      status = await this.tableStatus();
    }
    const deadline = Date.now() + timeoutMs;
    while (status !== 'ACTIVE' && status !== 'UPDATING') {
      if (Date.now() > deadline) throw new Error(`lease table ${this.tableName} did not become ACTIVE (status ${status})`);
      await sleep(100);
      status = await this.tableStatus();
    }
  }

  async tableStatus(): Promise<string | undefined> {
    try {
      const r = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      return r.Table?.TableStatus ?? 'ACTIVE';
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  /** Every lease, read with a strongly consistent, paged Scan. */
  async listLeases(): Promise<Lease[]> {
    const leases: Lease[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await this.client.send(
        new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of r.Items ?? []) {
        const lease = fromItem(item);
        if (lease) leases.push(lease);
      }
      start = r.LastEvaluatedKey && Object.keys(r.LastEvaluatedKey).length ? r.LastEvaluatedKey : undefined;
    } while (start);
    return leases;
  }

  async getLease(leaseKey: string): Promise<Lease | undefined> {
    const r = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }),
    );
    return r.Item ? fromItem(r.Item) : undefined;
  }

  /** PutItem with attribute_not_exists(leaseKey); false when the lease already existed. */
  async createLeaseIfNotExists(lease: Lease): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(lease),
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      throw err;
    }
  }

  /** A conditional UpdateItem; false when the condition failed. */
  private async update(
    leaseKey: string,
    updateExpression: string,
    conditionExpression: string,
    names: Record<string, string>,
    values: Item,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          UpdateExpression: updateExpression,
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      throw err;
    }
  }

  /** Bumps leaseCounter of a lease this worker holds; the new lease, or undefined when it was lost. */
  async renewLease(lease: Lease): Promise<Lease | undefined> {
    const ok = await this.update(
      lease.leaseKey,
      'SET leaseCounter = :next',
      'leaseCounter = :counter AND leaseOwner = :owner',
      {},
      { ':next': { N: String(lease.leaseCounter + 1) }, ':counter': { N: String(lease.leaseCounter) }, ':owner': { S: lease.leaseOwner ?? '' } },
    );
    return ok ? { ...lease, leaseCounter: lease.leaseCounter + 1 } : undefined;
  }

  /**
   * Takes a lease (unowned, expired or stolen) as read: conditional on its leaseCounter and
   * owner; counts an owner switch when the owner changes.
   */
  async takeLease(lease: Lease, newOwner: string): Promise<Lease | undefined> {
    const switches = lease.ownerSwitchesSinceCheckpoint + (lease.leaseOwner === newOwner ? 0 : 1);
    const values: Item = {
      ':next': { N: String(lease.leaseCounter + 1) },
      ':counter': { N: String(lease.leaseCounter) },
      ':me': { S: newOwner },
      ':switches': { N: String(switches) },
    };
    let condition = 'leaseCounter = :counter AND ';
    if (lease.leaseOwner === undefined) condition += 'attribute_not_exists(leaseOwner)';
    else {
      condition += 'leaseOwner = :old';
      values[':old'] = { S: lease.leaseOwner };
    }
    const ok = await this.update(
      lease.leaseKey,
      'SET leaseOwner = :me, leaseCounter = :next, ownerSwitchesSinceCheckpoint = :switches',
      condition,
      {},
      values,
    );
    return ok ? { ...lease, leaseOwner: newOwner, leaseCounter: lease.leaseCounter + 1, ownerSwitchesSinceCheckpoint: switches } : undefined;
  }

  /** Gives a held lease up: removes leaseOwner and bumps the counter, so any worker may take it at once. */
  async evictLease(lease: Lease): Promise<boolean> {
    return this.update(
      lease.leaseKey,
      'SET leaseCounter = :next REMOVE leaseOwner',
      'leaseCounter = :counter AND leaseOwner = :owner',
      {},
      { ':next': { N: String(lease.leaseCounter + 1) }, ':counter': { N: String(lease.leaseCounter) }, ':owner': { S: lease.leaseOwner ?? '' } },
    );
  }

  /** Writes a checkpoint, fenced by leaseCounter and leaseOwner; clears any prepared checkpoint. */
  async checkpoint(lease: Lease, value: ExtendedSequenceNumber): Promise<Lease | undefined> {
    const ok = await this.update(
      lease.leaseKey,
      'SET #cp = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero, leaseCounter = :next ' +
        'REMOVE pendingCheckpoint, pendingCheckpointSubSequenceNumber, pendingCheckpointState',
      'leaseCounter = :counter AND leaseOwner = :owner',
      { '#cp': 'checkpoint' },
      {
        ':cp': { S: value.sequenceNumber },
        ':sub': { N: String(value.subSequenceNumber) },
        ':zero': { N: '0' },
        ':next': { N: String(lease.leaseCounter + 1) },
        ':counter': { N: String(lease.leaseCounter) },
        ':owner': { S: lease.leaseOwner ?? '' },
      },
    );
    if (!ok) return undefined;
    const next: Lease = { ...lease, checkpoint: value, ownerSwitchesSinceCheckpoint: 0, leaseCounter: lease.leaseCounter + 1 };
    delete next.pendingCheckpoint;
    return next;
  }

  /** Records the children of an ended shard (no fencing: only meta information). */
  async updateChildShards(leaseKey: string, childShardIds: string[]): Promise<boolean> {
    if (!childShardIds.length) return true;
    return this.update(leaseKey, 'SET childShardIds = :children', 'attribute_exists(leaseKey)', {}, {
      ':children': { SS: [...new Set(childShardIds)] },
    });
  }

  async deleteLease(leaseKey: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { leaseKey: { S: leaseKey } } }));
  }

  /** Deletes the lease of a completed shard (only while its checkpoint is SHARD_END); false if it was not. */
  async deleteCompletedLease(leaseKey: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          ConditionExpression: '#cp = :end',
          ExpressionAttributeNames: { '#cp': 'checkpoint' },
          ExpressionAttributeValues: { ':end': { S: 'SHARD_END' } },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      throw err;
    }
  }
}
