import { ValidationException } from '../../protocol/errors.js';
import { notFoundByArn, tableNameOfArn } from '../arns.js';
import type { Tag } from '../tables.js';
import { defineOperation } from './operation.js';

/** DynamoDB allows 50 tags per resource. */
const MAX_TAGS = 50;

export const tagResource = defineOperation<{ ResourceArn: string; Tags: Tag[] }, unknown>('TagResource', async (d, input) => {
  const name = tableNameOfArn(d.settings, input.ResourceArn);
  await d.table(name).catch(() => Promise.reject(notFoundByArn(input.ResourceArn)));
  await d.updateTable(name, (t) => {
    const tags = new Map(t.tags.map((x) => [x.Key, x.Value]));
    for (const x of input.Tags) tags.set(x.Key, x.Value);
    if (tags.size > MAX_TAGS) throw new ValidationException('One or more parameter values were invalid: Too many tags');
    return { ...t, tags: [...tags].map(([Key, Value]) => ({ Key, Value })) };
  });
  return undefined;
});
