import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { removeDir, startTestServer, tempDir, type TestServer } from '../../helpers/server.js';
import { signPost } from '../../helpers/sigv4.js';
import { scale } from '../scale.js';
import { edgeCase, type EdgeCase } from '../generators/edge.js';
import { compareWithModel, Model, ValidClient } from '../generators/model.js';
import { anyOperationCase } from '../generators/requests.js';
import { assertAwsRefusal, CBOR_TYPE, expectVerdict, Http1Pool, inParallel, JSON_TYPE, kinesisRequest } from '../generators/wire.js';
import { fuzzSeed } from './seed.js';

/**
 * Requests broken in their headers (content types, targets, signatures, methods, paths, repeated
 * and oversized headers, chunked bodies) over raw HTTP/1.1 keep-alive connections: each gets the
 * answer AWS gives, in the shape AWS gives it, and none changes the server's state.
 */

let server: TestServer;
let valid: ValidClient;
let pool: Http1Pool;
let sent = 0;
const seed = fuzzSeed();

before(async () => {
  server = await startTestServer();
  valid = new ValidClient(new Http1Pool(server.port, 30_000), new Model());
  pool = new Http1Pool(server.port, 15_000);
  await valid.createStream('fz-a', 2, { kept: 'yes' });
  await valid.run({ op: 'put', stream: 'fz-a', partitionKey: 'k', data: 'AAEC' });
});

after(async () => {
  valid.pool.close();
  pool.close();
  await server.destroy();
});

async function check(c: EdgeCase): Promise<void> {
  const t0 = Date.now();
  const res = await pool.send(c.request).catch((err: Error) => {
    throw new Error(`${err.message} after ${Date.now() - t0} ms: ${c.how}`);
  });
  sent++;
  const what = `${c.how}: ${res.status} ${res.body.subarray(0, 200).toString('utf8')}`;
  assert.ok(res.status < 500, `never a 5xx: ${what}`);
  if (c.expected.anyAnswer) {
    if (res.status !== 200) assertAwsRefusal(res, c.how);
    return;
  }
  const err = assertAwsRefusal(res, c.how);
  assert.equal(res.status, c.expected.status, what);
  if (c.expected.xml) {
    assert.ok(res.body.toString('utf8').includes(c.expected.type!), what);
    return;
  }
  if (c.expected.types) assert.ok(c.expected.types.includes(err!.type), what);
  else assert.equal(err?.type, c.expected.type, what);
  if (c.expected.message) assert.equal(err?.message, c.expected.message, what);
}

test('requests broken in their headers get AWS’s answers and change nothing', async (t) => {
  const started = Date.now();
  const total = scale(5000, 200_000);
  const arb = edgeCase({ streams: ['fz-a'] }, 2000);
  const batch = 200;
  for (let done = 0; done < total; done += batch) {
    await inParallel(fc.sample(arb, { seed: seed + done, numRuns: Math.min(batch, total - done) }), 4, check);
  }
  const { records } = await compareWithModel(valid);
  assert.equal(records, 1);
  t.diagnostic(`seed ${seed}; ${sent} requests in ${Date.now() - started} ms; connections closed by the server: ${pool.closedByServer}`);
});

test('the same connection keeps serving after every kind of refusal', async () => {
  const conns = new Http1Pool(server.port, 15_000);
  try {
    const broken = fc.sample(edgeCase({ streams: ['fz-a'] }, 500), { seed, numRuns: 50 });
    for (const c of broken) {
      await conns.send(c.request);
      sent++;
      const ok = await conns.send(kinesisRequest('ListStreams', Buffer.from('{}')));
      sent++;
      assert.equal(ok.status, 200, c.how);
    }
    assert.equal(conns.closedByServer, 0, 'no refusal closes the connection');
  } finally {
    conns.close();
  }
});


test('with a credentials file: signed generated requests get the validator’s errors, broken ones AWS’s refusals', async (t) => {
  const dir = tempDir('tributary-fuzz-auth-');
  const file = path.join(dir, 'credentials.json');
  writeFileSync(
    file,
    JSON.stringify([
      {
        accessKeyId: 'AKIDFUZZ',
        secretAccessKey: 'fuzz-secret',
        principal: 'fuzzer',
        policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
      },
    ]),
  );
  const verified = await startTestServer({ credentials: file });
  const vpool = new Http1Pool(verified.port, 15_000);
  const host = `127.0.0.1:${verified.port}`;
  try {
    const total = scale(1000, 50_000);
    const signed = anyOperationCase({ streams: ['fz-a'] }, 1500);
    const broken = edgeCase({ streams: ['fz-a'] }, 500);
    for (let done = 0; done < total; done += 200) {
      const n = Math.min(200, total - done);
      const cases = fc.sample(signed, { seed: seed + done, numRuns: n / 2 });
      await inParallel(cases, 4, async (c) => {
        const contentType = c.format === 'json' ? JSON_TYPE : CBOR_TYPE;
        const parts = await signPost(host, `Kinesis_20131202.${c.operation}`, c.body, { accessKeyId: 'AKIDFUZZ', secretAccessKey: 'fuzz-secret' }, { 'content-type': contentType });
        const headers = Object.entries(parts.headers).filter(([k]) => k !== 'host');
        const what = `signed ${c.operation} (${c.format}, ${c.how})`;
        const res = await vpool.send({ path: parts.path, headers, body: c.body });
        sent++;
        expectVerdict(res, c.verdict, c.format, c.how, what);
      });
      await inParallel(fc.sample(broken, { seed: seed - done, numRuns: n / 2 }), 4, async (c) => {
        const res = await vpool.send(c.request);
        sent++;
        assert.ok(res.status < 500, `never a 5xx: ${c.how}: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
        if (res.status !== 200) assertAwsRefusal(res, c.how);
      });
    }
    t.diagnostic(`${total} requests to a server that verifies signatures`);
  } finally {
    vpool.close();
    await verified.destroy();
    removeDir(dir);
  }
});

test('count', (t) => {
  t.diagnostic(`generated requests sent in this file: ${sent}`);
  assert.ok(sent >= scale(5000, 200_000));
});
