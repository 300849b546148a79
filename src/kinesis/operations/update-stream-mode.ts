import { updateStreamMode as update, type UpdateStreamModeInput } from '../stream-mode.js';
import { defineOperation } from './operation.js';

export const updateStreamMode = defineOperation<UpdateStreamModeInput, void>('UpdateStreamMode', async (k, input) => {
  await update(k, input);
  return undefined;
});
