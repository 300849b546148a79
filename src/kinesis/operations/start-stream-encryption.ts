import { startEncryption } from '../encryption.js';
import type { StreamRef } from './context.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  EncryptionType: string;
  KeyId: string;
}

export const startStreamEncryption = defineOperation<Input, void>('StartStreamEncryption', async (k, input) => {
  await startEncryption(k, await k.resolve(input), input.EncryptionType, input.KeyId);
  return undefined;
});
