import type { Config } from '../model.js';
import { defineOperation } from './operation.js';

interface Input {
  DeliveryStreamName: string;
  DeliveryStreamEncryptionConfigurationInput?: Config;
}

export const startDeliveryStreamEncryption = defineOperation<Input, unknown>('StartDeliveryStreamEncryption', async (f, input) => {
  await f.setEncryption(input.DeliveryStreamName, true, input.DeliveryStreamEncryptionConfigurationInput);
  return {};
});

export const stopDeliveryStreamEncryption = defineOperation<Input, unknown>('StopDeliveryStreamEncryption', async (f, input) => {
  await f.setEncryption(input.DeliveryStreamName, false, undefined);
  return {};
});
