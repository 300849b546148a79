import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeStreamConsumerCommand, RegisterStreamConsumerCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { arnOf, createStream, expectError, NAME_PATTERN, streamNotFound, validationMessage, violation } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const CONSUMER_ARN_PATTERN =
  'Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+';

describe('DescribeStreamConsumer', () => {
  let server: TestServer;
  let client: KinesisClient;
  let consumerArn: string;
  let created: Date;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0 });
    client = server.client();
    await createStream(client, 'dsc');
    const out = await client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('dsc'), ConsumerName: 'reader' }));
    consumerArn = out.Consumer!.ConsumerARN!;
    created = out.Consumer!.ConsumerCreationTimestamp!;
  });
  after(() => server.destroy());

  const describeBy = async (input: Record<string, string>) =>
    (await client.send(new DescribeStreamConsumerCommand(input))).ConsumerDescription;

  it('describes a consumer by ARN, by stream ARN and name, or by all three', async () => {
    const expected = {
      ConsumerName: 'reader',
      ConsumerARN: consumerArn,
      ConsumerStatus: 'ACTIVE',
      ConsumerCreationTimestamp: created,
      StreamARN: arnOf('dsc'),
    };
    assert.deepEqual(await describeBy({ ConsumerARN: consumerArn }), expected);
    assert.deepEqual(await describeBy({ StreamARN: arnOf('dsc'), ConsumerName: 'reader' }), expected);
    assert.deepEqual(await describeBy({ StreamARN: arnOf('dsc'), ConsumerName: 'reader', ConsumerARN: consumerArn }), expected);
  });

  it('refuses parameters that name different consumers, or not enough of them', async () => {
    await expectError(
      describeBy({ ConsumerARN: consumerArn, ConsumerName: 'other' }),
      'InvalidArgumentException',
      `ConsumerARN ${consumerArn} and ConsumerName other do not refer to the same consumer.`,
    );
    await expectError(
      describeBy({ ConsumerARN: consumerArn, StreamARN: arnOf('other') }),
      'InvalidArgumentException',
      `ConsumerARN ${consumerArn} and StreamARN ${arnOf('other')} do not refer to the same stream.`,
    );
    const neither = 'Either ConsumerARN or both StreamARN and ConsumerName must be provided.';
    await expectError(describeBy({}), 'InvalidArgumentException', neither);
    await expectError(describeBy({ ConsumerName: 'reader' }), 'InvalidArgumentException', neither);
    await expectError(describeBy({ StreamARN: arnOf('dsc') }), 'InvalidArgumentException', neither);
  });

  it('refuses consumers and streams that do not exist with ResourceNotFoundException', async () => {
    await expectError(
      describeBy({ StreamARN: arnOf('dsc'), ConsumerName: 'nobody' }),
      'ResourceNotFoundException',
      'Consumer nobody under stream dsc under account 000000000000 not found.',
    );
    await expectError(describeBy({ StreamARN: arnOf('dsc-missing'), ConsumerName: 'reader' }), 'ResourceNotFoundException', streamNotFound('dsc-missing'));
    const stale = `${consumerArn.slice(0, consumerArn.lastIndexOf(':'))}:12345`;
    await expectError(describeBy({ ConsumerARN: stale }), 'ResourceNotFoundException', `Consumer ${stale} not found.`);
    const elsewhere = consumerArn.replace('us-east-1', 'eu-west-1');
    await expectError(describeBy({ ConsumerARN: elsewhere }), 'ResourceNotFoundException', `Consumer ${elsewhere} not found.`);
    const noStream = consumerArn.replace('stream/dsc/', 'stream/dsc-missing/');
    await expectError(describeBy({ ConsumerARN: noStream }), 'ResourceNotFoundException', `Consumer ${noStream} not found.`);
  });

  it('validates its input with AWS messages', async () => {
    await expectError(
      describeBy({ ConsumerARN: arnOf('dsc') }),
      'ValidationException',
      validationMessage(violation(arnOf('dsc'), 'consumerARN', CONSUMER_ARN_PATTERN)),
    );
    await expectError(
      describeBy({ StreamARN: arnOf('dsc'), ConsumerName: 'a b' }),
      'ValidationException',
      validationMessage(violation('a b', 'consumerName', NAME_PATTERN)),
    );
  });
});
