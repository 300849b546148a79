import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { arnOf, expectError, streamNotFound } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: { Effect: 'Allow', Principal: { AWS: ['111122223333'] }, Action: 'kinesis:*', Resource: '*' },
});

describe('GetResourcePolicy', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer();
    client = server.client();
  });
  after(() => server.destroy());

  const get = async (ResourceARN: string) => (await client.send(new GetResourcePolicyCommand({ ResourceARN }))).Policy;

  it('answers an empty policy document for a stream without a policy', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'grp', ShardCount: 1 }));
    assert.equal(await get(arnOf('grp')), '{}');
  });

  it('returns the stored policy, which goes away with the stream', async () => {
    await client.send(new PutResourcePolicyCommand({ ResourceARN: arnOf('grp'), Policy: POLICY }));
    assert.equal(await get(arnOf('grp')), POLICY);
    await client.send(new DeleteStreamCommand({ StreamName: 'grp' }));
    await expectError(get(arnOf('grp')), 'ResourceNotFoundException', streamNotFound('grp'));
    await client.send(new CreateStreamCommand({ StreamName: 'grp', ShardCount: 1 }));
    assert.equal(await get(arnOf('grp')), '{}', 'a stream created again under the name starts without one');
  });

  it('refuses a resource that does not exist', async () => {
    await expectError(get(arnOf('grp-none')), 'ResourceNotFoundException', streamNotFound('grp-none'));
    const consumer = `${arnOf('grp')}/consumer/c:1`;
    await expectError(get(consumer), 'ResourceNotFoundException', `Consumer ${consumer} not found.`);
  });
});
