import { defineOperation } from './operation.js';

/** DynamoDB's default account and table capacity quotas. */
export const describeLimits = defineOperation<Record<string, never>, unknown>('DescribeLimits', async () => ({
  AccountMaxReadCapacityUnits: 80000,
  AccountMaxWriteCapacityUnits: 80000,
  TableMaxReadCapacityUnits: 40000,
  TableMaxWriteCapacityUnits: 40000,
}));
