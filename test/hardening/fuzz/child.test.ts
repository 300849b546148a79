import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { dynamoDbShapes } from '../../../src/dynamodb/shapes.js';
import { removeDir, spawnServer, tempDir, type ChildServer } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { commandArb, compareWithModel, Model, ValidClient } from '../generators/model.js';
import { anyOperationCase, serviceCase, type OperationCase } from '../generators/requests.js';
import { expectVerdict, CBOR_TYPE, Http1Pool, inParallel, JSON_TYPE, parseResponse, SIGNED_HEADERS, DYNAMODB_SIGNED_HEADERS, type HttpResponse } from '../generators/wire.js';
import { fuzzSeed } from './seed.js';

/**
 * The whole mix against `tributary serve` running as a child process, so that a crash shows as an
 * exit: generated requests to every Kinesis and DynamoDB operation, and HTTP/1.1 that is broken
 * below the request (garbage bytes, conflicting lengths, bad chunking, oversized headers,
 * pipelining, bodies cut off by FIN, bodies over the size limit). The process never exits, every
 * connection that sent a whole request gets an answer, and the state is the valid requests' own.
 */

const MAX_BODY = 256 * 1024;
let child: ChildServer;
let dataDir: string;
let valid: ValidClient;
let pool: Http1Pool;
let sent = 0;
const seed = fuzzSeed();

before(async () => {
  dataDir = tempDir('tributary-fuzz-');
  child = await spawnServer(dataDir, ['--max-body-bytes', String(MAX_BODY)]);
  valid = new ValidClient(new Http1Pool(child.port, 30_000), new Model());
  pool = new Http1Pool(child.port, 15_000);
  await valid.createStream('fz-a', 2);
  await valid.createStream('fz-b', 1, { owner: 'fuzz' });
});

after(async () => {
  valid?.pool.close();
  pool?.close();
  if (child && child.child.exitCode === null) {
    child.child.kill('SIGTERM');
    await child.exited;
  }
  removeDir(dataDir);
});

function alive(): void {
  assert.equal(child.child.exitCode, null, 'the server process is still running');
  assert.equal(child.child.signalCode, null, 'the server process was not killed');
}

type Raw = { name: string; bytes: Buffer; end: boolean; expect: 'answers' | 'closes' | number };

/** HTTP/1.1 broken below the request, with what must happen. */
function rawCases(port: number): fc.Arbitrary<Raw> {
  const host = `127.0.0.1:${port}`;
  const auth = SIGNED_HEADERS.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = (extra: string) => `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${JSON_TYPE}\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n${auth}${extra}`;
  const ok = (body = '{}') => head(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`) + body;
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => ({ name: 'random bytes', bytes: Buffer.from(a), end: true, expect: 'closes' as const })),
    fc.constantFrom(
      'GET',
      'POST / HTTP/9.9\r\n\r\n',
      'POST  / HTTP/1.1\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\n X-Folded: y\r\n\r\n',
      'POST / HTTP/1.1\nHost: x\n\n',
      '\r\n\r\n\r\n',
    ).map((t) => ({ name: `malformed: ${JSON.stringify(t).slice(0, 60)}`, bytes: Buffer.from(t, 'latin1'), end: true, expect: 'closes' as const })),
    fc.integer({ min: 70_000, max: 200_000 }).map((n) => ({
      name: `a ${n}-byte header`,
      bytes: Buffer.from(head(`X-Huge: ${'h'.repeat(n)}\r\nContent-Length: 2\r\n\r\n{}`)),
      end: false,
      expect: 431,
    })),
    fc.integer({ min: 1, max: 5 }).map((n) => ({
      name: `${n} pipelined requests`,
      bytes: Buffer.from(Array.from({ length: n }, () => ok()).join('')),
      end: false,
      expect: 'answers' as const,
    })),
    fc.constant({ name: 'HTTP/1.0', bytes: Buffer.from(ok().replace('HTTP/1.1', 'HTTP/1.0')), end: false, expect: 'answers' as const }),
    fc.integer({ min: 1, max: 100 }).map((cut) => ({
      name: 'a body cut off by FIN',
      bytes: Buffer.from(head(`Content-Length: ${cut + 50}\r\n\r\n`) + '{'.repeat(cut)),
      end: true,
      expect: 'closes' as const,
    })),
    fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 2 }).map((n) => ({
      name: `a ${n}-byte body`,
      bytes: Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\n\r\n`)), Buffer.alloc(n, 0x20)]),
      end: false,
      expect: 413,
    })),
  );
}

