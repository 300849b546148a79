import { defineOperation } from './operation.js';

export const describeTimeToLive = defineOperation<{ TableName: string }, unknown>('DescribeTimeToLive', async (d, input) => {
  const t = await d.table(input.TableName, `Requested resource not found: Table: ${input.TableName} not found`);
  return {
    TimeToLiveDescription: t.timeToLiveAttribute
      ? { TimeToLiveStatus: 'ENABLED', AttributeName: t.timeToLiveAttribute }
      : { TimeToLiveStatus: 'DISABLED' },
  };
});
