import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  DeleteStreamCommand,
  DeregisterStreamConsumerCommand,
  RegisterStreamConsumerCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { Decoder, Encoder, Tag } from 'cbor-x';
import { ManualClock } from '../../../src/util/clock.js';
import { header, MessageReader, type DecodedMessage } from '../../helpers/eventstream.js';
import { eventually, RawSubscription, registerActive, subscribeBody } from '../../helpers/fan-out.js';
import { arnOf, createStream, shardId, wholeSecond } from '../../helpers/kinesis.js';
import { SIGNED } from '../../helpers/raw.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const cborEncoder = new Encoder({ useRecords: false, tagUint8Array: false });
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<
  typeof Decoder
>[0]);

const eventType = (m: DecodedMessage) => header(m, ':event-type') ?? header(m, ':exception-type');

async function putTexts(client: KinesisClient, stream: string, texts: readonly string[], key = 'k'): Promise<string[]> {
  const seqs: string[] = [];
  for (let i = 0; i < texts.length; i += 500) {
    const r = await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: texts.slice(i, i + 500).map((t) => ({ PartitionKey: key, Data: Buffer.from(t) })),
      }),
    );
    seqs.push(...r.Records!.map((e) => e.SequenceNumber!));
  }
  return seqs;
}

const eventTexts = (events: Array<Record<string, any>>) =>
  events.flatMap((e) => (e.Records as Array<{ Data: string }>).map((r) => Buffer.from(r.Data, 'base64').toString()));

