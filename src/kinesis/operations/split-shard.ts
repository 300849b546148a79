import { splitShard as split, type SplitShardInput } from '../resharding.js';
import { defineOperation } from './operation.js';

export const splitShard = defineOperation<SplitShardInput, void>('SplitShard', async (k, input) => {
  await split(k, input);
  return undefined;
});
