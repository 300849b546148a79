import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { commandArb, compareWithModel, Model, ValidClient, arnOf } from '../generators/model.js';
import { anyOperationCase, OPERATIONS, operationCase, type OperationCase } from '../generators/requests.js';
import { CBOR_TYPE, Http1Pool, JSON_TYPE, expectVerdict, inParallel, kinesisRequest, type HttpResponse } from '../generators/wire.js';
import { fuzzSeed } from './seed.js';

/**
 * Generated requests to every Kinesis operation over raw HTTP/1.1 keep-alive connections,
 * interleaved with a known sequence of valid requests; at the end the server's streams, tags,
 * retention and records are those the valid requests alone make.
 */

let server: TestServer;
let valid: ValidClient;
let fuzzPool: Http1Pool;
let sent = 0;
let accidentallyValid = 0;
const outcomes = new Map<string, number>();
const seed = fuzzSeed();
const FIXED = ['fz-a', 'fz-b'];

before(async () => {
  server = await startTestServer();
  valid = new ValidClient(new Http1Pool(server.port, 30_000), new Model());
  fuzzPool = new Http1Pool(server.port, 15_000);
  await valid.createStream('fz-a', 2, { team: 'edge' });
  await valid.createStream('fz-b', 1);
});

after(async () => {
  valid.pool.close();
  fuzzPool.close();
  await server.destroy();
});

/** Sends one case and checks the answer against what the server's own codec says of the body. */
async function check(c: OperationCase): Promise<void> {
  const what = `${c.operation} (${c.format}, ${c.how}) body ${c.body.subarray(0, 160).toString('hex')}`;
  const t0 = Date.now();
  const res: HttpResponse = await fuzzPool.send(kinesisRequest(c.operation, c.body, c.format === 'json' ? JSON_TYPE : CBOR_TYPE)).catch((err: Error) => {
    throw new Error(`${err.message} after ${Date.now() - t0} ms: ${what}`);
  });
  sent++;
  const key = `${res.status} ${res.headers['x-amzn-errortype'] ?? ''}`;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  if (c.verdict.valid) accidentallyValid++;
  expectVerdict(res, c.verdict, c.format, c.how, what);
}

test('every operation refuses its generated invalid requests with the validator’s own error', async (t) => {
  const perOperation = scale(80, 4000);
  for (const operation of OPERATIONS) {
    const arb = operationCase(operation, { streams: FIXED }, 3000);
    for (let done = 0; done < perOperation; done += 500) {
      const cases = fc.sample(arb, { seed: seed + operation.length + done, numRuns: Math.min(500, perOperation - done) });
      await inParallel(cases, 4, check);
    }
  }
  t.diagnostic(`seed ${seed}; ${OPERATIONS.length} operations × ${perOperation} requests`);
});

test('generated garbage interleaved with valid requests leaves exactly the state the valid ones make', async (t) => {
  const started = Date.now();
  const before = sent;
  // Real iterators and a real consumer, for the generators to aim at (and to damage).
  const iterators: string[] = [];
  for (const stream of FIXED) {
    const r = await valid.call('GetShardIterator', { StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' });
    iterators.push(r.ShardIterator as string);
  }
  const consumer = await valid.call('RegisterStreamConsumer', { StreamARN: arnOf('fz-a'), ConsumerName: 'fz-consumer' });
  const targets = { streams: FIXED, iterators, consumers: [consumer.Consumer.ConsumerARN as string] };

  const steps = scale(150, 5000);
  const perStep = scale(50, 150);
  const commands = fc.sample(commandArb(FIXED), { seed, numRuns: steps });
  const garbage = anyOperationCase(targets, 3000);
  for (let i = 0; i < steps; i++) {
    const batch = fc.sample(garbage, { seed: seed + 1 + i, numRuns: perStep });
    await Promise.all([valid.run(commands[i]!), inParallel(batch, 3, check)]);
  }
  const { records } = await compareWithModel(valid);
  t.diagnostic(
    `seed ${seed}; ${steps} valid commands, ${sent - before} generated requests, ${records} records compared, ${Date.now() - started} ms`,
  );
});

test('count', (t) => {
  t.diagnostic(`generated requests sent in this file: ${sent} (connections closed by the server: ${fuzzPool.closedByServer})`);
  t.diagnostic(`valid at the edge (made harmless or read-only): ${accidentallyValid}`);
  t.diagnostic(`answers: ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(', ')}`);
  assert.ok(sent >= scale(5000, 100_000));
});
