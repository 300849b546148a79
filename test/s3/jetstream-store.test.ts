/**
 * The JetStream object store on a real nats-server, below the S3 API: what two stores on one
 * cluster see of each other's writes, the object-store layout others read, and the sweep of chunks
 * a crash left.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { ORPHAN_AGE_MS, JetStreamObjectStore } from '../../src/s3/jetstream-store.js';
import type { ObjectRecord } from '../../src/s3/store.js';
import { connectJetStream, type JetStreamConnection } from '../../src/storage/jetstream/index.js';
import { skipWithoutNats, startNatsServer, type NatsServer } from '../storage/jetstream/nats-server.js';

async function write(store: JetStreamObjectStore, bucket: string, data: Buffer): Promise<string> {
  const sink = store.blob(bucket);
  await pipeline(Readable.from([data]), sink.stream);
  return sink.commit();
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function record(bucket: string, key: string, data: Buffer, extra: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    bucket,
    key,
    size: data.length,
    etag: createHash('md5').update(data).digest('hex'),
    lastModified: 1_700_000_000_123,
    headers: {},
    metadata: {},
    checksums: {},
    ...extra,
  };
}

const bytes = (seed: number, size: number) => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (seed * 131 + i * 7 + (i >> 8)) & 0xff;
  return b;
};

describe('JetStream object store', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  const conns: JetStreamConnection[] = [];
  let n = 0;

  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    for (const c of conns) await c.close();
    await nats?.destroy();
  });

  /** Two stores on one prefix: two nodes of one deployment. */
  async function pair(): Promise<[JetStreamObjectStore, JetStreamObjectStore, JetStreamConnection]> {
    const prefix = `OBJ${n++}`;
    const a = await connectJetStream({ servers: [nats.url], replicas: 0, prefix });
    const b = await connectJetStream({ servers: [nats.url], replicas: 0, prefix });
    conns.push(a, b);
    return [await JetStreamObjectStore.open(a), await JetStreamObjectStore.open(b), a];
  }

  it('keeps objects in a NATS object store that its own client reads, keys as UTF-8', async () => {
    const [a, , conn] = await pair();
    assert.equal(await a.createBucket('layout', 'us-east-1', 5), 'created');
    const data = bytes(1, 300 * 1024);
    const blob = await write(a, 'layout', data);
    const r = record('layout', 'plain/key.bin', data, { headers: { contentType: 'text/x-test' }, metadata: { who: 'me' } });
    assert.equal(await a.putObject(r, blob), true);
    // @nats-io/obj reads what was written, checking the digest.
    const os = await new Objm(conn.nc).open(a.storeName('layout'));
    const got = await os.getBlob('plain/key.bin');
    assert.ok(got && Buffer.from(got).equals(data));
    const info = await os.info('plain/key.bin');
    assert.equal(info!.size, data.length);
    assert.equal(info!.chunks, 3);
    assert.equal(info!.headers!.get('Content-Type'), 'text/x-test');
    assert.equal(info!.metadata!.etag, r.etag);
    // A key beyond ASCII: its subject token is base64url of its UTF-8 bytes.
    const key = 'dir/é ü 日本.txt';
    const small = Buffer.from('non-ascii');
    await a.putObject(record('layout', key, small), await write(a, 'layout', small));
    const jsm = await jetstreamManager(conn.nc);
    const subject = `$O.${a.storeName('layout')}.M.${Buffer.from(key, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
    const meta = await jsm.streams.getMessage(`OBJ_${a.storeName('layout')}`, { last_by_subj: subject });
    assert.equal(meta!.json<{ name: string }>().name, key);
    assert.deepEqual(await a.object('layout', key), record('layout', key, small));
  });

  it('shows one store the other\'s writes at once, and If-None-Match lets one of two writers win', async () => {
    const [a, b] = await pair();
    await a.createBucket('shared', 'eu-west-1', 7);
    assert.deepEqual(await b.bucket('shared'), { name: 'shared', region: 'eu-west-1', createdAt: 7 });
    assert.equal(await b.createBucket('shared', 'us-east-1', 8), 'exists');
    const one = Buffer.from('from a');
    const two = Buffer.from('from b');
    const [blobA, blobB] = await Promise.all([write(a, 'shared', one), write(b, 'shared', two)]);
    const won = await Promise.all([
      a.putObject(record('shared', 'k', one), blobA, { ifNoneMatch: true }),
      b.putObject(record('shared', 'k', two), blobB, { ifNoneMatch: true }),
    ]);
    assert.equal(won.filter(Boolean).length, 1);
    const winner = won[0] ? one : two;
    const read = await a.read('shared', 'k');
    assert.ok((await readAll(read!.body)).equals(winner));
    // If-Match on the current ETag replaces it; on another one it does not.
    const three = Buffer.from('third');
    const etag = createHash('md5').update(winner).digest('hex');
    assert.equal(await b.putObject(record('shared', 'k', three), await write(b, 'shared', three), { ifMatch: 'not-it' }), false);
    assert.equal(await b.putObject(record('shared', 'k', three), await write(b, 'shared', three), { ifMatch: etag }), true);
    const ranged = await a.read('shared', 'k', { start: 1, end: 3 });
    assert.equal((await readAll(ranged!.body)).toString(), 'hir');
    assert.deepEqual((await a.list('shared', undefined, Buffer.alloc(0), 10)).map((e) => e.key.toString()), ['k']);
    await b.deleteObject('shared', 'k');
    assert.equal(await a.object('shared', 'k'), undefined);
    assert.deepEqual(await a.list('shared', undefined, Buffer.alloc(0), 10), []);
    assert.equal(await a.deleteBucket('shared'), 'deleted');
    assert.equal(await b.bucket('shared'), undefined);
    assert.equal(await b.deleteBucket('shared'), 'missing');
    // Made again, the bucket is new and empty.
    assert.equal(await b.createBucket('shared', 'us-east-1', 9), 'created');
    assert.deepEqual(await a.bucket('shared'), { name: 'shared', region: 'us-east-1', createdAt: 9 });
    assert.deepEqual(await a.list('shared', undefined, Buffer.alloc(0), 10), []);
    const again = Buffer.from('again');
    assert.equal(await a.putObject(record('shared', 'k', again), await write(a, 'shared', again)), true);
    assert.ok((await readAll((await b.read('shared', 'k'))!.body)).equals(again));
  });

  it('sweeps the chunks of blobs nothing names once they are old, and only those', async () => {
    const [a, b, conn] = await pair();
    await a.createBucket('sweep', 'us-east-1', 1);
    const kept = Buffer.from('published');
    await a.putObject(record('sweep', 'kept', kept), await write(a, 'sweep', kept));
    const part = bytes(2, 200 * 1024);
    await a.createUpload({ uploadId: 'up1', bucket: 'sweep', key: 'multi', initiated: 1, headers: {}, metadata: {} });
    await b.putPart('up1', { partNumber: 1, size: part.length, etag: 'e', lastModified: 1, checksums: {} }, await write(b, 'sweep', part));
    // Written and never published, as a crash leaves it.
    await write(a, 'sweep', bytes(3, 150 * 1024));
    // A read that began before an overwrite reads the object it began on.
    const before = await a.read('sweep', 'kept');
    const newer = Buffer.from('published again');
    await b.putObject(record('sweep', 'kept', newer), await write(b, 'sweep', newer));
    assert.ok((await readAll(before!.body)).equals(kept));

    const jsm = await jetstreamManager(conn.nc);
    const stream = `OBJ_${a.storeName('sweep')}`;
    const chunkSubjects = async () =>
      Object.keys((await jsm.streams.info(stream, { subjects_filter: `$O.${a.storeName('sweep')}.C.>` })).state.subjects ?? {}).length;
    // The published object, the part, the unpublished blob and the replaced one (kept a while for reads).
    assert.equal(await chunkSubjects(), 4);
    assert.equal(await b.sweep('sweep'), 0, 'young chunks stay');
    assert.equal(await a.sweep('sweep', Date.now() + ORPHAN_AGE_MS + 60_000), 2);
    assert.equal(await chunkSubjects(), 2);
    assert.ok((await readAll((await a.read('sweep', 'kept'))!.body)).equals(newer));
    const parts = await a.parts('up1');
    assert.deepEqual(parts.map((p) => p.partNumber), [1]);
    const assembled = await a.concat('sweep', [{ bucket: 'sweep', blob: parts[0]!.blob, start: 10, end: 204_799 }]);
    const r = record('sweep', 'multi', part.subarray(10), { parts: [part.length - 10] });
    assert.equal(await b.completeUpload('up1', r, assembled), true);
    assert.ok((await readAll((await b.read('sweep', 'multi'))!.body)).equals(part.subarray(10)));
    assert.deepEqual(await a.uploads('sweep'), []);
    assert.equal(await a.deleteBucket('sweep'), 'not-empty');
  });
});
