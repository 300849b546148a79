import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  ListStreamsCommand,
  type KinesisClient,
  type ListStreamsCommandInput,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  arnOf,
  expectError,
  lengthAtLeast,
  NAME_PATTERN,
  validationMessage,
  valueAtLeast,
  valueAtMost,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('ListStreams', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const list = (input: ListStreamsCommandInput = {}) => client.send(new ListStreamsCommand(input));
  const create = (name: string) => client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));

  it('lists nothing when there are no streams', async () => {
    const r = await list();
    assert.deepEqual(r.StreamNames, []);
    assert.equal(r.HasMoreStreams, false);
    assert.equal(r.NextToken, undefined);
    assert.deepEqual(r.StreamSummaries ?? [], []);
  });

  it('lists names in order, each with a summary', async () => {
    const times = new Map<string, number>();
    for (const name of ['b-stream', 'a-stream', 'C-stream', 'a.stream', 'a_stream']) {
      clock.advance(1000);
      times.set(name, clock.now());
      await create(name);
    }
    await client.send(new CreateStreamCommand({ StreamName: 'd-on-demand', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    const r = await list();
    assert.deepEqual(r.StreamNames, ['C-stream', 'a-stream', 'a.stream', 'a_stream', 'b-stream', 'd-on-demand']);
    assert.equal(r.HasMoreStreams, false);
    assert.deepEqual(r.StreamSummaries!.map((s) => s.StreamName), r.StreamNames);
    for (const s of r.StreamSummaries!) {
      assert.equal(s.StreamARN, arnOf(s.StreamName!));
      assert.equal(s.StreamStatus, 'ACTIVE');
      assert.equal(s.StreamModeDetails!.StreamMode, s.StreamName === 'd-on-demand' ? 'ON_DEMAND' : 'PROVISIONED');
      if (times.has(s.StreamName!)) assert.equal(s.StreamCreationTimestamp!.getTime(), times.get(s.StreamName!));
    }
  });

  it('pages with Limit and NextToken', async () => {
    const all = (await list()).StreamNames!;
    const seen: string[] = [];
    let r = await list({ Limit: 2 });
    for (;;) {
      assert.ok(r.StreamNames!.length <= 2);
      seen.push(...r.StreamNames!);
      assert.equal(r.HasMoreStreams, r.NextToken !== undefined);
      if (!r.NextToken) break;
      r = await list({ NextToken: r.NextToken, Limit: 2 });
    }
    assert.deepEqual(seen, all);
  });

  it('pages with ExclusiveStartStreamName and HasMoreStreams', async () => {
    const first = await list({ Limit: 3 });
    assert.deepEqual(first.StreamNames, ['C-stream', 'a-stream', 'a.stream']);
    assert.equal(first.HasMoreStreams, true);
    const next = await list({ ExclusiveStartStreamName: 'a.stream', Limit: 3 });
    assert.deepEqual(next.StreamNames, ['a_stream', 'b-stream', 'd-on-demand']);
    assert.equal(next.HasMoreStreams, false);
    assert.deepEqual((await list({ ExclusiveStartStreamName: 'a0' })).StreamNames, ['a_stream', 'b-stream', 'd-on-demand']);
    assert.deepEqual((await list({ ExclusiveStartStreamName: 'zzz' })).StreamNames, []);
  });

  it('returns at most 100 names, whatever the Limit', async () => {
    for (let i = 0; i < 100; i++) await create(`many-${String(i).padStart(3, '0')}`);
    const total = 106;
    const byDefault = await list();
    assert.equal(byDefault.StreamNames!.length, 100);
    assert.equal(byDefault.HasMoreStreams, true);
    const large = await list({ Limit: 10_000 });
    assert.equal(large.StreamNames!.length, 100);
    const rest = await list({ NextToken: large.NextToken, Limit: 10_000 });
    assert.equal(rest.StreamNames!.length, total - 100);
    assert.equal(rest.HasMoreStreams, false);
  });

  it('refuses NextToken with ExclusiveStartStreamName, and a NextToken older than 300 seconds', async () => {
    const { NextToken } = await list({ Limit: 1 });
    await expectError(
      list({ NextToken, ExclusiveStartStreamName: 'a-stream' }),
      'InvalidArgumentException',
      'NextToken and ExclusiveStartStreamName cannot be provided together.',
    );
    clock.advance(300_000);
    assert.deepEqual((await list({ NextToken, Limit: 1 })).StreamNames, ['a-stream'], 'exactly 300 s old is still valid');
    clock.advance(1);
    await expectError(list({ NextToken, Limit: 1 }), 'ExpiredNextTokenException', 'The timestamp encoded in NextToken has expired.');
  });

  it('validates its input with AWS messages', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { Limit: 0, ExclusiveStartStreamName: '' },
        validationMessage(
          violation('0', 'limit', valueAtLeast(1)),
          violation('', 'exclusiveStartStreamName', NAME_PATTERN),
          violation('', 'exclusiveStartStreamName', lengthAtLeast(1)),
        ),
      ],
      [{ Limit: 10_001 }, validationMessage(violation('10001', 'limit', valueAtMost(10000)))],
      [{ NextToken: '' }, validationMessage(violation('', 'nextToken', lengthAtLeast(1)))],
    ];
    for (const [input, message] of cases) {
      await expectError(list(input as never), 'ValidationException', message);
    }
  });
});
