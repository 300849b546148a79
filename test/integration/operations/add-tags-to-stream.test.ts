import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  ListTagsForStreamCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  createStream,
  expectError,
  lengthAtLeast,
  NOT_NULL,
  streamNotFound,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const INVALID_CHARACTERS =
  'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.';
const percent = (stream: string) =>
  `Failed to add tags to stream ${stream} under account ${ACCOUNT} because some tags contained illegal characters. ` +
  "The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.";

describe('AddTagsToStream', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 1000 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  async function activeStream(name: string, tags?: Record<string, string>): Promise<void> {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1, Tags: tags }));
    clock.advance(1000);
  }
  const add = (StreamName: string, Tags: Record<string, string>) => client.send(new AddTagsToStreamCommand({ StreamName, Tags }));
  const tagsOf = async (StreamName: string) => (await client.send(new ListTagsForStreamCommand({ StreamName }))).Tags;

  it('adds tags to those given at creation and overwrites existing keys', async () => {
    await activeStream('att', { team: 'blue', env: 'dev' });
    await add('att', { env: 'prod', owner: 'ops@example.com', empty: '' });
    assert.deepEqual(await tagsOf('att'), [
      { Key: 'empty', Value: '' },
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: 'ops@example.com' },
      { Key: 'team', Value: 'blue' },
    ]);
  });

  it('accepts Unicode letters, digits, spaces and _ . / = + - @ : in keys and values, by StreamARN too', async () => {
    await activeStream('att-chars');
    await client.send(new AddTagsToStreamCommand({ StreamARN: arnOf('att-chars'), Tags: { 'ü0 _.': 'é 9/=+-@:', '/=+-@:': 'ß' } }));
    assert.deepEqual(await tagsOf('att-chars'), [
      { Key: '/=+-@:', Value: 'ß' },
      { Key: 'ü0 _.', Value: 'é 9/=+-@:' },
    ]);
  });

  it('refuses characters AWS does not allow, in keys and in values', async () => {
    await activeStream('att-bad');
    for (const bad of ['a;b', 'a\tb', 'a\nb', 'a,b', 'a*b']) {
      await expectError(add('att-bad', { [bad]: 'v' }), 'InvalidArgumentException', INVALID_CHARACTERS);
      await expectError(add('att-bad', { k: bad }), 'InvalidArgumentException', INVALID_CHARACTERS);
    }
    await expectError(add('att-bad', { 'a%b': 'v' }), 'InvalidArgumentException', percent('att-bad'));
    await expectError(add('att-bad', { k: '100%' }), 'InvalidArgumentException', percent('att-bad'));
    assert.deepEqual(await tagsOf('att-bad'), []);
  });

  it('refuses keys with the reserved aws: prefix', async () => {
    await activeStream('att-aws');
    await expectError(
      add('att-aws', { 'AWS:cost': 'x' }),
      'InvalidArgumentException',
      `Failed to add tags to stream att-aws under account ${ACCOUNT} because tag keys beginning with 'aws:' are reserved for AWS use.`,
    );
    await add('att-aws', { 'awsome:x': 'fine' });
  });

  it('keeps a stream at 50 tags at most, counting the keys it already has', async () => {
    await activeStream('att-50');
    const tags = (from: number, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${from + i}`, 'v']));
    await add('att-50', tags(0, 40));
    await expectError(
      add('att-50', tags(40, 11)),
      'InvalidArgumentException',
      `Failed to add tags to stream att-50 under account ${ACCOUNT} because a given stream cannot have more than 50 tags associated with it.`,
    );
    assert.equal((await tagsOf('att-50'))!.length, 40, 'a refused request adds nothing');
    await add('att-50', { ...tags(30, 10), ...tags(40, 10) });
    assert.equal((await tagsOf('att-50'))!.length, 50, 'overwriting keys does not count them twice');
  });

  it('refuses a stream that is not ACTIVE yet, and a stream that does not exist', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'att-new', ShardCount: 1 }));
    await expectError(
      add('att-new', { a: 'b' }),
      'ResourceInUseException',
      `Stream att-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
    clock.advance(1000);
    await add('att-new', { a: 'b' });
    await expectError(add('att-none', { a: 'b' }), 'ResourceNotFoundException', streamNotFound('att-none'));
  });

  it('validates its input as the model says', async () => {
    await expectError(add('att', {}), 'ValidationException', validationMessage(violation('{}', 'tags', lengthAtLeast(1))));
    await expectError(
      client.send(new AddTagsToStreamCommand({ StreamName: 'att', Tags: undefined as unknown as Record<string, string> })),
      'ValidationException',
      validationMessage(violation(null, 'tags', NOT_NULL)),
    );
    const long = 'k'.repeat(129);
    await expectError(
      add('att', { [long]: 'v' }),
      'ValidationException',
      validationMessage(
        violation(
          `{${long}=v}`,
          'tags',
          'Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
        ),
      ),
    );
  });
});
