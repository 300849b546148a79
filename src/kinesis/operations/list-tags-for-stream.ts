import type { StreamRef } from './context.js';
import { MAX_TAGS, sortedTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  ExclusiveStartTagKey?: string;
  Limit?: number;
}

export const listTagsForStream = defineOperation<Input, unknown>('ListTagsForStream', async (k, input) => {
  const stream = await k.resolve(input);
  const after = input.ExclusiveStartTagKey;
  const tags = sortedTags(stream.meta.tags).filter((t) => after === undefined || t.Key > after);
  const page = tags.slice(0, input.Limit ?? MAX_TAGS);
  return { Tags: page, HasMoreTags: tags.length > page.length };
});
