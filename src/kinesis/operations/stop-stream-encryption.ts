import { stopEncryption } from '../encryption.js';
import type { StreamRef } from './context.js';
import { defineOperation } from './operation.js';

interface Input extends StreamRef {
  EncryptionType: string;
  KeyId: string;
}

export const stopStreamEncryption = defineOperation<Input, void>('StopStreamEncryption', async (k, input) => {
  await stopEncryption(k, await k.resolve(input), input.EncryptionType, input.KeyId);
  return undefined;
});
