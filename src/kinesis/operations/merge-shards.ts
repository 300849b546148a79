import { mergeShards as merge, type MergeShardsInput } from '../resharding.js';
import { defineOperation } from './operation.js';

export const mergeShards = defineOperation<MergeShardsInput, void>('MergeShards', async (k, input) => {
  await merge(k, input);
  return undefined;
});
