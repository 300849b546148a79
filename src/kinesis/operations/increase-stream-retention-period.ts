import { changeRetention, type RetentionInput } from '../retention.js';
import { defineOperation } from './operation.js';

export const increaseStreamRetentionPeriod = defineOperation<RetentionInput, void>(
  'IncreaseStreamRetentionPeriod',
  async (k, input) => {
    await changeRetention(k, input, 'increase');
    return undefined;
  },
);