describe('SubscribeToShard on the wire', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0, subscriptionHeartbeatMs: 150 });
    client = server.client();
  });
  after(() => server.destroy());

  it('answers over HTTP/2 with 200, the event-stream content type, and initial-response first', async () => {
    await createStream(client, 'wire-h2', 1);
    const arn = await registerActive(client, 'wire-h2', 'raw');
    await putTexts(client, 'wire-h2', ['a', 'b', 'c']);
    const sub = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), { Type: 'TRIM_HORIZON' }));
    await sub.until(() => sub.messages.length >= 2, 5_000, 'two messages');
    assert.equal(sub.status, 200);
    assert.equal(sub.headers['content-type'], 'application/vnd.amazon.eventstream');
    assert.ok(sub.headers['x-amzn-requestid']);
    assert.equal(sub.headers['content-length'], undefined);
    const [first, second] = sub.messages;
    assert.equal(header(first!, ':message-type'), 'event');
    assert.equal(header(first!, ':event-type'), 'initial-response', 'initial-response comes first');
    assert.equal(first!.payload.toString(), '{}');
    assert.equal(header(second!, ':message-type'), 'event');
    assert.equal(header(second!, ':event-type'), 'SubscribeToShardEvent');
    assert.equal(header(second!, ':content-type'), 'application/json');
    const body = JSON.parse(second!.payload.toString());
    assert.deepEqual(Object.keys(body).sort(), ['ContinuationSequenceNumber', 'MillisBehindLatest', 'Records']);
    assert.deepEqual(eventTexts([body]), ['a', 'b', 'c']);
    assert.equal(typeof body.Records[0].ApproximateArrivalTimestamp, 'number', 'JSON timestamps are epoch seconds');
    assert.equal(body.Records[0].PartitionKey, 'k');
    assert.equal(body.ContinuationSequenceNumber, body.Records[2].SequenceNumber);
    assert.equal(body.MillisBehindLatest, 0);
    sub.close();
  });

  it('sends an empty event at least every heartbeat interval while idle', async () => {
    await createStream(client, 'wire-idle', 1);
    const arn = await registerActive(client, 'wire-idle', 'idle');
    const seqs = await putTexts(client, 'wire-idle', ['only']);
    const sub = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), { Type: 'LATEST' }));
    const arrivals: number[] = [];
    let seen = 0;
    await sub.until(
      () => {
        while (seen < sub.messages.length) {
          seen++;
          arrivals.push(performance.now());
        }
        return sub.messages.length >= 9;
      },
      5_000,
      'heartbeats',
    );
    const events = sub.jsonEvents();
    for (const e of events) {
      assert.deepEqual(e.Records, []);
      assert.equal(e.ContinuationSequenceNumber, seqs[0], 'an idle event still names the position');
      assert.equal(e.MillisBehindLatest, 0);
    }
    const span = arrivals.at(-1)! - arrivals[1]!;
    assert.ok(span >= (arrivals.length - 2) * 140, `no more often than the interval (${span.toFixed(0)} ms)`);
    sub.close();
  });

  it('speaks CBOR to CBOR clients: CBOR payloads, the CBOR content type, byte-string data, tag-1 millisecond times', async () => {
    await createStream(client, 'wire-cbor', 1);
    const arn = await registerActive(client, 'wire-cbor', 'java');
    await putTexts(client, 'wire-cbor', ['x', 'y']);
    const body = cborEncoder.encode({ ConsumerARN: arn, ShardId: shardId(0), StartingPosition: { Type: 'TRIM_HORIZON' } });
    const sub = RawSubscription.open(server.endpoint, body, { contentType: 'application/x-amz-cbor-1.1' });
    await sub.until(() => sub.messages.length >= 2, 5_000, 'two messages');
    assert.equal(header(sub.messages[0]!, ':event-type'), 'initial-response');
    assert.equal(header(sub.messages[0]!, ':content-type'), 'application/x-amz-cbor-1.1');
    assert.deepEqual(sub.messages[0]!.payload, Buffer.from([0xa0]));
    const event = sub.messages[1]!;
    assert.equal(header(event, ':content-type'), 'application/x-amz-cbor-1.1');
    const tagAt = event.payload.indexOf(Buffer.from('ApproximateArrivalTimestamp')) + 'ApproximateArrivalTimestamp'.length;
    assert.equal(event.payload[tagAt], 0xc1);
    const decoded = cborDecoder.decode(event.payload) as { Records: Array<{ Data: Uint8Array; ApproximateArrivalTimestamp: Date }> };
    assert.deepEqual(decoded.Records.map((r) => Buffer.from(r.Data).toString()), ['x', 'y']);
    // cbor-x reads tag 1 as seconds; what is on the wire is milliseconds.
    const t = decoded.Records[0]!.ApproximateArrivalTimestamp.getTime() / 1000;
    assert.ok(Math.abs(t - Date.now()) < 60_000, `${t} is epoch milliseconds`);

    // Errors before the stream starts are CBOR error responses.
    const bad = RawSubscription.open(
      server.endpoint,
      cborEncoder.encode({ ConsumerARN: `${arn}0`, ShardId: shardId(0), StartingPosition: { Type: 'LATEST' } }),
      { contentType: 'application/x-amz-cbor-1.1' },
    );
    await bad.until(() => bad.ended, 5_000, 'the error response');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'application/x-amz-cbor-1.1');
    assert.equal((cborDecoder.decode(bad.body) as { __type: string }).__type, 'ResourceNotFoundException');
    sub.close();
    bad.close();
  });

  it('streams over HTTP/1.1 with chunked transfer encoding', async () => {
    await createStream(client, 'wire-h1', 1);
    const arn = await registerActive(client, 'wire-h1', 'h1');
    await putTexts(client, 'wire-h1', ['one', 'two']);
    const url = new URL(server.endpoint);
    const reader = new MessageReader();
    const messages: DecodedMessage[] = [];
    let response: http.IncomingMessage | undefined;
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/',
      agent: false,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Kinesis_20131202.SubscribeToShard',
        ...SIGNED,
      },
    });
    req.on('response', (res) => {
      response = res;
      res.on('data', (chunk: Buffer) => messages.push(...reader.push(chunk)));
    });
    req.on('error', () => {});
    req.end(subscribeBody(arn, shardId(0), { Type: 'TRIM_HORIZON' }));
    await eventually(() => messages.length >= 2, 5_000, 'two messages over HTTP/1.1');
    assert.equal(response!.statusCode, 200);
    assert.equal(response!.httpVersion, '1.1');
    assert.equal(response!.headers['transfer-encoding'], 'chunked');
    assert.equal(response!.headers['content-type'], 'application/vnd.amazon.eventstream');
    assert.equal(eventType(messages[0]!), 'initial-response');
    assert.deepEqual(eventTexts([JSON.parse(messages[1]!.payload.toString())]), ['one', 'two']);
    await putTexts(client, 'wire-h1', ['three']);
    await eventually(() => messages.some((m) => m.payload.includes('dGhyZWU=')), 5_000, 'the pushed record');
    assert.equal(server.kinesis.fanOut.list().filter((s) => s.consumerName === 'h1').length, 1);
    response!.destroy();
    await eventually(
      () => server.kinesis.fanOut.list().every((s) => s.consumerName !== 'h1'),
      5_000,
      'the dropped HTTP/1.1 subscription to be released',
    );
  });

  it('refuses before streaming, with ordinary 400 responses, what it cannot serve', async () => {
    await createStream(client, 'wire-bad', 1);
    const arn = await registerActive(client, 'wire-bad', 'c');
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [
        { ConsumerARN: `${arn.slice(0, arn.lastIndexOf(':'))}:1`, ShardId: shardId(0), StartingPosition: { Type: 'LATEST' } },
        'ResourceNotFoundException',
        `Consumer ${arn.slice(0, arn.lastIndexOf(':'))}:1 not found.`,
      ],
      [
        { ConsumerARN: arn, ShardId: shardId(7), StartingPosition: { Type: 'LATEST' } },
        'ResourceNotFoundException',
        `Shard ${shardId(7)} in stream wire-bad under account 000000000000 does not exist`,
      ],
      [
        { ConsumerARN: arn, ShardId: shardId(0), StartingPosition: { Type: 'AT_SEQUENCE_NUMBER' } },
        'InvalidArgumentException',
        'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST ' +
          'and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.',
      ],
      [
        { ConsumerARN: arn, ShardId: shardId(0), StartingPosition: { Type: 'AT_TIMESTAMP' } },
        'InvalidArgumentException',
        'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
      ],
      [
        { ConsumerARN: arn, ShardId: shardId(0), StartingPosition: { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: '1'.padEnd(40, '0') } },
        'InvalidArgumentException',
        `StartingSequenceNumber ${'1'.padEnd(40, '0')} used in SubscribeToShard on shard ${shardId(0)} in stream wire-bad under account 000000000000 is invalid.`,
      ],
      [
        { ConsumerARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/wire-bad', ShardId: shardId(0), StartingPosition: { Type: 'LATEST' } },
        'ValidationException',
        "1 validation error detected: Value 'arn:aws:kinesis:us-east-1:000000000000:stream/wire-bad' at 'consumerARN' failed to satisfy " +
          'constraint: Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+',
      ],
    ];
    for (const [input, type, message] of cases) {
      const sub = RawSubscription.open(server.endpoint, JSON.stringify(input));
      await sub.until(() => sub.ended, 5_000, 'the error response');
      assert.equal(sub.status, 400, JSON.stringify(input));
      assert.equal(sub.headers['content-type'], 'application/x-amz-json-1.1');
      assert.deepEqual(JSON.parse(sub.body.toString()), { __type: type, message });
      sub.close();
    }
    assert.equal(server.kinesis.fanOut.list().filter((s) => s.consumerName === 'c').length, 0);
  });

  it('refuses sequence numbers of another shard or stream, and consumers that are not ACTIVE', async () => {
    const refuse = async (endpoint: string, consumer: string, shard: string, position: Record<string, unknown>) => {
      const sub = RawSubscription.open(endpoint, subscribeBody(consumer, shard, position));
      await sub.until(() => sub.ended, 5_000, 'the error');
      sub.close();
      assert.equal(sub.status, 400);
      return JSON.parse(sub.body.toString());
    };
    const clock = new ManualClock(wholeSecond());
    const other = await startTestServer({ consumerDelayMs: 0 }, { clock });
    try {
      const c = other.client();
      await createStream(c, 'wire-seq-a', 2);
      const r = await c.send(
        new PutRecordsCommand({
          StreamName: 'wire-seq-a',
          Records: Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from('x') })),
        }),
      );
      const onShard1 = r.Records!.find((e) => e.ShardId === shardId(1))!.SequenceNumber!;
      clock.advance(1_000);
      await createStream(c, 'wire-seq-b', 2);
      const a = await registerActive(c, 'wire-seq-a', 'seq');
      const b = await registerActive(c, 'wire-seq-b', 'seq');
      assert.deepEqual(await refuse(other.endpoint, a, shardId(0), { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: onShard1 }), {
        __type: 'InvalidArgumentException',
        message: `Invalid StartingSequenceNumber. It encodes ${shardId(1)}, while it was used in a call to a shard with ${shardId(0)}`,
      });
      assert.deepEqual(await refuse(other.endpoint, b, shardId(1), { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: onShard1 }), {
        __type: 'InvalidArgumentException',
        message:
          `StartingSequenceNumber ${onShard1} used in SubscribeToShard on shard ${shardId(1)} in stream wire-seq-b ` +
          'under account 000000000000 is invalid because it did not come from this stream.',
      });
      assert.deepEqual(await refuse(other.endpoint, a, shardId(1), { Type: 'TRIM_HORIZON', SequenceNumber: onShard1 }), {
        __type: 'InvalidArgumentException',
        message:
          'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST ' +
          'and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.',
      });
    } finally {
      await other.destroy();
    }

    const slow = await startTestServer({ consumerDelayMs: 60_000 });
    try {
      const c = slow.client();
      await createStream(c, 'wire-creating', 1);
      const out = await c.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf('wire-creating'), ConsumerName: 'early' }));
      const created = Math.floor(out.Consumer!.ConsumerCreationTimestamp!.getTime() / 1000);
      assert.deepEqual(await refuse(slow.endpoint, out.Consumer!.ConsumerARN!, shardId(0), { Type: 'LATEST' }), {
        __type: 'ResourceInUseException',
        message: `Consumer early with creation timestamp ${created} under stream: wire-creating , account 000000000000 is not in ACTIVE status.`,
      });
      await c.send(new DeregisterStreamConsumerCommand({ ConsumerARN: out.Consumer!.ConsumerARN! }));
      assert.equal(
        (await refuse(slow.endpoint, out.Consumer!.ConsumerARN!, shardId(0), { Type: 'LATEST' })).__type,
        'ResourceInUseException',
        'nor while DELETING',
      );
    } finally {
      await slow.destroy();
    }
  });

  it('ends a subscription with an exception event when its consumer is deregistered or its stream deleted', async () => {
    await createStream(client, 'wire-gone', 1);
    const a = await registerActive(client, 'wire-gone', 'a');
    const b = await registerActive(client, 'wire-gone', 'b');
    const subA = RawSubscription.open(server.endpoint, subscribeBody(a, shardId(0), { Type: 'LATEST' }));
    const subB = RawSubscription.open(server.endpoint, subscribeBody(b, shardId(0), { Type: 'LATEST' }));
    await subA.until(() => subA.messages.length >= 2, 5_000, 'a to start');
    await subB.until(() => subB.messages.length >= 2, 5_000, 'b to start');

    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: a }));
    await subA.until(() => subA.ended, 5_000, 'a to end');
    const lastA = subA.messages.at(-1)!;
    assert.equal(header(lastA, ':message-type'), 'exception');
    assert.equal(header(lastA, ':exception-type'), 'ResourceNotFoundException');
    assert.deepEqual(JSON.parse(lastA.payload.toString()), { message: `Consumer ${a} not found.` });

    await client.send(new DeleteStreamCommand({ StreamName: 'wire-gone', EnforceConsumerDeletion: true }));
    await subB.until(() => subB.ended, 5_000, 'b to end');
    const lastB = subB.messages.at(-1)!;
    assert.equal(header(lastB, ':exception-type'), 'ResourceNotFoundException');
    assert.deepEqual(JSON.parse(lastB.payload.toString()), { message: 'Stream wire-gone under account 000000000000 not found.' });
    subA.close();
    subB.close();
  });

  it('ends the last event of a closed shard with ChildShards and no ContinuationSequenceNumber', async () => {
    await createStream(client, 'wire-closed', 1);
    const arn = await registerActive(client, 'wire-closed', 'c');
    await putTexts(client, 'wire-closed', ['p1', 'p2', 'p3']);
    const sub = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), { Type: 'TRIM_HORIZON' }));
    await sub.until(() => sub.recordCount() >= 3, 5_000, 'the parent records');

    // Close shard 0 and add two children, as a split does, through the service's own document update.
    const k = server.kinesis;
    const stream = await k.resolve({ StreamName: 'wire-closed' });
    const parent = stream.meta.shards[0]!;
    const log = await k.log(stream, stream.shard(0)!);
    const mid = (BigInt(parent.endingHashKey) + 1n) / 2n;
    const now = k.now + 1000;
    await k.update(stream, {
      ...stream.meta,
      shards: [
        { ...parent, closedAt: now, endOffset: log.nextOffset },
        { index: 1, parentIndex: 0, startingHashKey: '0', endingHashKey: (mid - 1n).toString(), createdAt: now },
        { index: 2, parentIndex: 0, startingHashKey: mid.toString(), endingHashKey: parent.endingHashKey, createdAt: now },
      ],
    });
    await sub.until(() => sub.ended, 5_000, 'the parent stream to end');
    const events = sub.jsonEvents();
    const last = events.at(-1)!;
    assert.equal(header(sub.messages.at(-1)!, ':message-type'), 'event', 'a clean end, not an exception');
    assert.equal('ContinuationSequenceNumber' in last, false);
    assert.deepEqual(last.Records, []);
    assert.deepEqual(last.ChildShards, [
      {
        ShardId: shardId(1),
        ParentShards: [shardId(0)],
        HashKeyRange: { StartingHashKey: '0', EndingHashKey: (mid - 1n).toString() },
      },
      {
        ShardId: shardId(2),
        ParentShards: [shardId(0)],
        HashKeyRange: { StartingHashKey: mid.toString(), EndingHashKey: parent.endingHashKey },
      },
    ]);
    for (const e of events.slice(0, -1)) assert.ok(e.ContinuationSequenceNumber && !e.ChildShards);
    assert.deepEqual(eventTexts(events), ['p1', 'p2', 'p3']);

    // A subscription to the closed shard at its end gets the last event at once.
    const other = await registerActive(client, 'wire-closed', 'c2');
    const late = RawSubscription.open(server.endpoint, subscribeBody(other, shardId(0), { Type: 'LATEST' }));
    await late.until(() => late.ended, 5_000, 'the late subscription to end');
    assert.equal(late.status, 200);
    assert.deepEqual(late.jsonEvents().map((e) => e.ChildShards?.length), [2]);
    sub.close();
    late.close();
  });

  it('stops reading for a reader that does not read, and catches up once it does', async () => {
    const fast = await startTestServer({ consumerDelayMs: 0, fanOutReadBytesPerSecond: 0, subscriptionHeartbeatMs: 100 });
    try {
      const c = fast.client();
      await createStream(c, 'wire-slow', 1);
      const arn = await registerActive(c, 'wire-slow', 'slow');
      const chunk = 'z'.repeat(64 * 1024);
      const texts = Array.from({ length: 160 }, (_, i) => `${String(i).padStart(4, '0')}${chunk}`);
      for (let i = 0; i < texts.length; i += 40) await putTexts(c, 'wire-slow', texts.slice(i, i + 40));
      const sub = RawSubscription.open(fast.endpoint, subscribeBody(arn, shardId(0), { Type: 'TRIM_HORIZON' }));
      sub.stream.pause();
      await eventually(() => fast.kinesis.fanOut.list()[0]?.blocked === true, 5_000, 'the subscription to block');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const info = fast.kinesis.fanOut.list()[0]!;
      assert.ok(info.blocked);
      // ~10 MiB written; what the server has read is bounded by the transport's buffers plus one event.
      assert.ok(info.position < 80, `read ${info.position} of 160 records for a reader that reads nothing`);
      sub.stream.resume();
      await sub.until(() => sub.recordCount() >= texts.length, 10_000, 'everything');
      assert.deepEqual(eventTexts(sub.jsonEvents()).map((t) => t.slice(0, 4)), texts.map((t) => t.slice(0, 4)));
      for (const e of sub.jsonEvents()) {
        const bytes = (e.Records as Array<{ Data: string; PartitionKey: string }>).reduce(
          (n, r) => n + Buffer.from(r.Data, 'base64').length + r.PartitionKey.length,
          0,
        );
        assert.ok(bytes <= 2 * 1024 * 1024, `an event carries ${bytes} bytes`);
      }
      sub.close();
      await eventually(() => fast.kinesis.fanOut.count === 0, 5_000, 'release');
    } finally {
      await fast.destroy();
    }
  });

  it('keeps every event to at most 10,000 records', async () => {
    await createStream(client, 'wire-many', 1);
    const arn = await registerActive(client, 'wire-many', 'many');
    const texts = Array.from({ length: 25_000 }, (_, i) => String(i));
    await putTexts(client, 'wire-many', texts);
    const sub = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), { Type: 'TRIM_HORIZON' }));
    await sub.until(() => sub.recordCount() >= texts.length, 15_000, 'every record');
    const sizes = sub.jsonEvents().map((e) => e.Records.length).filter((n: number) => n > 0);
    assert.ok(sizes.every((n: number) => n <= 10_000), `event sizes ${sizes.join(', ')}`);
    assert.ok(sizes.some((n: number) => n === 10_000));
    assert.deepEqual(eventTexts(sub.jsonEvents()), texts);
    sub.close();
  });
});

