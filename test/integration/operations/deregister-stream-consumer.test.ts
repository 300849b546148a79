import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { arnOf, createStream, expectError, streamNotFound, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DELAY_MS = 500;

describe('DeregisterStreamConsumer', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: DELAY_MS }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const register = async (stream: string, name: string) => {
    const out = await client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf(stream), ConsumerName: name }));
    return out.Consumer!.ConsumerARN!;
  };
  const describeArn = (arn: string) => client.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }));

  it('answers with an empty body; the consumer is DELETING, then gone', async () => {
    await createStream(client, 'drc');
    const arn = await register('drc', 'app');
    clock.advance(DELAY_MS);
    const out = await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    assert.deepEqual(Object.keys(out).filter((k) => k !== '$metadata'), []);
    assert.equal((await describeArn(arn)).ConsumerDescription!.ConsumerStatus, 'DELETING');
    const listed = (await client.send(new ListStreamConsumersCommand({ StreamARN: arnOf('drc') }))).Consumers!;
    assert.deepEqual(listed.map((c) => [c.ConsumerName, c.ConsumerStatus]), [['app', 'DELETING']]);
    // Deregistering a consumer that is already DELETING changes nothing.
    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    clock.advance(DELAY_MS);
    await expectError(describeArn(arn), 'ResourceNotFoundException', `Consumer ${arn} not found.`);
    await expectError(
      client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn })),
      'ResourceNotFoundException',
      `Consumer ${arn} not found.`,
    );
    assert.deepEqual((await client.send(new ListStreamConsumersCommand({ StreamARN: arnOf('drc') }))).Consumers, []);
  });

  it('deregisters by stream ARN and consumer name, including a consumer still CREATING', async () => {
    await createStream(client, 'drc-name');
    const arn = await register('drc-name', 'app');
    await client.send(new DeregisterStreamConsumerCommand({ StreamARN: arnOf('drc-name'), ConsumerName: 'app' }));
    assert.equal((await describeArn(arn)).ConsumerDescription!.ConsumerStatus, 'DELETING');
    clock.advance(DELAY_MS);
    await expectError(
      client.send(new DeregisterStreamConsumerCommand({ StreamARN: arnOf('drc-name'), ConsumerName: 'app' })),
      'ResourceNotFoundException',
      'Consumer app under stream drc-name under account 000000000000 not found.',
    );
  });

  it('refuses what Describe refuses, with the same errors', async () => {
    await createStream(client, 'drc-errors');
    const arn = await register('drc-errors', 'app');
    await expectError(
      client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn, ConsumerName: 'other' })),
      'InvalidArgumentException',
      `ConsumerARN ${arn} and ConsumerName other do not refer to the same consumer.`,
    );
    await expectError(
      client.send(new DeregisterStreamConsumerCommand({ ConsumerName: 'app' })),
      'InvalidArgumentException',
      'Either ConsumerARN or both StreamARN and ConsumerName must be provided.',
    );
    await expectError(
      client.send(new DeregisterStreamConsumerCommand({ StreamARN: arnOf('drc-missing'), ConsumerName: 'app' })),
      'ResourceNotFoundException',
      streamNotFound('drc-missing'),
    );
    assert.equal((await describeArn(arn)).ConsumerDescription!.ConsumerStatus, 'CREATING', 'nothing was deregistered');
  });
});
