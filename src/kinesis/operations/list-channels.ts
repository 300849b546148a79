import { defineOperation } from './operation.js';

export const listChannels = defineOperation<Record<string, any>, unknown>('ListChannels', (k, input) => k.channels.list(input));
