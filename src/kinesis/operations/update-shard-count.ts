import {
  updateShardCount as update,
  type UpdateShardCountInput,
  type UpdateShardCountOutput,
} from '../resharding.js';
import { defineOperation } from './operation.js';

export const updateShardCount = defineOperation<UpdateShardCountInput, UpdateShardCountOutput>(
  'UpdateShardCount',
  (k, input) => update(k, input),
);
