import { resolveTaggable } from './taggable.js';
import { sortedTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
}

export const listTagsForResource = defineOperation<Input, unknown>('ListTagsForResource', async (k, input) => {
  const resource = await resolveTaggable(k, input.ResourceARN);
  return { Tags: sortedTags(resource.tags()) };
});
