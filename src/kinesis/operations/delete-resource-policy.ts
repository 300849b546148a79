import { ResourceNotFoundException } from '../../protocol/errors.js';
import { resolveTaggable } from './taggable.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
}

export const deleteResourcePolicy = defineOperation<Input, void>('DeleteResourcePolicy', async (k, input) => {
  const resource = await resolveTaggable(k, input.ResourceARN);
  resource.checkChangeable(k);
  await resource.change(k, (current) => {
    if (current.policy === undefined) {
      throw new ResourceNotFoundException(`No resource policy found for resource ${input.ResourceARN}.`);
    }
    return { ...current, policy: undefined };
  });
  return undefined;
});
