import { commitmentOutput, currentCommitment } from '../account-settings.js';
import { defineOperation } from './operation.js';

export const describeAccountSettings = defineOperation<Record<string, never>, unknown>('DescribeAccountSettings', async (k) =>
  commitmentOutput(await currentCommitment(k)),
);
