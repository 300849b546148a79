import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import {
  GetRecordsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { registerActive, SdkSubscription } from '../helpers/fan-out.js';
import { createStream, getIterator, readShard, shardId, texts } from '../helpers/kinesis.js';
import { kinesisClient, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

/** A client that speaks HTTP/2 over TLS (the SDK's default handler), trusting `ca`. */
function h2Client(server: TestServer, ca: Buffer): KinesisClient {
  return kinesisClient(server.endpoint, { requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca } }) });
}

/** A client that speaks HTTP/1.1 over TLS, trusting `ca`. */
function h1Client(server: TestServer, ca: Buffer): KinesisClient {
  return kinesisClient(server.endpoint, {
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca, keepAlive: true }) }),
  });
}

/** What a plaintext HTTP/1.1 request to the port gets back. */
function plaintextRequest(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

/** The ALPN protocol the server picks when the client offers these. */
function alpn(port: number, ca: Buffer, protocols: string[]): Promise<string | false | null> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca, ALPNProtocols: protocols }, () => {
      resolve(socket.alpnProtocol);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('HTTPS with a self-signed certificate', () => {
  const dataDir = tempDir();
  let server: TestServer;
  let ca: Buffer;
  before(async () => {
    server = await startTestServer({ tls: 'self-signed', consumerDelayMs: 0, subscriptionHeartbeatMs: 200 }, { dataDir });
    ca = readFileSync(path.join(dataDir, 'tls', 'self-signed.crt'));
  });
  after(async () => {
    await server.destroy();
    removeDir(dataDir);
  });

  it('keeps the certificate in the data directory, key readable by its owner only', () => {
    assert.match(server.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    const cert = new X509Certificate(ca);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(statSync(path.join(dataDir, 'tls', 'self-signed.key')).mode & 0o077, 0);
  });

  it('offers h2 and http/1.1 by ALPN', async () => {
    assert.equal(await alpn(server.port, ca, ['h2', 'http/1.1']), 'h2');
    assert.equal(await alpn(server.port, ca, ['http/1.1']), 'http/1.1');
  });

  it('serves PutRecord, PutRecords and GetRecords to the SDK over HTTP/1.1 and HTTP/2', async () => {
    const c1 = h1Client(server, ca);
    const c2 = h2Client(server, ca);
    try {
      await createStream(c2, 'tls', 1);
      await c1.send(new PutRecordCommand({ StreamName: 'tls', PartitionKey: 'k', Data: Buffer.from('over-h1') }));
      await c2.send(new PutRecordCommand({ StreamName: 'tls', PartitionKey: 'k', Data: Buffer.from('over-h2') }));
      await c1.send(
        new PutRecordsCommand({ StreamName: 'tls', Records: [{ PartitionKey: 'k', Data: Buffer.from('batch-h1') }] }),
      );
      assert.deepEqual(texts(await readShard(c1, 'tls', shardId(0))), ['over-h1', 'over-h2', 'batch-h1']);
      const r = await c2.send(new GetRecordsCommand({ ShardIterator: await getIterator(c2, 'tls', shardId(0), 'TRIM_HORIZON') }));
      assert.deepEqual(texts(r.Records!), ['over-h1', 'over-h2', 'batch-h1']);
    } finally {
      c1.destroy();
      c2.destroy();
    }
  });

  it('streams SubscribeToShard over HTTP/2 with TLS', async () => {
    const client = h2Client(server, ca);
    try {
      const arn = await registerActive(client, 'tls', 'tls-reader');
      const sub = await SdkSubscription.open(client, arn, shardId(0), { Type: 'TRIM_HORIZON' });
      try {
        await sub.until(() => sub.texts().length >= 3, 10_000, 'the stored records');
        await client.send(new PutRecordCommand({ StreamName: 'tls', PartitionKey: 'k', Data: Buffer.from('live') }));
        await sub.until(() => sub.texts().length >= 4, 10_000, 'the live record');
        assert.deepEqual(sub.texts(), ['over-h1', 'over-h2', 'batch-h1', 'live']);
      } finally {
        sub.close();
      }
    } finally {
      client.destroy();
    }
  });

  it('refuses plaintext on the TLS port', async () => {
    const reply = await plaintextRequest(server.port);
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(reply, /TLS only/);
  });

  it('reuses the certificate across restarts', async () => {
    const before = new X509Certificate(ca).fingerprint256;
    await server.close();
    server = await startTestServer({ tls: 'self-signed' }, { dataDir });
    const again = readFileSync(path.join(dataDir, 'tls', 'self-signed.crt'));
    assert.equal(new X509Certificate(again).fingerprint256, before);
    const client = h2Client(server, ca);
    try {
      assert.deepEqual(texts(await readShard(client, 'tls', shardId(0))), ['over-h1', 'over-h2', 'batch-h1', 'live']);
    } finally {
      client.destroy();
    }
  });
});

describe('HTTPS with --tls-cert and --tls-key', () => {
  const dir = tempDir();
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  let server: TestServer;
  before(async () => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=tributary-test',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    server = await startTestServer({ tlsCert: certFile, tlsKey: keyFile });
  });
  after(async () => {
    await server.destroy();
    removeDir(dir);
  });

  it('serves the given certificate to the SDK', async () => {
    const ca = readFileSync(certFile);
    const client = h2Client(server, ca);
    try {
      await createStream(client, 'files', 1);
      await client.send(new PutRecordCommand({ StreamName: 'files', PartitionKey: 'k', Data: Buffer.from('hello') }));
      assert.deepEqual(texts(await readShard(client, 'files', shardId(0))), ['hello']);
    } finally {
      client.destroy();
    }
  });

  it('is not trusted by a client that does not know the certificate', async () => {
    const client = kinesisClient(server.endpoint);
    try {
      await assert.rejects(client.send(new PutRecordCommand({ StreamName: 'files', PartitionKey: 'k', Data: Buffer.from('x') })), /self[- ]signed|certificate/i);
    } finally {
      client.destroy();
    }
  });

  it('wants both files, or neither', async () => {
    await assert.rejects(startTestServer({ tlsCert: certFile }), /--tls-cert and --tls-key go together/);
  });
});
