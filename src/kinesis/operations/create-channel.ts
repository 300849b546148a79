import { defineOperation } from './operation.js';

export const createChannel = defineOperation<Record<string, any>, unknown>('CreateChannel', (k, input) => k.channels.create(input));
