import type { Config } from '../model.js';
import { defineOperation } from './operation.js';

export const updateDestination = defineOperation<Config, unknown>('UpdateDestination', async (f, input) => {
  await f.updateDestination(input);
  return {};
});
