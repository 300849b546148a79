import { changeMonitoring } from '../monitoring.js';
import type { StreamRef } from './context.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  ShardLevelMetrics: string[];
}

export const disableEnhancedMonitoring = defineOperation<Input, unknown>('DisableEnhancedMonitoring', async (k, input) =>
  changeMonitoring(k, await k.resolve(input), input.ShardLevelMetrics, false),
);
