import { defineOperation } from './operation.js';

export const describeLimits = defineOperation<Record<string, never>, unknown>('DescribeLimits', async (k) => {
  await k.list();
  return {
    ShardLimit: k.settings.shardLimit,
    OpenShardCount: k.openShardCount(),
    OnDemandStreamCount: k.onDemandStreamCount(),
    OnDemandStreamCountLimit: k.settings.onDemandStreamLimit,
  };
});
