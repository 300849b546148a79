import { continuousBackupsDescription } from './describe-continuous-backups.js';
import { defineOperation } from './operation.js';

/** Point-in-time recovery is recorded on the table; the store's own durability is what protects the data. */
export const updateContinuousBackups = defineOperation<
  { TableName: string; PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: boolean } },
  unknown
>('UpdateContinuousBackups', async (d, input) => {
  const t = await d.updateTable(input.TableName, (t) => ({
    ...t,
    pointInTimeRecovery: input.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled,
  }));
  return { ContinuousBackupsDescription: continuousBackupsDescription(t.pointInTimeRecovery) };
});
