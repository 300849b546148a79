import { commitmentOutput, updateCommitment } from '../account-settings.js';
import { defineOperation } from './operation.js';

interface Input {
  MinimumThroughputBillingCommitment: { Status: 'ENABLED' | 'DISABLED' };
}

export const updateAccountSettings = defineOperation<Input, unknown>('UpdateAccountSettings', async (k, input) =>
  commitmentOutput(await updateCommitment(k, input.MinimumThroughputBillingCommitment.Status)),
);
