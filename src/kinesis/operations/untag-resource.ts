import { resolveTaggable } from './taggable.js';
import { removeTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
  TagKeys: string[];
}

export const untagResource = defineOperation<Input, void>('UntagResource', async (k, input) => {
  await removeTags(k, await resolveTaggable(k, input.ResourceARN), input.TagKeys);
  return undefined;
});
