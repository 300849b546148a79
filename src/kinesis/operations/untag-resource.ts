import { resolveResource } from '../resources.js';
import { removeTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
  TagKeys: string[];
}

export const untagResource = defineOperation<Input, void>('UntagResource', async (k, input) => {
  await removeTags(k, await resolveResource(k, input.ResourceARN), input.TagKeys);
  return undefined;
});
