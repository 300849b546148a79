import { changeRetention, type RetentionInput } from '../retention.js';
import { defineOperation } from './operation.js';

export const decreaseStreamRetentionPeriod = defineOperation<RetentionInput, void>(
  'DecreaseStreamRetentionPeriod',
  async (k, input) => {
    await changeRetention(k, input, 'decrease');
    return undefined;
  },
);
