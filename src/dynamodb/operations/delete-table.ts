import { ValidationException } from '../../protocol/errors.js';
import { defineOperation } from './operation.js';

export const deleteTable = defineOperation<{ TableName: string }, unknown>('DeleteTable', async (d, input) => {
  const t = await d.table(input.TableName, `Requested resource not found: Table: ${input.TableName} not found`);
  if (t.deletionProtection) {
    throw new ValidationException('Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.');
  }
  const description = await d.describe(t, 'DELETING');
  await d.dropTable(t);
  return { TableDescription: description };
});
