import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteStreamCommand,
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { consumerResource } from '../../../src/kinesis/resources.js';
import { arnOf, createStream, expectError, streamNotFound } from '../../helpers/kinesis.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../../helpers/server.js';

describe('consumers and their stream', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0 });
    client = server.client();
  });
  after(() => server.destroy());

  const register = (stream: string, name: string) =>
    client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf(stream), ConsumerName: name }));
  const consumerCount = async (stream: string) =>
    (await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.ConsumerCount;

  it('counts registered consumers in DescribeStreamSummary', async () => {
    await createStream(client, 'cs-count');
    assert.equal(await consumerCount('cs-count'), 0);
    await register('cs-count', 'a');
    await register('cs-count', 'b');
    assert.equal(await consumerCount('cs-count'), 2);
    await client.send(new DeregisterStreamConsumerCommand({ StreamARN: arnOf('cs-count'), ConsumerName: 'a' }));
    assert.equal(await consumerCount('cs-count'), 1);
  });

  it('refuses to delete a stream with consumers unless EnforceConsumerDeletion is true', async () => {
    await createStream(client, 'cs-delete');
    const consumer = (await register('cs-delete', 'keeper')).Consumer!.ConsumerARN!;
    const refused =
      'DeleteStream can’t delete 000000000000:cs-delete because there are consumers associated with this data stream. ' +
      'To delete cs-delete anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the ' +
      'consumers that are associated with it.';
    await expectError(client.send(new DeleteStreamCommand({ StreamName: 'cs-delete' })), 'ResourceInUseException', refused);
    await expectError(
      client.send(new DeleteStreamCommand({ StreamName: 'cs-delete', EnforceConsumerDeletion: false })),
      'ResourceInUseException',
      refused,
    );
    assert.equal(await consumerCount('cs-delete'), 1, 'the refused call changed nothing');

    await client.send(new DeleteStreamCommand({ StreamName: 'cs-delete', EnforceConsumerDeletion: true }));
    await expectError(client.send(new DescribeStreamSummaryCommand({ StreamName: 'cs-delete' })), 'ResourceNotFoundException', streamNotFound('cs-delete'));
    await expectError(
      client.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumer })),
      'ResourceNotFoundException',
      `Consumer ${consumer} not found.`,
    );
    // A stream created again under the name starts without consumers.
    await createStream(client, 'cs-delete');
    assert.deepEqual((await client.send(new ListStreamConsumersCommand({ StreamARN: arnOf('cs-delete') }))).Consumers, []);
    assert.equal(await consumerCount('cs-delete'), 0);
  });

  it('deletes a stream whose consumers are all gone without EnforceConsumerDeletion', async () => {
    await createStream(client, 'cs-clean');
    await register('cs-clean', 'temp');
    await client.send(new DeregisterStreamConsumerCommand({ StreamARN: arnOf('cs-clean'), ConsumerName: 'temp' }));
    await client.send(new DeleteStreamCommand({ StreamName: 'cs-clean' }));
  });

  it('offers a consumer’s tags and policy to the tag and policy operations, kept in its entry', async () => {
    await createStream(client, 'cs-resource');
    const out = await client.send(
      new RegisterStreamConsumerCommand({ StreamARN: arnOf('cs-resource'), ConsumerName: 'tagged', Tags: { a: '1' } }),
    );
    const seconds = Math.floor(out.Consumer!.ConsumerCreationTimestamp!.getTime() / 1000);
    const k = server.kinesis;
    const stream = await k.resolve({ StreamName: 'cs-resource' });
    assert.equal(consumerResource(k, stream, 'tagged', seconds + 1), undefined, 'another creation second is another consumer');
    const resource = consumerResource(k, stream, 'tagged', seconds)!;
    assert.equal(resource.arn, out.Consumer!.ConsumerARN);
    assert.deepEqual(resource.tags(), { a: '1' });
    assert.equal(resource.policy(), undefined);
    resource.checkChangeable(k);
    await resource.change(k, (current) => ({ tags: { ...current.tags, b: '2' }, policy: '{"Version":"2012-10-17"}' }));
    assert.deepEqual(resource.tags(), { a: '1', b: '2' });
    assert.equal(resource.policy(), '{"Version":"2012-10-17"}');
    assert.deepEqual(stream.meta.consumers!.map((c) => c.tags), [{ a: '1', b: '2' }]);
    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: out.Consumer!.ConsumerARN }));
    assert.equal(consumerResource(k, stream, 'tagged', seconds), undefined, 'a deregistered consumer is no resource');
  });

  it('keeps consumers in the catalog across a restart', async () => {
    const dataDir = tempDir();
    try {
      const first = await startTestServer({ consumerDelayMs: 0 }, { dataDir });
      let arn: string;
      try {
        const c = first.client();
        await createStream(c, 'cs-durable');
        arn = (await c.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('cs-durable'), ConsumerName: 'durable', Tags: { team: 'x' } })))
          .Consumer!.ConsumerARN!;
        await c.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('cs-durable'), ConsumerName: 'gone' }));
        await c.send(new DeregisterStreamConsumerCommand({ StreamARN: arnOf('cs-durable'), ConsumerName: 'gone' }));
        assert.equal((await c.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }))).ConsumerDescription!.ConsumerStatus, 'ACTIVE');
      } finally {
        await first.close();
      }
      const second = await startTestServer({ consumerDelayMs: 0 }, { dataDir });
      try {
        const c = second.client();
        const d = (await c.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }))).ConsumerDescription!;
        assert.equal(d.ConsumerName, 'durable');
        assert.equal(d.ConsumerStatus, 'ACTIVE');
        const listed = (await c.send(new ListStreamConsumersCommand({ StreamARN: arnOf('cs-durable') }))).Consumers!;
        assert.deepEqual(listed.map((x) => x.ConsumerName), ['durable']);
        const stream = await second.kinesis.resolve({ StreamName: 'cs-durable' });
        assert.deepEqual(stream.meta.consumers![0]!.tags, { team: 'x' });
      } finally {
        await second.destroy();
      }
    } finally {
      removeDir(dataDir);
    }
  });
});