describe('SubscribeToShard rules that follow the clock', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ consumerDelayMs: 0, subscriptionHeartbeatMs: 50, subscriptionLifetimeMs: 60_000 }, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const refused = async (sub: RawSubscription) => {
    await sub.until(() => sub.ended, 5_000, 'a response');
    sub.close();
    return { status: sub.status, body: sub.status === 200 ? undefined : JSON.parse(sub.body.toString()) };
  };

  it('allows one call per second per consumer and shard, and a takeover only 5 s after a success', async () => {
    await createStream(client, 'clock-rate', 2);
    const arn = await registerActive(client, 'clock-rate', 'rate');
    const body = subscribeBody(arn, shardId(0), { Type: 'LATEST' });
    const first = RawSubscription.open(server.endpoint, body);
    await first.until(() => first.messages.length >= 2, 5_000, 'the first subscription');

    assert.deepEqual(await refused(RawSubscription.open(server.endpoint, body)), {
      status: 400,
      body: {
        __type: 'LimitExceededException',
        message: `Rate exceeded for consumer rate and shard ${shardId(0)} in stream clock-rate under account 000000000000.`,
      },
    });
    // Another shard of the same consumer is another subscription.
    const other = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(1), { Type: 'LATEST' }));
    await other.until(() => other.messages.length >= 2, 5_000, 'the other shard');
    assert.equal(other.status, 200);

    clock.advance(1_000);
    assert.deepEqual(await refused(RawSubscription.open(server.endpoint, body)), {
      status: 400,
      body: {
        __type: 'ResourceInUseException',
        message: `Another active subscription exists for this consumer: 000000000000:clock-rate:${shardId(0)}:rate`,
      },
    });
    clock.advance(1_000);
    assert.equal((await refused(RawSubscription.open(server.endpoint, body))).body.__type, 'ResourceInUseException');
    assert.equal((await refused(RawSubscription.open(server.endpoint, body))).body.__type, 'LimitExceededException');

    clock.advance(3_000);
    const second = RawSubscription.open(server.endpoint, body);
    await second.until(() => second.messages.length >= 2, 5_000, 'the takeover');
    assert.equal(second.status, 200);
    await first.until(() => first.ended, 5_000, 'the first subscription to end');
    const last = first.messages.at(-1)!;
    assert.equal(header(last, ':message-type'), 'exception');
    assert.equal(header(last, ':exception-type'), 'ResourceInUseException');
    const live = server.kinesis.fanOut.list().filter((s) => s.streamKey.startsWith('clock-rate~'));
    assert.equal(live.length, 2, 'one subscription per consumer and shard');
    for (const s of [first, second, other]) s.close();
  });

  it('starts where each StartingPosition type says, as GetShardIterator does', async () => {
    await createStream(client, 'clock-pos', 1);
    const arn = await registerActive(client, 'clock-pos', 'pos');
    const t0 = clock.now();
    const seqs: string[] = [];
    for (let i = 0; i < 6; i++) {
      clock.advance(1_000);
      seqs.push(
        (await client.send(new PutRecordCommand({ StreamName: 'clock-pos', PartitionKey: 'k', Data: Buffer.from(`r${i}`) })))
          .SequenceNumber!,
      );
    }
    const from = async (position: Record<string, unknown>): Promise<string[]> => {
      clock.advance(5_000);
      const sub = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), position));
      await sub.until(() => sub.jsonEvents().length >= 1, 5_000, JSON.stringify(position));
      assert.equal(sub.status, 200, sub.body.toString());
      sub.close();
      return eventTexts(sub.jsonEvents().slice(0, 1));
    };
    assert.deepEqual(await from({ Type: 'TRIM_HORIZON' }), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(await from({ Type: 'LATEST' }), []);
    assert.deepEqual(await from({ Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: seqs[3] }), ['r3', 'r4', 'r5']);
    assert.deepEqual(await from({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqs[3] }), ['r4', 'r5']);
    assert.deepEqual(await from({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: seqs[5] }), []);
    assert.deepEqual(await from({ Type: 'AT_TIMESTAMP', Timestamp: (t0 + 3_000) / 1000 }), ['r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(await from({ Type: 'AT_TIMESTAMP', Timestamp: (t0 - 60_000) / 1000 }), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(await from({ Type: 'AT_TIMESTAMP', Timestamp: clock.now() / 1000 }), []);

    clock.advance(5_000);
    const future = RawSubscription.open(
      server.endpoint,
      subscribeBody(arn, shardId(0), { Type: 'AT_TIMESTAMP', Timestamp: (clock.now() + 10_000) / 1000 }),
    );
    assert.deepEqual((await refused(future)).body, {
      __type: 'InvalidArgumentException',
      message:
        'The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. ' +
        `timestampInMillis: ${clock.now() + 10_000}, currentTimestampInMillis: ${clock.now()}`,
    });
    clock.advance(5_000);
    const both = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), { Type: 'LATEST', SequenceNumber: seqs[0] }));
    assert.equal((await refused(both)).body.__type, 'InvalidArgumentException');
  });

  it('ends cleanly when its lifetime is over', async () => {
    await createStream(client, 'clock-life', 1);
    const arn = await registerActive(client, 'clock-life', 'life');
    const sub = RawSubscription.open(server.endpoint, subscribeBody(arn, shardId(0), { Type: 'LATEST' }));
    await sub.until(() => sub.messages.length >= 3, 5_000, 'a few heartbeats');
    clock.advance(59_000);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(sub.ended, false, 'still open before the lifetime is over');
    clock.advance(1_000);
    await sub.until(() => sub.ended, 5_000, 'the end of the subscription');
    assert.equal(header(sub.messages.at(-1)!, ':event-type'), 'SubscribeToShardEvent', 'no exception, a clean end');
    await eventually(() => !server.kinesis.fanOut.list().some((s) => s.consumerName === 'life'), 5_000, 'release');
    sub.close();
  });

  it('limits what each consumer reads from a shard to its own 2 MiB per second', async () => {
    const limited = await startTestServer({ consumerDelayMs: 0, subscriptionHeartbeatMs: 50, limits: 'on' }, { clock });
    try {
      const c = limited.client();
      await createStream(c, 'clock-rate-limit', 1);
      const arns = [await registerActive(c, 'clock-rate-limit', 'one'), await registerActive(c, 'clock-rate-limit', 'two')];
      const record = 'r'.repeat(100 * 1024 - 1);
      await putTexts(c, 'clock-rate-limit', Array.from({ length: 60 }, () => record));
      const subs = arns.map((a) => RawSubscription.open(limited.endpoint, subscribeBody(a, shardId(0), { Type: 'TRIM_HORIZON' })));
      const count = (s: RawSubscription) => s.recordCount();
      for (const s of subs) await s.until(() => count(s) >= 21, 5_000, 'the first second of data');
      // Heartbeats keep coming while the allowance is used up, and say how far behind the reader is.
      for (const s of subs) await s.until(() => s.jsonEvents().length >= 5, 5_000, 'heartbeats');
      for (const s of subs) {
        assert.equal(count(s), 21, 'one second of reading: 2 MiB, and the record that crosses it');
        assert.ok(s.jsonEvents().at(-1)!.MillisBehindLatest > 0);
      }
      clock.advance(1_000);
      for (const s of subs) await s.until(() => count(s) >= 41, 5_000, 'the next second');
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const s of subs) assert.equal(count(s), 41);
      clock.advance(10_000);
      for (const s of subs) await s.until(() => count(s) >= 60, 5_000, 'the rest');
      for (const s of subs) s.close();
    } finally {
      await limited.destroy();
    }
  });
});
