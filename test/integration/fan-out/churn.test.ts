import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { PutRecordsCommand, SubscribeToShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { eventually, RawSubscription, registerActive, subscribeBody } from '../../helpers/fan-out.js';
import { createStream, shardId, wholeSecond } from '../../helpers/kinesis.js';
import { SIGNED } from '../../helpers/raw.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const SHARDS = 4;
const CONSUMERS = 6;
const ROUNDS = 3;
const LIFETIME_MS = 1_000;

type Mode = 'destroy-session' | 'reset-stream' | 'never-read' | 'reset-before-response' | 'http1-destroy' | 'sdk-abort';
const MODES: Mode[] = ['destroy-session', 'reset-stream', 'never-read', 'reset-before-response', 'http1-destroy', 'sdk-abort'];

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('abandoned and malformed subscriptions', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer(
      { consumerDelayMs: 0, subscriptionHeartbeatMs: 50, subscriptionLifetimeMs: LIFETIME_MS, fanOutReadBytesPerSecond: 0 },
      { clock },
    );
    client = server.client();
  });
  after(() => server.destroy());

  it('releases every subscription, timer and gate however the client goes away', async () => {
    await createStream(client, 'churn', SHARDS);
    const arns: string[] = [];
    for (let c = 0; c < CONSUMERS; c++) arns.push(await registerActive(client, 'churn', `c${c}`));
    // Enough data in every shard that a reader which stops reading fills its window.
    const blob = Buffer.alloc(32 * 1024, 7);
    for (let i = 0; i < 8; i++) {
      await client.send(
        new PutRecordsCommand({
          StreamName: 'churn',
          Records: Array.from({ length: 40 }, (_, j) => ({ PartitionKey: `k${i}-${j}`, Data: blob })),
        }),
      );
    }
    const baselineTimeouts = timeouts();
    const url = new URL(server.endpoint);
    const neverRead: RawSubscription[] = [];
    const leftovers: Array<() => void> = [];
    let opened = 0;
    let peak = 0;

    for (let round = 0; round < ROUNDS; round++) {
      clock.advance(5_000);
      const pending: Promise<void>[] = [];
      let n = 0;
      for (const arn of arns) {
        for (let s = 0; s < SHARDS; s++) {
          const mode = MODES[(n++ + round) % MODES.length]!;
          const body = subscribeBody(arn, shardId(s), { Type: 'TRIM_HORIZON' });
          opened++;
          pending.push(
            (async () => {
              switch (mode) {
                case 'destroy-session': {
                  const sub = RawSubscription.open(server.endpoint, body);
                  await sub.until(() => sub.messages.length >= 2, 5_000, 'data');
                  sub.session.destroy();
                  return;
                }
                case 'reset-stream': {
                  const sub = RawSubscription.open(server.endpoint, body);
                  await sub.until(() => sub.messages.length >= 1, 5_000, 'the initial response');
                  sub.stream.close(http2.constants.NGHTTP2_CANCEL);
                  leftovers.push(() => sub.session.destroy());
                  return;
                }
                case 'never-read': {
                  const sub = RawSubscription.open(server.endpoint, body);
                  sub.stream.pause();
                  neverRead.push(sub);
                  return;
                }
                case 'reset-before-response': {
                  const session = http2.connect(server.endpoint);
                  session.on('error', () => {});
                  const stream = session.request({
                    ':method': 'POST',
                    ':path': '/',
                    'content-type': 'application/x-amz-json-1.1',
                    'x-amz-target': 'Kinesis_20131202.SubscribeToShard',
                    ...SIGNED,
                  });
                  stream.on('error', () => {});
                  stream.end(body);
                  stream.close(http2.constants.NGHTTP2_CANCEL);
                  leftovers.push(() => session.destroy());
                  return;
                }
                case 'http1-destroy': {
                  await new Promise<void>((resolve) => {
                    const req = http.request({
                      host: url.hostname,
                      port: url.port,
                      method: 'POST',
                      path: '/',
                      agent: false,
                      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.SubscribeToShard', ...SIGNED },
                    });
                    req.on('error', () => resolve());
                    req.on('response', (res) => {
                      res.once('data', () => {
                        res.destroy();
                        resolve();
                      });
                    });
                    req.end(body);
                  });
                  return;
                }
                case 'sdk-abort': {
                  const abort = new AbortController();
                  const out = await client.send(
                    new SubscribeToShardCommand({ ConsumerARN: arn, ShardId: shardId(s), StartingPosition: { Type: 'TRIM_HORIZON' } }),
                    { abortSignal: abort.signal },
                  );
                  const it = out.EventStream![Symbol.asyncIterator]();
                  await it.next();
                  abort.abort();
                  return;
                }
              }
            })(),
          );
        }
      }
      // Malformed requests on the same port: a body that is not JSON, a body cut off by a reset.
      for (let i = 0; i < 4; i++) {
        const bad = RawSubscription.open(server.endpoint, '{"ConsumerARN": ');
        pending.push(bad.until(() => bad.ended, 5_000, 'the 400').then(() => bad.close()));
        const session = http2.connect(server.endpoint);
        session.on('error', () => {});
        const cut = session.request({
          ':method': 'POST',
          ':path': '/',
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Kinesis_20131202.SubscribeToShard',
          ...SIGNED,
        });
        cut.on('error', () => {});
        cut.write('{"ConsumerARN":"');
        setTimeout(() => session.destroy(), 20);
      }
      await Promise.all(pending);
      peak = Math.max(peak, server.kinesis.fanOut.count);
      // Whatever was dropped is released at once; what is still open but unread lives until its lifetime ends.
      await eventually(
        () => server.kinesis.fanOut.count <= neverRead.filter((s) => !s.closed).length,
        5_000,
        'dropped subscriptions to be released',
      );
    }
    assert.equal(opened, ROUNDS * CONSUMERS * SHARDS);
    assert.ok(peak > 0);
    assert.ok(neverRead.length > 0);
    // The last round's unread subscriptions are still open, and stopped reading at a full window.
    const stalled = server.kinesis.fanOut.list();
    assert.ok(stalled.length > 0);
    assert.ok(stalled.every((s) => s.blocked), JSON.stringify(stalled));

    // The subscriptions nobody reads end with their lifetime, and their streams are dropped.
    clock.advance(LIFETIME_MS);
    await eventually(() => server.kinesis.fanOut.count === 0, 5_000, 'every subscription to be released');
    await eventually(() => server.kinesis.fanOut.timers === 0, 5_000, 'every timer to be cleared');
    const stats = server.kinesis.fanOut.stats();
    assert.deepEqual({ subscriptions: stats.subscriptions, timers: stats.timers }, { subscriptions: 0, timers: 0 });
    assert.ok(stats.gates <= CONSUMERS * SHARDS, `${stats.gates} admission records for ${CONSUMERS * SHARDS} pairs`);
    for (const sub of neverRead) sub.close();
    for (const fn of leftovers) fn();
    await eventually(() => timeouts() <= baselineTimeouts, 5_000, 'process timers back to where they were');
  });
});
