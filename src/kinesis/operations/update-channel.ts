import { defineOperation } from './operation.js';

export const updateChannel = defineOperation<Record<string, any>, unknown>('UpdateChannel', (k, input) => k.channels.update(input));
