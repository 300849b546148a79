import { checkPolicyDocument } from '../resource-policy.js';
import { resolveTaggable } from './taggable.js';
import { defineOperation } from './operation.js';

interface Input {
  ResourceARN: string;
  Policy: string;
}

export const putResourcePolicy = defineOperation<Input, void>('PutResourcePolicy', async (k, input) => {
  const resource = await resolveTaggable(k, input.ResourceARN);
  resource.checkChangeable(k);
  checkPolicyDocument(input.Policy);
  await resource.change(k, (current) => ({ ...current, policy: input.Policy }));
  return undefined;
});
