import type { Config } from '../model.js';
import { defineOperation } from './operation.js';

export const createDeliveryStream = defineOperation<Config, unknown>('CreateDeliveryStream', async (f, input) => ({
  DeliveryStreamARN: await f.create(input),
}));
