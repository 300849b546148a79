import { changeMonitoring } from '../monitoring.js';
import type { StreamRef } from './context.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  ShardLevelMetrics: string[];
}

export const enableEnhancedMonitoring = defineOperation<Input, unknown>('EnableEnhancedMonitoring', async (k, input) =>
  changeMonitoring(k, await k.resolve(input), input.ShardLevelMetrics, true),
);
