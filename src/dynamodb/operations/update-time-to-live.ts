import { ValidationException } from '../../protocol/errors.js';
import { defineOperation } from './operation.js';

/** TTL is recorded and described; items are not expired by it. */
export const updateTimeToLive = defineOperation<
  { TableName: string; TimeToLiveSpecification: { Enabled: boolean; AttributeName: string } },
  unknown
>('UpdateTimeToLive', async (d, input) => {
  const spec = input.TimeToLiveSpecification;
  await d.updateTable(input.TableName, (t) => {
    if (spec.Enabled && t.timeToLiveAttribute !== undefined) throw new ValidationException('TimeToLive is already enabled');
    if (!spec.Enabled && t.timeToLiveAttribute === undefined) throw new ValidationException('TimeToLive is already disabled');
    const next = { ...t };
    if (spec.Enabled) next.timeToLiveAttribute = spec.AttributeName;
    else delete next.timeToLiveAttribute;
    return next;
  });
  return { TimeToLiveSpecification: spec };
});
