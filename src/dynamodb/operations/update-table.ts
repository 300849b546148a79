import { ValidationException } from '../../protocol/errors.js';
import type { AttributeDefinition, IndexMeta } from '../tables.js';
import { checkIndex } from './create-table.js';
import { defineOperation } from './operation.js';

interface Input {
  AttributeDefinitions?: AttributeDefinition[];
  TableName: string;
  BillingMode?: 'PROVISIONED' | 'PAY_PER_REQUEST';
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  GlobalSecondaryIndexUpdates?: {
    Create?: IndexMeta;
    Update?: { IndexName: string; ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number } };
    Delete?: { IndexName: string };
  }[];
  TableClass?: string;
  DeletionProtectionEnabled?: boolean;
}

const INVALID = 'One or more parameter values were invalid: ';

export const updateTable = defineOperation<Input, unknown>('UpdateTable', async (d, input) => {
  const updated = await d.updateTable(input.TableName, (current) => {
    const t = structuredClone(current);
    if (input.BillingMode !== undefined && input.BillingMode !== t.billingMode) {
      t.billingMode = input.BillingMode;
      if (input.BillingMode === 'PAY_PER_REQUEST') {
        t.payPerRequestSince = d.clock.now();
        delete t.readCapacity;
        delete t.writeCapacity;
      }
    }
    if (input.ProvisionedThroughput !== undefined) {
      if (t.billingMode !== 'PROVISIONED') {
        throw new ValidationException(`${INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST`);
      }
      t.readCapacity = input.ProvisionedThroughput.ReadCapacityUnits;
      t.writeCapacity = input.ProvisionedThroughput.WriteCapacityUnits;
    } else if (t.billingMode === 'PROVISIONED' && t.readCapacity === undefined) {
      throw new ValidationException(`${INVALID}ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED`);
    }
    for (const def of input.AttributeDefinitions ?? []) {
      const existing = t.attributeDefinitions.find((a) => a.AttributeName === def.AttributeName);
      if (existing && existing.AttributeType !== def.AttributeType) {
        throw new ValidationException(`${INVALID}Cannot change the type of attribute ${def.AttributeName}`);
      }
      if (!existing) t.attributeDefinitions.push({ AttributeName: def.AttributeName, AttributeType: def.AttributeType });
    }
    for (const u of input.GlobalSecondaryIndexUpdates ?? []) {
      if (u.Create) {
        if (t.globalSecondaryIndexes.some((i) => i.IndexName === u.Create!.IndexName)) {
          throw new ValidationException(`${INVALID}Attempting to create an index which already exists`);
        }
        t.globalSecondaryIndexes.push(checkIndex(u.Create, t.attributeDefinitions, t.billingMode, true));
      } else if (u.Delete) {
        const at = t.globalSecondaryIndexes.findIndex((i) => i.IndexName === u.Delete!.IndexName);
        if (at < 0) throw new ValidationException(`${INVALID}Requested resource not found: Index: ${u.Delete.IndexName}`);
        t.globalSecondaryIndexes.splice(at, 1);
      } else if (u.Update) {
        const index = t.globalSecondaryIndexes.find((i) => i.IndexName === u.Update!.IndexName);
        if (!index) throw new ValidationException(`${INVALID}Requested resource not found: Index: ${u.Update.IndexName}`);
        if (u.Update.ProvisionedThroughput) index.ProvisionedThroughput = u.Update.ProvisionedThroughput;
      }
    }
    if (input.TableClass !== undefined) t.tableClass = input.TableClass;
    if (input.DeletionProtectionEnabled !== undefined) t.deletionProtection = input.DeletionProtectionEnabled;
    return t;
  });
  return { TableDescription: await d.describe(updated) };
});
