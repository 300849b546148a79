import { streamResource } from '../resources.js';
import type { StreamRef } from './context.js';
import { addTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  Tags: Record<string, string>;
}

export const addTagsToStream = defineOperation<Input, void>('AddTagsToStream', async (k, input) => {
  await addTags(k, streamResource(await k.resolve(input)), input.Tags);
  return undefined;
});
