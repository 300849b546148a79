import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  RegisterStreamConsumerCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ARN_PATTERN,
  arnOf,
  createStream,
  expectError,
  lengthAtLeast,
  lengthAtMost,
  NAME_PATTERN,
  NOT_NULL,
  streamNotFound,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DELAY_MS = 1_000;

describe('RegisterStreamConsumer', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: DELAY_MS }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const register = (stream: string, name: string, extra: Record<string, unknown> = {}) =>
    client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf(stream), ConsumerName: name, ...extra }));
  const status = async (arn: string) =>
    (await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }))).ConsumerDescription!.ConsumerStatus;

  it('registers a consumer as CREATING, with an ARN made of the stream ARN, its name and its creation second', async () => {
    await createStream(client, 'rsc-basic');
    const now = clock.now();
    const out = await register('rsc-basic', 'app');
    assert.deepEqual(out.Consumer, {
      ConsumerName: 'app',
      ConsumerARN: `${arnOf('rsc-basic')}/consumer/app:${now / 1000}`,
      ConsumerStatus: 'CREATING',
      ConsumerCreationTimestamp: new Date(now),
    });
    assert.equal(await status(out.Consumer!.ConsumerARN!), 'CREATING');
    clock.advance(DELAY_MS - 1);
    assert.equal(await status(out.Consumer!.ConsumerARN!), 'CREATING');
    clock.advance(1);
    assert.equal(await status(out.Consumer!.ConsumerARN!), 'ACTIVE', 'ACTIVE once the delay is over');
  });

  it('refuses a name already registered with the stream, in any status', async () => {
    await createStream(client, 'rsc-dup');
    const first = await register('rsc-dup', 'same');
    const message = 'Consumer same under stream rsc-dup under account 000000000000 already exists.';
    await expectError(register('rsc-dup', 'same'), 'ResourceInUseException', message);
    clock.advance(DELAY_MS);
    await expectError(register('rsc-dup', 'same'), 'ResourceInUseException', message);
    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: first.Consumer!.ConsumerARN }));
    await expectError(register('rsc-dup', 'same'), 'ResourceInUseException', message);
    clock.advance(DELAY_MS);
    const again = await register('rsc-dup', 'same');
    assert.notEqual(again.Consumer!.ConsumerARN, first.Consumer!.ConsumerARN, 'a consumer registered again gets a new ARN');
    // The same name on another stream is another consumer.
    await createStream(client, 'rsc-dup-2');
    await register('rsc-dup-2', 'same');
  });

  it('allows 5 consumers CREATING at once and 20 per stream (LimitExceededException)', async () => {
    await createStream(client, 'rsc-limits');
    for (let i = 0; i < 5; i++) await register('rsc-limits', `c${i}`);
    await expectError(
      register('rsc-limits', 'c5'),
      'LimitExceededException',
      'This request would exceed the limit of 5 consumers in CREATING status for stream rsc-limits under account 000000000000.',
    );
    for (let n = 5; n < 20; n += 5) {
      clock.advance(DELAY_MS);
      for (let i = n; i < n + 5; i++) await register('rsc-limits', `c${i}`);
    }
    clock.advance(DELAY_MS);
    await expectError(
      register('rsc-limits', 'c20'),
      'LimitExceededException',
      'This request would exceed the limit of 20 consumers for stream rsc-limits under account 000000000000.',
    );
  });

  it('accepts tags, up to 50', async () => {
    await createStream(client, 'rsc-tags');
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
    const out = await register('rsc-tags', 'tagged', { Tags: tags });
    assert.equal(out.Consumer!.ConsumerStatus, 'CREATING');
    const stream = await server.kinesis.resolve({ StreamName: 'rsc-tags' });
    assert.deepEqual(stream.meta.consumers![0]!.tags, tags);
    await expectError(
      register('rsc-tags', 'too-many', { Tags: { ...tags, extra: 'x' } }),
      'InvalidArgumentException',
      'Failed to register consumer: a consumer cannot have more than 50 tags.',
    );
  });

  it('refuses a stream that does not exist, or is not ACTIVE', async () => {
    await expectError(register('rsc-missing', 'x'), 'ResourceNotFoundException', streamNotFound('rsc-missing'));
    await expectError(
      client.send(new RegisterStreamConsumerCommand({ StreamARN: 'arn:aws:kinesis:eu-west-1:000000000000:stream/rsc-missing', ConsumerName: 'x' })),
      'ResourceNotFoundException',
      'Stream arn:aws:kinesis:eu-west-1:000000000000:stream/rsc-missing not found.',
    );
    const slow = await startTestServer({ createStreamDelayMs: 5_000 }, { clock });
    try {
      const c = slow.client();
      await c.send(new CreateStreamCommand({ StreamName: 'rsc-creating', ShardCount: 1 }));
      await expectError(
        c.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('rsc-creating'), ConsumerName: 'x' })),
        'ResourceInUseException',
        'Stream rsc-creating under account 000000000000 not ACTIVE, instead in state CREATING',
      );
    } finally {
      await slow.destroy();
    }
  });

  it('validates its input with AWS messages', async () => {
    const long = 'c'.repeat(129);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, validationMessage(violation(null, 'streamARN', NOT_NULL), violation(null, 'consumerName', NOT_NULL))],
      [{ StreamARN: arnOf('x'), ConsumerName: 'bad name' }, validationMessage(violation('bad name', 'consumerName', NAME_PATTERN))],
      [{ StreamARN: arnOf('x'), ConsumerName: long }, validationMessage(violation(long, 'consumerName', lengthAtMost(128)))],
      [
        { StreamARN: arnOf('x'), ConsumerName: '' },
        validationMessage(violation('', 'consumerName', NAME_PATTERN), violation('', 'consumerName', lengthAtLeast(1))),
      ],
      [{ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:table/x', ConsumerName: 'c' }, validationMessage(violation('arn:aws:kinesis:us-east-1:000000000000:table/x', 'streamARN', ARN_PATTERN))],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new RegisterStreamConsumerCommand(input as never)), 'ValidationException', message);
    }
  });
});
