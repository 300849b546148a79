import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { Writable } from 'node:stream';
import pino from 'pino';
import { defaultConfig } from '../../../src/settings/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { engineConfig, removeDir, tempDir } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { arnOf, Model, ValidClient } from '../generators/model.js';
import { anyOperationCase, type OperationCase } from '../generators/requests.js';
import { CBOR_TYPE, expectVerdict, Http1Pool, inParallel, JSON_TYPE, kinesisRequest } from '../generators/wire.js';
import { fuzzSeed } from './seed.js';

/**
 * Generated requests that are allowed to act: those that come out valid run against real streams
 * (splits, merges, shard counts, encryption, monitoring, tags, retention, records, consumers...),
 * so that the operations themselves meet odd but well-formed input. Nothing is compared with a
 * model here; every answer must be a success or an AWS client error, and afterwards every stream
 * still describes and reads end to end.
 */

let server: RunningServer;
let dataDir: string;
/** What the server logged at error level: the stack behind any 5xx. */
const serverErrors: string[] = [];
let valid: ValidClient;
let pool: Http1Pool;
let sent = 0;
const succeeded = new Map<string, number>();
const seed = fuzzSeed();
const STREAMS = ['fz-live-a', 'fz-live-b'];

before(async () => {
  dataDir = tempDir('tributary-fuzz-live-');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      serverErrors.push(chunk.toString('utf8'));
      if (serverErrors.length > 50) serverErrors.shift();
      done();
    },
  });
  server = await startServer(
    { ...defaultConfig, port: 0, s3Port: 0, host: '127.0.0.1', dataDir, createStreamDelayMs: 0, deleteStreamDelayMs: 0, limits: 'off', ...(await engineConfig(dataDir)) },
    { logger: pino({ level: 'error' }, sink) },
  );
  valid = new ValidClient(new Http1Pool(server.port, 30_000), new Model());
  pool = new Http1Pool(server.port, 15_000);
  await valid.createStream('fz-live-a', 3);
  await valid.createStream('fz-live-b', 1);
});

after(async () => {
  valid.pool.close();
  pool.close();
  await server.close();
  removeDir(dataDir);
});

async function check(c: OperationCase): Promise<void> {
  const what = `${c.operation} (${c.format}, ${c.how}) body ${c.body.subarray(0, 200).toString(c.format === 'json' ? 'utf8' : 'hex')}`;
  const res = await pool.send(kinesisRequest(c.operation, c.body, c.format === 'json' ? JSON_TYPE : CBOR_TYPE)).catch((err: Error) => {
    throw new Error(`${err.message}: ${what}`);
  });
  sent++;
  if (res.status >= 500) assert.fail(`${what}: ${res.status} ${res.body.toString('utf8')}\nserver log:\n${serverErrors.join('')}`);
  if (res.status === 200) succeeded.set(c.operation, (succeeded.get(c.operation) ?? 0) + 1);
  expectVerdict(res, c.verdict, c.format, c.how, what);
}

test('valid generated requests act on real streams and never fail the server', async (t) => {
  const started = Date.now();
  const total = scale(3000, 150_000);
  const consumer = await valid.call('RegisterStreamConsumer', { StreamARN: arnOf('fz-live-a'), ConsumerName: 'fz-live' });
  const arb = anyOperationCase({ streams: STREAMS, consumers: [consumer.Consumer.ConsumerARN as string] }, 1000, 'live');
  for (let done = 0; done < total; done += 250) {
    await inParallel(fc.sample(arb, { seed: seed + done, numRuns: Math.min(250, total - done) }), 3, check);
  }
  // Whatever the requests did, every stream still describes, lists its shards and reads to the end.
  const names = (await valid.call('ListStreams', { Limit: 1000 })).StreamNames as string[];
  for (const name of names) {
    await valid.call('DescribeStream', { StreamName: name });
    const shards = (await valid.call('ListShards', { StreamName: name })).Shards as Array<{ ShardId: string }>;
    for (const s of shards) {
      let it = (await valid.call('GetShardIterator', { StreamName: name, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator as string | undefined;
      for (let i = 0; it && i < 1000; i++) {
        const r = await valid.call('GetRecords', { ShardIterator: it, Limit: 10_000 });
        if ((r.Records as unknown[]).length === 0 && (r.MillisBehindLatest === 0 || r.NextShardIterator === undefined)) break;
        it = r.NextShardIterator as string | undefined;
      }
    }
  }
  assert.ok(names.length >= 1);
  t.diagnostic(`succeeded: ${[...succeeded].map(([op, n]) => `${op}×${n}`).join(', ')}`);
  t.diagnostic(`seed ${seed}; ${sent} requests, ${names.length} streams at the end, ${Date.now() - started} ms`);
});
