import { CHANNEL_LIMIT } from '../channels.js';
import { defineOperation } from './operation.js';

export const describeLimits = defineOperation<Record<string, never>, unknown>('DescribeLimits', async (k) => {
  await k.list();
  return {
    ShardLimit: k.settings.shardLimit,
    OpenShardCount: k.openShardCount(),
    OnDemandStreamCount: k.onDemandStreamCount(),
    OnDemandStreamCountLimit: k.settings.onDemandStreamLimit,
    ChannelCount: await k.channels.count(),
    ChannelCountLimit: CHANNEL_LIMIT,
  };
});
