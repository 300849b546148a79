import { defineOperation } from './operation.js';

export function continuousBackupsDescription(enabled: boolean | undefined) {
  return {
    ContinuousBackupsStatus: 'ENABLED',
    PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: enabled ? 'ENABLED' : 'DISABLED' },
  };
}

export const describeContinuousBackups = defineOperation<{ TableName: string }, unknown>('DescribeContinuousBackups', async (d, input) => {
  const t = await d.table(input.TableName, `Table not found: ${input.TableName}`);
  return { ContinuousBackupsDescription: continuousBackupsDescription(t.pointInTimeRecovery) };
});
