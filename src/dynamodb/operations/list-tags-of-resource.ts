import { notFoundByArn, tableNameOfArn } from '../arns.js';
import { defineOperation } from './operation.js';

export const listTagsOfResource = defineOperation<{ ResourceArn: string; NextToken?: string }, unknown>(
  'ListTagsOfResource',
  async (d, input) => {
    const name = tableNameOfArn(d.settings, input.ResourceArn);
    const t = await d.table(name).catch(() => Promise.reject(notFoundByArn(input.ResourceArn)));
    return { Tags: t.tags };
  },
);
