import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  ListTagsForResourceCommand,
  PutResourcePolicyCommand,
  RegisterStreamConsumerCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { arnOf } from '../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('tags and resource policies of consumers', () => {
  let server: TestServer;
  let client: KinesisClient;
  let consumerArn: string;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0 });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'cr', ShardCount: 1 }));
    const r = await client.send(
      new RegisterStreamConsumerCommand({ StreamARN: arnOf('cr'), ConsumerName: 'app', Tags: { team: 'data' } }),
    );
    consumerArn = r.Consumer!.ConsumerARN!;
  });
  after(() => server.destroy());

  it('tags a consumer by its ARN, apart from its stream', async () => {
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceARN: consumerArn }))).Tags, [
      { Key: 'team', Value: 'data' },
    ]);
    await client.send(new TagResourceCommand({ ResourceARN: consumerArn, Tags: { tier: 'gold' } }));
    await client.send(new UntagResourceCommand({ ResourceARN: consumerArn, TagKeys: ['team'] }));
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceARN: consumerArn }))).Tags, [
      { Key: 'tier', Value: 'gold' },
    ]);
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceARN: arnOf('cr') }))).Tags, []);
  });

  it('keeps a resource policy on a consumer, apart from its stream', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::000000000000:root' },
          Action: 'kinesis:SubscribeToShard',
          Resource: consumerArn,
        },
      ],
    });
    await client.send(new PutResourcePolicyCommand({ ResourceARN: consumerArn, Policy: policy }));
    assert.equal((await client.send(new GetResourcePolicyCommand({ ResourceARN: consumerArn }))).Policy, policy);
    assert.equal((await client.send(new GetResourcePolicyCommand({ ResourceARN: arnOf('cr') }))).Policy, '{}');
    await client.send(new DeleteResourcePolicyCommand({ ResourceARN: consumerArn }));
    assert.equal((await client.send(new GetResourcePolicyCommand({ ResourceARN: consumerArn }))).Policy, '{}');
  });
});