/** Sends raw bytes on a new connection; collects every response until the server closes or `ms` pass. */
function rawExchange(bytes: Buffer, end: boolean, want: number, ms = 10_000): Promise<{ responses: HttpResponse[]; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: child.port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const responses: HttpResponse[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    const parse = (atEnd: boolean) => {
      for (;;) {
        let r;
        try {
          r = parseResponse(buf, atEnd);
        } catch {
          return;
        }
        if (!r) return;
        responses.push(r.response);
        buf = buf.subarray(r.used);
      }
    };
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      parse(false);
      if (responses.length >= want && !end) finish(false);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      parse(true);
      finish(true);
    });
    if (end) socket.end(bytes);
    else socket.write(bytes);
  });
}

async function checkRaw(r: Raw): Promise<void> {
  const want = r.expect === 'answers' ? (r.name.match(/^(\d+) pipelined/) ? Number(r.name.split(' ')[0]) : 1) : 1;
  const { responses, closed } = await rawExchange(r.bytes, r.end, want);
  sent++;
  for (const res of responses) assert.ok(res.status < 500, `${r.name}: never a 5xx (${res.status})`);
  if (r.expect === 'answers') {
    assert.equal(responses.length, want, `${r.name}: every request answered`);
    for (const res of responses) assert.equal(res.status, 200, `${r.name}: ${res.body.toString('utf8')}`);
  } else if (r.expect === 'closes') {
    assert.ok(closed, `${r.name}: the server closes the connection (${responses.map((x) => x.status).join(',')})`);
    for (const res of responses) assert.ok(res.status >= 400, `${r.name}: refused (${res.status})`);
  } else {
    assert.equal(responses[0]?.status, r.expect, `${r.name}: answered ${r.expect}`);
    if (r.expect === 413) assert.ok(responses[0]!.headers['x-amzn-requestid'], `${r.name}: a request id`);
  }
}

async function checkCase(c: OperationCase & { prefix?: string }): Promise<void> {
  const prefix = c.prefix ?? 'Kinesis_20131202';
  const contentType = c.format === 'json' ? (prefix.startsWith('DynamoDB') ? 'application/x-amz-json-1.0' : JSON_TYPE) : CBOR_TYPE;
  const what = `${prefix}.${c.operation} (${c.format}, ${c.how}) body ${c.body.subarray(0, 120).toString('hex')}`;
  const res = await pool
    .send({ headers: [['Content-Type', contentType], ['X-Amz-Target', `${prefix}.${c.operation}`], ...(prefix.startsWith('DynamoDB') ? DYNAMODB_SIGNED_HEADERS : SIGNED_HEADERS)], body: c.body })
    .catch((err: Error) => {
      throw new Error(`${err.message}: ${what}`);
    });
  sent++;
  expectVerdict(res, c.verdict, c.format, c.how, what);
}

test('a child server survives the whole mix and keeps only what valid requests made', async (t) => {
  const started = Date.now();
  const total = scale(4000, 300_000);
  const kinesis = anyOperationCase({ streams: ['fz-a', 'fz-b'] }, 3000);
  const dynamo = fc.oneof(...[...dynamoDbShapes.keys()].map((op) => serviceCase('DynamoDB_20120810', dynamoDbShapes, op, 3000)));
  const raw = rawCases(child.port);
  type Item = { kind: 'case'; c: OperationCase } | { kind: 'raw'; r: Raw };
  const mix: fc.Arbitrary<Item> = fc.oneof(
    { weight: 12, arbitrary: kinesis.map((c) => ({ kind: 'case' as const, c })) },
    { weight: 5, arbitrary: dynamo.map((c) => ({ kind: 'case' as const, c })) },
    { weight: 3, arbitrary: raw.map((r) => ({ kind: 'raw' as const, r })) },
  );
  const commands = commandArb(['fz-a', 'fz-b']);
  let batches = 0;
  for (let done = 0; done < total; done += 200) {
    const items = fc.sample(mix, { seed: seed + done, numRuns: Math.min(200, total - done) });
    const [command] = fc.sample(commands, { seed: seed - done, numRuns: 1 });
    await Promise.all([
      valid.run(command!),
      inParallel(items, 4, (item) => (item.kind === 'case' ? checkCase(item.c) : checkRaw(item.r))),
    ]);
    alive();
    batches++;
  }
  const { records } = await compareWithModel(valid);
  alive();
  t.diagnostic(`seed ${seed}; ${sent} requests and connections, ${batches} valid commands, ${records} records compared, ${Date.now() - started} ms`);
});

test('count', (t) => {
  t.diagnostic(`generated requests sent in this file: ${sent}`);
  assert.ok(sent >= scale(4000, 300_000));
});
