import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ARN_PATTERN,
  arnOf,
  createStream,
  expectError,
  NOT_NULL,
  streamNotFound,
  validationMessage,
  valueAtLeast,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('ListStreamConsumers', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 100 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const list = (input: Record<string, unknown>) => client.send(new ListStreamConsumersCommand(input as never));

  it('lists no consumers as an empty list', async () => {
    await createStream(client, 'lsc-empty');
    const out = await list({ StreamARN: arnOf('lsc-empty') });
    assert.deepEqual(out.Consumers, []);
    assert.equal(out.NextToken, undefined);
  });

  it('lists every consumer with its status, in name order, a page at a time', async () => {
    await createStream(client, 'lsc');
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
    const registered = new Map<string, string>();
    for (const name of names) {
      const out = await client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('lsc'), ConsumerName: name }));
      registered.set(name, out.Consumer!.ConsumerARN!);
    }
    const all = (await list({ StreamARN: arnOf('lsc') })).Consumers!;
    assert.deepEqual(all.map((c) => c.ConsumerName), [...names].sort());
    assert.ok(all.every((c) => c.ConsumerStatus === 'CREATING' && c.ConsumerARN === registered.get(c.ConsumerName!)));
    assert.ok(all.every((c) => c.ConsumerCreationTimestamp instanceof Date));
    clock.advance(100);
    assert.ok((await list({ StreamARN: arnOf('lsc') })).Consumers!.every((c) => c.ConsumerStatus === 'ACTIVE'));

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const out: Awaited<ReturnType<typeof list>> = await list({ StreamARN: arnOf('lsc'), MaxResults: 2, ...(token ? { NextToken: token } : {}) });
      pages.push(out.Consumers!.map((c) => c.ConsumerName!));
      token = out.NextToken;
    } while (token);
    assert.deepEqual(pages, [['alpha', 'bravo'], ['charlie', 'delta'], ['echo']]);
    assert.equal((await list({ StreamARN: arnOf('lsc'), MaxResults: 10_000 })).Consumers!.length, 5);

    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'lsc' }));
    assert.equal(summary.StreamDescriptionSummary!.ConsumerCount, 5);
  });

  it('checks StreamCreationTimestamp and NextToken', async () => {
    await createStream(client, 'lsc-token');
    for (const name of ['a', 'b', 'c']) {
      await client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('lsc-token'), ConsumerName: name }));
    }
    const created = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'lsc-token' }))).StreamDescriptionSummary!
      .StreamCreationTimestamp!;
    assert.equal((await list({ StreamARN: arnOf('lsc-token'), StreamCreationTimestamp: created })).Consumers!.length, 3);
    await expectError(
      list({ StreamARN: arnOf('lsc-token'), StreamCreationTimestamp: new Date(created.getTime() - 1000) }),
      'ResourceNotFoundException',
      streamNotFound('lsc-token'),
    );
    const first = await list({ StreamARN: arnOf('lsc-token'), MaxResults: 1 });
    await expectError(
      list({ StreamARN: arnOf('lsc-token'), NextToken: first.NextToken, StreamCreationTimestamp: created }),
      'InvalidArgumentException',
      'NextToken and StreamCreationTimestamp cannot be provided together.',
    );
    await createStream(client, 'lsc-other');
    await expectError(list({ StreamARN: arnOf('lsc-other'), NextToken: first.NextToken }), 'InvalidArgumentException', 'Invalid NextToken.');
    await expectError(list({ StreamARN: arnOf('lsc-token'), NextToken: 'bm90IGEgdG9rZW4=' }), 'InvalidArgumentException', 'Invalid NextToken.');
    clock.advance(300_001);
    await expectError(
      list({ StreamARN: arnOf('lsc-token'), NextToken: first.NextToken }),
      'ExpiredNextTokenException',
      'The timestamp encoded in NextToken has expired.',
    );
  });

  it('refuses a stream that does not exist, or is not ACTIVE', async () => {
    await expectError(list({ StreamARN: arnOf('lsc-missing') }), 'ResourceNotFoundException', streamNotFound('lsc-missing'));
    const slow = await startTestServer({ createStreamDelayMs: 5_000 }, { clock });
    try {
      const c = slow.client();
      await c.send(new CreateStreamCommand({ StreamName: 'lsc-creating', ShardCount: 1 }));
      await expectError(
        c.send(new ListStreamConsumersCommand({ StreamARN: arnOf('lsc-creating') })),
        'ResourceInUseException',
        'Stream lsc-creating under account 000000000000 not ACTIVE, instead in state CREATING',
      );
    } finally {
      await slow.destroy();
    }
  });

  it('validates its input with AWS messages', async () => {
    await expectError(list({}), 'ValidationException', validationMessage(violation(null, 'streamARN', NOT_NULL)));
    await expectError(
      list({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:table/x' }),
      'ValidationException',
      validationMessage(violation('arn:aws:kinesis:us-east-1:000000000000:table/x', 'streamARN', ARN_PATTERN)),
    );
    await expectError(
      list({ StreamARN: arnOf('lsc'), MaxResults: 0 }),
      'ValidationException',
      validationMessage(violation('0', 'maxResults', valueAtLeast(1))),
    );
  });
});
