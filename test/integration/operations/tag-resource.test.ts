import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateStreamCommand, ListTagsForResourceCommand, TagResourceCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, arnOf, expectError, NOT_NULL, streamNotFound, validationMessage, violation, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const RESOURCE_ARN_PATTERN = 'Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*(stream|channel)/\\S+';

describe('TagResource', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 1000 }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'tr', ShardCount: 1, Tags: { keep: 'me' } }));
    clock.advance(1000);
  });
  after(() => server.destroy());

  const tag = (ResourceARN: string, Tags: Record<string, string>) => client.send(new TagResourceCommand({ ResourceARN, Tags }));
  const tagsOf = async (ResourceARN: string) => (await client.send(new ListTagsForResourceCommand({ ResourceARN }))).Tags;

  it('adds and overwrites the tags of a stream named by its ARN', async () => {
    await tag(arnOf('tr'), { b: '1', a: '2' });
    await tag(arnOf('tr'), { b: '3' });
    assert.deepEqual(await tagsOf(arnOf('tr')), [
      { Key: 'a', Value: '2' },
      { Key: 'b', Value: '3' },
      { Key: 'keep', Value: 'me' },
    ]);
  });

  it('applies the tag rules of AddTagsToStream', async () => {
    await expectError(
      tag(arnOf('tr'), { 'a;b': 'c' }),
      'InvalidArgumentException',
      'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.',
    );
    await expectError(tag(arnOf('tr'), { a: '50%' }), 'InvalidArgumentException', /^Failed to add tags to stream tr under account/);
    await expectError(tag(arnOf('tr'), { 'aws:x': 'c' }), 'InvalidArgumentException', /tag keys beginning with 'aws:' are reserved/);
    const many = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`t${i}`, 'v']));
    await expectError(
      tag(arnOf('tr'), many),
      'InvalidArgumentException',
      `Failed to add tags to stream tr under account ${ACCOUNT} because a given stream cannot have more than 50 tags associated with it.`,
    );
  });

  it('refuses a resource that does not exist or is not ACTIVE', async () => {
    await expectError(tag(arnOf('tr-none'), { a: 'b' }), 'ResourceNotFoundException', streamNotFound('tr-none'));
    const other = `arn:aws:kinesis:us-east-1:111122223333:stream/tr`;
    await expectError(tag(other, { a: 'b' }), 'ResourceNotFoundException', `Stream ${other} not found.`);
    const consumer = `${arnOf('tr')}/consumer/nobody:1700000000`;
    await expectError(tag(consumer, { a: 'b' }), 'ResourceNotFoundException', `Consumer ${consumer} not found.`);
    await client.send(new CreateStreamCommand({ StreamName: 'tr-new', ShardCount: 1 }));
    await expectError(
      tag(arnOf('tr-new'), { a: 'b' }),
      'ResourceInUseException',
      `Stream tr-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
  });

  it('validates its input as the model says', async () => {
    await expectError(tag('stream/tr', { a: 'b' }), 'ValidationException', validationMessage(violation('stream/tr', 'resourceARN', RESOURCE_ARN_PATTERN)));
    await expectError(
      client.send(new TagResourceCommand({ ResourceARN: arnOf('tr'), Tags: undefined as unknown as Record<string, string> })),
      'ValidationException',
      validationMessage(violation(null, 'tags', NOT_NULL)),
    );
  });
});
