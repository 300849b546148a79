import { defineOperation } from './operation.js';

interface Input {
  ExclusiveStartTableName?: string;
  Limit?: number;
}

export const listTables = defineOperation<Input, unknown>('ListTables', async (d, input) => {
  const limit = input.Limit ?? 100;
  const after = input.ExclusiveStartTableName;
  const names = (await d.store.listTables()).map((t) => t.name).filter((n) => after === undefined || n > after);
  const page = names.slice(0, limit);
  return {
    TableNames: page,
    LastEvaluatedTableName: names.length > page.length ? page[page.length - 1] : undefined,
  };
});
