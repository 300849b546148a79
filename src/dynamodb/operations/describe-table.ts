import { defineOperation } from './operation.js';

export const describeTable = defineOperation<{ TableName: string }, unknown>('DescribeTable', async (d, input) => {
  const t = await d.table(input.TableName, `Requested resource not found: Table: ${input.TableName} not found`);
  return { Table: await d.describe(t) };
});
