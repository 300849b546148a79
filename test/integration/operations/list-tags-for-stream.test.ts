import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateStreamCommand, ListTagsForStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { arnOf, expectError, streamNotFound, validationMessage, violation } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('ListTagsForStream', () => {
  let server: TestServer;
  let client: KinesisClient;
  const tags = Object.fromEntries(['delta', 'Alpha', 'charlie', 'bravo', 'echo', 'Zulu', 'ä'].map((k, i) => [k, `v${i}`]));
  before(async () => {
    server = await startTestServer();
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'ltfs', ShardCount: 1, Tags: tags }));
    await client.send(new CreateStreamCommand({ StreamName: 'ltfs-none', ShardCount: 1 }));
  });
  after(() => server.destroy());

  const list = (input: { Limit?: number; ExclusiveStartTagKey?: string; StreamName?: string; StreamARN?: string }) =>
    client.send(new ListTagsForStreamCommand({ StreamName: 'ltfs', ...input }));
  const order = ['Alpha', 'Zulu', 'bravo', 'charlie', 'delta', 'echo', 'ä'];

  it('lists every tag in key order', async () => {
    const r = await list({});
    assert.deepEqual(r.Tags, order.map((Key) => ({ Key, Value: tags[Key] })));
    assert.equal(r.HasMoreTags, false);
    assert.deepEqual((await list({ StreamName: undefined, StreamARN: arnOf('ltfs') })).Tags!.length, 7);
  });

  it('pages with Limit and ExclusiveStartTagKey', async () => {
    const first = await list({ Limit: 3 });
    assert.deepEqual(first.Tags!.map((t) => t.Key), order.slice(0, 3));
    assert.equal(first.HasMoreTags, true);
    const second = await list({ Limit: 3, ExclusiveStartTagKey: 'bravo' });
    assert.deepEqual(second.Tags!.map((t) => t.Key), ['charlie', 'delta', 'echo']);
    assert.equal(second.HasMoreTags, true);
    const last = await list({ Limit: 3, ExclusiveStartTagKey: 'echo' });
    assert.deepEqual(last.Tags!.map((t) => t.Key), ['ä']);
    assert.equal(last.HasMoreTags, false);
    const between = await list({ ExclusiveStartTagKey: 'c' });
    assert.deepEqual(between.Tags!.map((t) => t.Key), ['charlie', 'delta', 'echo', 'ä'], 'the start key need not be a tag');
  });

  it('answers an untagged stream with no tags', async () => {
    const r = await list({ StreamName: 'ltfs-none' });
    assert.deepEqual(r.Tags, []);
    assert.equal(r.HasMoreTags, false);
  });

  it('refuses a stream that does not exist and a Limit outside 1..50', async () => {
    await expectError(list({ StreamName: 'ltfs-gone' }), 'ResourceNotFoundException', streamNotFound('ltfs-gone'));
    await expectError(
      list({ Limit: 51 }),
      'ValidationException',
      validationMessage(violation('51', 'limit', 'Member must have value less than or equal to 50')),
    );
  });
});
