import { notFoundByArn, tableNameOfArn } from '../arns.js';
import { defineOperation } from './operation.js';

export const untagResource = defineOperation<{ ResourceArn: string; TagKeys: string[] }, unknown>('UntagResource', async (d, input) => {
  const name = tableNameOfArn(d.settings, input.ResourceArn);
  await d.table(name).catch(() => Promise.reject(notFoundByArn(input.ResourceArn)));
  const drop = new Set(input.TagKeys);
  await d.updateTable(name, (t) => ({ ...t, tags: t.tags.filter((x) => !drop.has(x.Key)) }));
  return undefined;
});
