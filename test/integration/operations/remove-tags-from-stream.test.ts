import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  ListTagsForStreamCommand,
  RemoveTagsFromStreamCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  expectError,
  lengthAtLeast,
  streamNotFound,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('RemoveTagsFromStream', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 1000 }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'rts', ShardCount: 1, Tags: { a: '1', b: '2', 'ü0 _.': '3', '/=+-@:': '4' } }));
    clock.advance(1000);
  });
  after(() => server.destroy());

  const remove = (StreamName: string, TagKeys: string[]) => client.send(new RemoveTagsFromStreamCommand({ StreamName, TagKeys }));
  const keys = async (StreamName: string) => (await client.send(new ListTagsForStreamCommand({ StreamName }))).Tags!.map((t) => t.Key);

  it('removes the keys given and ignores keys the stream does not carry', async () => {
    await remove('rts', ['b', 'ü0 _.', '/=+-@:', 'missing']);
    assert.deepEqual(await keys('rts'), ['a']);
    await remove('rts', ['never-there']);
    await client.send(new RemoveTagsFromStreamCommand({ StreamARN: arnOf('rts'), TagKeys: ['a'] }));
    assert.deepEqual(await keys('rts'), []);
    await client.send(new AddTagsToStreamCommand({ StreamName: 'rts', Tags: { a: 'again' } }));
    assert.deepEqual(await keys('rts'), ['a']);
  });

  it('refuses keys with characters AWS does not allow', async () => {
    for (const bad of ['abc;def', 'abc\tdef', 'abc\ndef', 'abc,def']) {
      await expectError(
        remove('rts', [bad]),
        'InvalidArgumentException',
        'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.',
      );
    }
    await expectError(
      remove('rts', ['abc%def']),
      'InvalidArgumentException',
      `Failed to remove tags from stream rts under account ${ACCOUNT} because some tags contained illegal characters. ` +
        "The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.",
    );
  });

  it('refuses a stream that is not ACTIVE, and a stream that does not exist', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'rts-new', ShardCount: 1, Tags: { a: '1' } }));
    await expectError(
      remove('rts-new', ['a']),
      'ResourceInUseException',
      `Stream rts-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
    await expectError(remove('rts-none', ['a']), 'ResourceNotFoundException', streamNotFound('rts-none'));
  });

  it('validates its input as the model says', async () => {
    await expectError(remove('rts', []), 'ValidationException', validationMessage(violation('[]', 'tagKeys', lengthAtLeast(1))));
    const many = Array.from({ length: 51 }, (_, i) => `k${i}`);
    await expectError(
      remove('rts', many),
      'ValidationException',
      validationMessage(violation(`[${many.join(', ')}]`, 'tagKeys', 'Member must have length less than or equal to 50')),
    );
  });
});
