import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateStreamCommand, ListTagsForResourceCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { arnOf, expectError, streamNotFound, validationMessage, violation, NOT_NULL } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('ListTagsForResource', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer();
    client = server.client();
  });
  after(() => server.destroy());

  const list = (ResourceARN: string) => client.send(new ListTagsForResourceCommand({ ResourceARN }));

  it('lists all of a stream’s tags in key order, without paging', async () => {
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key-${String(49 - i).padStart(2, '0')}`, `${i}`]));
    await client.send(new CreateStreamCommand({ StreamName: 'ltfr', ShardCount: 1, Tags: tags }));
    const r = await list(arnOf('ltfr'));
    assert.equal(r.Tags!.length, 50);
    assert.deepEqual(r.Tags!.map((t) => t.Key), Object.keys(tags).sort());
    assert.equal(r.Tags![0]!.Value, '49');
  });

  it('answers an untagged stream with an empty list', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'ltfr-none', ShardCount: 1 }));
    assert.deepEqual((await list(arnOf('ltfr-none'))).Tags, []);
  });

  it('refuses a resource that does not exist', async () => {
    await expectError(list(arnOf('ltfr-gone')), 'ResourceNotFoundException', streamNotFound('ltfr-gone'));
    const consumer = `${arnOf('ltfr')}/consumer/c:1700000000`;
    await expectError(list(consumer), 'ResourceNotFoundException', `Consumer ${consumer} not found.`);
    await expectError(
      client.send(new ListTagsForResourceCommand({ ResourceARN: undefined })),
      'ValidationException',
      validationMessage(violation(null, 'resourceARN', NOT_NULL)),
    );
  });
});
