import { streamResource } from '../resources.js';
import type { StreamRef } from './context.js';
import { removeTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  TagKeys: string[];
}

export const removeTagsFromStream = defineOperation<Input, void>('RemoveTagsFromStream', async (k, input) => {
  await removeTags(k, streamResource(await k.resolve(input)), input.TagKeys);
  return undefined;
});
