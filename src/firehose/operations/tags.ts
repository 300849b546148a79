import type { Tag } from '../model.js';
import { defineOperation } from './operation.js';

export const tagDeliveryStream = defineOperation<{ DeliveryStreamName: string; Tags: Tag[] }, unknown>('TagDeliveryStream', async (f, input) => {
  await f.tag(input.DeliveryStreamName, input.Tags);
  return {};
});

export const untagDeliveryStream = defineOperation<{ DeliveryStreamName: string; TagKeys: string[] }, unknown>(
  'UntagDeliveryStream',
  async (f, input) => {
    await f.untag(input.DeliveryStreamName, input.TagKeys);
    return {};
  },
);

interface ListInput {
  DeliveryStreamName: string;
  ExclusiveStartTagKey?: string;
  Limit?: number;
}

export const listTagsForDeliveryStream = defineOperation<ListInput, unknown>('ListTagsForDeliveryStream', async (f, input) => {
  const { tags, more } = await f.listTags(input.DeliveryStreamName, input.ExclusiveStartTagKey, input.Limit ?? 50);
  return { Tags: tags, HasMoreTags: more };
});
