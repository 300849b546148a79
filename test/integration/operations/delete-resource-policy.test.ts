import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { arnOf, expectError, streamNotFound } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kinesis:DescribeStreamSummary', Resource: arnOf('drp') }],
});

describe('DeleteResourcePolicy', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer();
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'drp', ShardCount: 1 }));
  });
  after(() => server.destroy());

  const del = (ResourceARN: string) => client.send(new DeleteResourcePolicyCommand({ ResourceARN }));

  it('removes the policy; the stream then answers with an empty one', async () => {
    await client.send(new PutResourcePolicyCommand({ ResourceARN: arnOf('drp'), Policy: POLICY }));
    await del(arnOf('drp'));
    assert.equal((await client.send(new GetResourcePolicyCommand({ ResourceARN: arnOf('drp') }))).Policy, '{}');
  });

  it('refuses a stream without a policy, and a resource that does not exist', async () => {
    await expectError(del(arnOf('drp')), 'ResourceNotFoundException', `No resource policy found for resource ${arnOf('drp')}.`);
    await expectError(del(arnOf('drp-none')), 'ResourceNotFoundException', streamNotFound('drp-none'));
  });
});
