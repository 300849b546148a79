import { resolveTaggable } from './taggable.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
}

/** A resource without a policy answers with an empty policy document, as AWS does. */
export const getResourcePolicy = defineOperation<Input, unknown>('GetResourcePolicy', async (k, input) => {
  const resource = await resolveTaggable(k, input.ResourceARN);
  return { Policy: resource.policy() ?? '{}' };
});
