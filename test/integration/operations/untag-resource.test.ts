import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateStreamCommand, ListTagsForStreamCommand, UntagResourceCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ACCOUNT, arnOf, expectError, lengthAtLeast, streamNotFound, validationMessage, violation } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('UntagResource', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer();
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'ur', ShardCount: 1, Tags: { a: '1', b: '2', c: '3' } }));
  });
  after(() => server.destroy());

  const untag = (ResourceARN: string, TagKeys: string[]) => client.send(new UntagResourceCommand({ ResourceARN, TagKeys }));

  it('removes tags by key from a stream named by its ARN; unknown keys are ignored', async () => {
    await untag(arnOf('ur'), ['a', 'zzz']);
    const r = await client.send(new ListTagsForStreamCommand({ StreamName: 'ur' }));
    assert.deepEqual(r.Tags, [
      { Key: 'b', Value: '2' },
      { Key: 'c', Value: '3' },
    ]);
  });

  it('refuses keys with characters AWS does not allow', async () => {
    await expectError(
      untag(arnOf('ur'), ['a\tb']),
      'InvalidArgumentException',
      'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.',
    );
    await expectError(
      untag(arnOf('ur'), ['a%b']),
      'InvalidArgumentException',
      `Failed to remove tags from stream ur under account ${ACCOUNT} because some tags contained illegal characters. ` +
        "The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.",
    );
  });

  it('refuses a resource that does not exist, and an empty key list', async () => {
    await expectError(untag(arnOf('ur-none'), ['a']), 'ResourceNotFoundException', streamNotFound('ur-none'));
    const consumer = `${arnOf('ur')}/consumer/none:1`;
    await expectError(untag(consumer, ['a']), 'ResourceNotFoundException', `Consumer ${consumer} not found.`);
    await expectError(untag(arnOf('ur'), []), 'ValidationException', validationMessage(violation('[]', 'tagKeys', lengthAtLeast(1))));
  });
});
