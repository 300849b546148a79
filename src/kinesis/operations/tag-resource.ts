import { resolveTaggable } from './taggable.js';
import { addTags } from '../tags.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
  Tags: Record<string, string>;
}

export const tagResource = defineOperation<Input, void>('TagResource', async (k, input) => {
  await addTags(k, await resolveTaggable(k, input.ResourceARN), input.Tags);
  return undefined;
});
