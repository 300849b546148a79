import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CLI, engineConfig, removeDir, tempDir, testEngine } from '../../helpers/server.js';

/** The bytes of an object: a function of its key and size only, so the test can re-derive them. */
function content(key: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(key).digest();
  for (let at = 0; at < size; at += 32) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
const sizeOf = (i: number) => 1000 + ((i * 7919) % 900_000);

interface Child {
  child: ChildProcess;
  s3: string;
  exited: Promise<unknown>;
}

/** `tributary serve` on the test engine: with JetStream, on the same prefix each time. */
async function serve(dataDir: string): Promise<Child> {
  const engine = await engineConfig(dataDir);
  const engineArgs = engine.storage ? ['--storage', engine.storage, '--nats', String(engine.nats), '--nats-prefix', String(engine.natsPrefix)] : [];
  const args = [CLI, 'serve', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...engineArgs];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, TRIBUTARY_ANNOUNCE: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /TRIBUTARY_S3_LISTENING (\d+)\n/.exec(out);
      if (m && /TRIBUTARY_LISTENING \d+\n/.test(out)) resolve({ child, s3: `http://127.0.0.1:${m[1]}`, exited });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

const client = (endpoint: string) =>
  new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'AKIDCRASH', secretAccessKey: 'crash' }, maxAttempts: 1 });

async function bytesOf(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

describe('S3 crash safety', () => {
  const dataDir = tempDir('tributary-s3-crash-');
  after(() => removeDir(dataDir));

  it('after SIGKILL during uploads, acknowledged objects are whole and no partial object is visible', async () => {
    const first = await serve(dataDir);
    const s3 = client(first.s3);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: 'never-completed' }));
    await s3.send(new UploadPartCommand({ Bucket: 'crash', Key: 'never-completed', UploadId, PartNumber: 1, Body: content('part', 5 * 1024 * 1024) }));

    // A PUT whose body never finishes: its declared length is larger than what is sent.
    const u = new URL(first.s3);
    const stalled = request({ host: u.hostname, port: u.port, method: 'PUT', path: '/crash/stalled', headers: { 'content-length': String(4 * 1024 * 1024) } });
    stalled.on('error', () => {});
    stalled.write(content('stalled', 1024 * 1024));

    const acknowledged = new Set<number>();
    let stop = false;
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = w; !stop; i += 3) {
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: `obj-${i}`, Body: content(`obj-${i}`, sizeOf(i)) }));
          acknowledged.add(i);
        } catch {
          return;
        }
      }
    });
    while (acknowledged.size < 25) await new Promise((resolve) => setTimeout(resolve, 5));
    first.child.kill('SIGKILL');
    stop = true;
    await first.exited;
    await Promise.all(writers);
    s3.destroy();
    stalled.destroy();

    const second = await serve(dataDir);
    const s3b = client(second.s3);
    try {
      for (const i of acknowledged) {
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: `obj-${i}` }));
        const expected = content(`obj-${i}`, sizeOf(i));
        assert.ok((await bytesOf(got.Body)).equals(expected), `obj-${i}`);
        assert.equal(got.ETag, `"${createHash('md5').update(expected).digest('hex')}"`);
      }
      const listed = await s3b.send(new ListObjectsV2Command({ Bucket: 'crash' }));
      const keys = (listed.Contents ?? []).map((c) => c.Key!);
      assert.ok(!keys.includes('stalled'));
      assert.ok(!keys.includes('never-completed'));
      // Whatever else is listed (a PUT that finished as the process died) is whole too.
      for (const c of listed.Contents ?? []) {
        const i = Number(c.Key!.slice(4));
        assert.equal(c.Size, sizeOf(i), c.Key);
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: c.Key }));
        assert.ok((await bytesOf(got.Body)).equals(content(c.Key!, sizeOf(i))), c.Key);
      }
      // The upload in progress survives with its part.
      const parts = await s3b.send(new ListPartsCommand({ Bucket: 'crash', Key: 'never-completed', UploadId }));
      assert.equal(parts.Parts?.length, 1);
      // The embedded engine's files: none is left that nothing refers to.
      if (testEngine !== 'embedded') return;
      const files = readdirSync(path.join(dataDir, 'buckets', 'crash'));
      assert.equal(files.length, keys.length + 1);
      assert.deepEqual(readdirSync(path.join(dataDir, 'buckets', '.incoming')), []);
      // Data files are the owner's alone.
      for (const f of files) assert.equal(statSync(path.join(dataDir, 'buckets', 'crash', f)).mode & 0o777, 0o600, f);
      assert.equal(statSync(path.join(dataDir, 'buckets', 'crash')).mode & 0o777, 0o700);
      assert.equal(statSync(path.join(dataDir, 'buckets', 'buckets.sqlite')).mode & 0o777, 0o600);
    } finally {
      s3b.destroy();
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
