import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutRecordCommand, StartStreamEncryptionCommand } from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { defaultConfig } from '../../src/settings/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createStream, readShard, shardId, texts } from '../helpers/kinesis.js';
import { registerActive, SdkSubscription } from '../helpers/fan-out.js';
import { h2c, SIGNED } from '../helpers/raw.js';
import { kinesisClient, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const TIMEOUTS = { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 400 };
/** Upper bound for any cut-off below: well past the timeouts, well under a test's patience. */
const BOUND_MS = 3_000;

interface Outcome {
  /** Milliseconds from connecting until the server closed the connection. */
  ms: number;
  reply: string;
  /** Bytes the client managed to send. */
  sent: number;
}

/** Connects and sends `bytes` one at a time every `everyMs`, then nothing; ends when the server closes. */
function trickle(port: number, bytes: Buffer, everyMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const step = () => {
      if (sent < bytes.length && !socket.destroyed) {
        socket.write(bytes.subarray(sent, sent + 1));
        sent++;
        timer = setTimeout(step, everyMs);
      }
    };
    socket.on('connect', step);
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ms: Date.now() - started, reply, sent });
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept a slow client for over ${BOUND_MS * 2} ms`));
    }, BOUND_MS * 2).unref();
  });
}

/** Header lines without end: a client that never finishes its headers. */
function endlessHeaders(): Buffer {
  return Buffer.from('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n' + 'X-Slow: a\r\n'.repeat(200));
}

describe('slow and idle clients', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ...TIMEOUTS, consumerDelayMs: 0, subscriptionHeartbeatMs: 150 });
  });
  after(() => server.destroy());

  it('keeps a SubscribeToShard stream open past the idle timeout (its events are traffic)', async () => {
    const client = server.client();
    await createStream(client, 'idle-sub', 1);
    const arn = await registerActive(client, 'idle-sub', 'app');
    const sub = await SdkSubscription.open(client, arn, shardId(0), { Type: 'LATEST' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await client.send(new PutRecordCommand({ StreamName: 'idle-sub', PartitionKey: 'k', Data: Buffer.from('late') }));
      await sub.until(() => sub.texts().length >= 1, 5_000, 'the record');
      assert.deepEqual(sub.texts(), ['late']);
      assert.equal(sub.ended, false);
    } finally {
      sub.close();
    }
  });

  it('cuts off an HTTP/1.1 client that trickles its headers byte by byte', async () => {
    const r = await trickle(server.port, endlessHeaders(), 10);
    assert.ok(r.ms >= 250 && r.ms < BOUND_MS, `closed after ${r.ms} ms`);
    assert.ok(r.sent < endlessHeaders().length, 'before it could send everything');
    assert.match(r.reply, /^(HTTP\/1\.1 408 |$)/);
  });

  it('cuts off an HTTP/1.1 client that trickles its body', async () => {
    const head = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n' +
      'X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 1000\r\n\r\n';
    const r = await trickle(server.port, Buffer.concat([Buffer.from(head), Buffer.alloc(1000, 0x20)]), 5);
    assert.ok(r.ms < BOUND_MS, `closed after ${r.ms} ms`);
    assert.ok(r.sent < head.length + 1000, 'before the body was complete');
  });

  it('cuts off a client that sends nothing, or trickles the HTTP/2 preface', async () => {
    const silent = await trickle(server.port, Buffer.alloc(0), 10);
    assert.ok(silent.ms >= 250 && silent.ms < BOUND_MS, `silent client closed after ${silent.ms} ms`);
    const preface = await trickle(server.port, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 40);
    assert.ok(preface.ms >= 250 && preface.ms < BOUND_MS, `slow preface closed after ${preface.ms} ms`);
  });

  it('closes an HTTP/2 connection that stays idle', async () => {
    const started = Date.now();
    const session = http2.connect(server.endpoint);
    session.on('error', () => {});
    await new Promise<void>((resolve) => session.once('close', () => resolve()));
    const ms = Date.now() - started;
    assert.ok(ms >= 350 && ms < BOUND_MS, `idle session closed after ${ms} ms`);
  });

  it('keeps an HTTP/2 connection that is in use', async () => {
    const session = http2.connect(server.endpoint);
    session.on('error', () => {});
    const request = () =>
      new Promise<number>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/',
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Kinesis_20131202.ListStreams',
          ...SIGNED,
        });
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.on('end', () => resolve(status));
        req.end('{}');
      });
    try {
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        assert.equal(session.closed || session.destroyed, false, `still open after ${(i + 1) * 150} ms`);
        assert.equal(await request(), 200);
      }
    } finally {
      session.close();
    }
  });

  it('refuses an HTTP/2 body over the size limit with 413', async () => {
    const small = await startTestServer({ maxBodyBytes: 1024 });
    try {
      const r = await h2c(small.endpoint, 'Kinesis_20131202.ListStreams', Buffer.alloc(4096, 0x20));
      assert.equal(r.status, 413);
    } finally {
      await small.destroy();
    }
  });
});

describe('slow TLS clients', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ...TIMEOUTS, tls: 'self-signed' });
  });
  after(() => server.destroy());

  it('a handshake that never finishes is cut off', async () => {
    // A TLS record header announcing a handshake, then silence.
    const r = await trickle(server.port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), 10);
    assert.ok(r.ms >= 250 && r.ms < BOUND_MS, `closed after ${r.ms} ms`);
  });

  it('headers trickled over TLS are cut off', async () => {
    const ca = readFileSync(path.join(server.dataDir, 'tls', 'self-signed.crt'));
    const headers = endlessHeaders();
    const outcome = await new Promise<{ ms: number; sent: number }>((resolve, reject) => {
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', ca, ALPNProtocols: ['http/1.1'] });
      let sent = 0;
      let started = 0;
      let timer: NodeJS.Timeout | undefined;
      const step = () => {
        if (sent < headers.length && !socket.destroyed) {
          socket.write(headers.subarray(sent, ++sent));
          timer = setTimeout(step, 10);
        }
      };
      socket.on('secureConnect', () => {
        started = Date.now();
        step();
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ ms: Date.now() - started, sent });
      });
      setTimeout(() => reject(new Error('never cut off')), BOUND_MS * 2).unref();
    });
    assert.ok(outcome.ms >= 250 && outcome.ms < BOUND_MS, `closed after ${outcome.ms} ms`);
    assert.ok(outcome.sent < headers.length);
  });
});

describe('log lines', () => {
  const dataDir = tempDir();
  const keyFile = path.join(dataDir, '..', `${path.basename(dataDir)}.key`);
  const masterKey = randomBytes(32).toString('base64');
  const lines: string[] = [];
  let server: RunningServer;
  before(async () => {
    writeFileSync(keyFile, masterKey, { mode: 0o600 });
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await startServer(
      { ...defaultConfig, port: 0, s3Port: 0, dataDir, limits: 'off', createStreamDelayMs: 0, updateStreamDelayMs: 0, masterKeyFile: keyFile, tls: 'self-signed' },
      { logger: pino({ level: 'trace' }, sink) },
    );
  });
  after(async () => {
    await server.close();
    removeDir(dataDir);
    removeDir(keyFile);
  });

  it('hold no key, credential, certificate key or record', async () => {
    const ca = readFileSync(path.join(dataDir, 'tls', 'self-signed.crt'));
    const { NodeHttp2Handler } = await import('@smithy/node-http-handler');
    const client = kinesisClient(server.endpoint, {
      credentials: { accessKeyId: 'AKIDLOGTEST', secretAccessKey: 'log-test-secret-key-0123456789' },
      requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca } }),
    });
    try {
      await createStream(client, 'logs', 1);
      await client.send(new StartStreamEncryptionCommand({ StreamName: 'logs', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.send(new PutRecordCommand({ StreamName: 'logs', PartitionKey: 'log-pk-secret', Data: Buffer.from('log-record-secret') }));
      assert.deepEqual(texts(await readShard(client, 'logs', shardId(0))), ['log-record-secret']);
    } finally {
      client.destroy();
    }
    const all = lines.join('');
    assert.match(all, /fingerprint/, 'the log says which certificate is served');
    const tlsKey = readFileSync(path.join(dataDir, 'tls', 'self-signed.key'), 'utf8').split('\n').slice(1, 3).join('');
    for (const secret of [masterKey, masterKey.slice(0, 16), 'log-test-secret-key', 'Signature=', 'log-record-secret', 'log-pk-secret', tlsKey.slice(0, 40)]) {
      assert.equal(all.includes(secret), false, `no log line holds ${secret.slice(0, 12)}…`);
    }
  });
});
