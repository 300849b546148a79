/**
 * The object store on a JetStream cluster, shared by every node on it: each S3 bucket is one
 * JetStream object store (`<prefix>-s3-<escaped bucket name>`, its stream `OBJ_<that>`), laid out
 * as NATS object stores are (ADR-20), so that `nats object` tools read it too:
 *   `$O.<store>.C.<nuid>`          the chunks of one blob, CHUNK_BYTES each but the last
 *   `$O.<store>.M.<base64url(key)>` the object's description (JSON, rolled up to the newest):
 *                                  nuid, size, chunks, SHA-256 digest, mtime, and
 *                                  `headers` (content headers, `X-Amz-Meta-*` user metadata) and
 *                                  `metadata` (ETag, last modified in ms, checksums, part sizes)
 * The key is base64url-encoded from its UTF-8 bytes, as the Go client encodes names.
 *
 * A blob's chunks are written first, under a fresh nuid, and an object is published by one
 * message on its description subject that names them, so a put is visible only once complete: a
 * crash before leaves chunks that no description names, never a partial object. Publishing
 * expects the description subject at the sequence just read (Nats-Expected-Last-Subject-Sequence),
 * so If-Match / If-None-Match hold across nodes, and each write knows exactly which blob it
 * replaced. A deletion publishes a `deleted` description. A replaced or deleted blob's chunks are
 * purged READ_GRACE_MS later, so that reads which began before (on any node) finish.
 *
 * Buckets (name, region, creation time), multipart uploads and their parts are in the KV bucket
 * `<prefix>-s3`: `buckets.<bucket>`, `uploads.<upload id>`, `parts.<upload id>.<part number>`
 * (escaped as in storage/jetstream/names.ts). A part's bytes are a blob in its bucket's object
 * store, so any node can list, complete or abort an upload begun on another.
 *
 * A crash while a blob is written leaves chunks that nothing names. Every node sweeps its
 * buckets at start and every SWEEP_EVERY_MS: a blob that no object or part names and whose newest
 * chunk is older than ORPHAN_AGE_MS (by the NATS servers' timestamps and this host's wall clock;
 * no write of a blob pauses that long) is purged. Sweeps of several nodes at once do no harm.
 *
 * Reads of descriptions and KV entries go to the stream leaders (no direct get), so a node sees
 * what another wrote before answering. A listing reads every description of the bucket (one
 * ordered consumer, last message per subject) and sorts the keys by their UTF-8 bytes; the
 * sorted listing is kept per bucket until the newest description changes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { JetStreamConnection } from '../storage/jetstream/store.js';
import { escapeKey } from '../storage/jetstream/names.js';
import type { ChecksumAlgorithm } from './checksums.js';
import type {
  BlobSink,
  BucketRecord,
  ContentHeaders,
  ListEntry,
  ObjectRecord,
  ObjectStore,
  PartRecord,
  UploadRecord,
  WriteCondition,
} from './store.js';

/** The object stores' usual chunk size. */
const CHUNK_BYTES = 128 * 1024;
/** Room left in a chunk message for the publish protocol and headers. */
const PAYLOAD_MARGIN = 1024;
/** Chunk publishes of one blob awaiting their acknowledgement at once (one connection keeps their order). */
const PUBLISH_WINDOW = 8;
const PUBLISH_TIMEOUT_MS = 10_000;
/** Messages one fetch of a read asks for. */
const FETCH_BATCH = 64;
const FETCH_EXPIRES_MS = 5_000;
/** Buckets whose sorted listing is kept. */
const LISTINGS_KEPT = 8;
/** KV reads in flight at once when a listing fetches entries key by key. */
const GET_CONCURRENCY = 32;
/** How long unnamed chunks are left before a sweep purges them. */
export const ORPHAN_AGE_MS = 6 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 60 * 1000;
/** How long a replaced or deleted blob stays readable for the reads that began before. */
const READ_GRACE_MS = 60_000;

const STREAM_NOT_FOUND = 10059;
const WRONG_LAST_SEQUENCE = 10071;

const CONTENT_HEADERS: readonly (readonly [keyof ContentHeaders, string])[] = [
  ['contentType', 'Content-Type'],
  ['contentEncoding', 'Content-Encoding'],
  ['contentDisposition', 'Content-Disposition'],
  ['contentLanguage', 'Content-Language'],
  ['cacheControl', 'Cache-Control'],
  ['expires', 'Expires'],
];
const USER_META = 'X-Amz-Meta-';

/** An object's description, as object stores publish it. */
interface Description {
  name: string;
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  digest: string;
  mtime: string;
  deleted?: boolean;
  description?: string;
  options?: { max_chunk_size?: number };
  headers?: Record<string, string[]>;
  metadata?: Record<string, string>;
}

/** What a blob id holds: its chunks' nuid, its size, chunk count and digest. */
interface Blob {
  nuid: string;
  size: number;
  chunks: number;
  digest: string;
}

const blobId = (b: Blob) => `${b.nuid}:${b.size}:${b.chunks}:${b.digest}`;

function parseBlob(id: string): Blob {
  const [nuid, size, chunks, digest] = id.split(':');
  if (!nuid || !/^[0-9a-f]+$/.test(nuid) || digest === undefined) throw new Error(`not a blob id: ${id}`);
  return { nuid, size: Number(size), chunks: Number(chunks), digest };
}

/** Base64url with padding, as object stores encode digests and names. */
const base64urlPadded = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

function apiCode(err: unknown): number | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof JetStreamApiError) return e.code;
  return undefined;
}

function isConflict(err: unknown): boolean {
  if (apiCode(err) === WRONG_LAST_SEQUENCE) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (/wrong last sequence/i.test(e.message)) return true;
  return false;
}

const live = (e: KvEntry | null): e is KvEntry => e !== null && e.operation === 'PUT';

export class JetStreamObjectStore implements ObjectStore {
  private readonly listings = new Map<string, { version: string; entries: ListEntry[] }>();
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  /** Purges of replaced blobs waiting out READ_GRACE_MS. */
  private readonly purges = new Map<NodeJS.Timeout, () => Promise<void>>();

  /** Bytes of a chunk: CHUNK_BYTES, or less where the servers take smaller messages. */
  private readonly chunkBytes: number;

  private constructor(
    private readonly conn: JetStreamConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
  ) {
    this.chunkBytes = Math.min(CHUNK_BYTES, (conn.nc.info?.max_payload ?? CHUNK_BYTES + PAYLOAD_MARGIN) - PAYLOAD_MARGIN);
  }

  /**
   * Opens the S3 KV bucket, creating it with the connection's replica count when there is none.
   * With `sweep`, sweeps every bucket now and every SWEEP_EVERY_MS, telling `onError` of failures.
   */
  static async open(conn: JetStreamConnection, options: { sweep?: boolean; onError?: (err: unknown) => void } = {}): Promise<JetStreamObjectStore> {
    const kv = await new Kvm(conn.nc).create(`${conn.prefix}-s3`, { replicas: conn.replicas, history: 1, allow_direct: false });
    const store = new JetStreamObjectStore(conn, jetstream(conn.nc), await jetstreamManager(conn.nc), kv);
    if (options.sweep) {
      const round = () => {
        store.sweeping = store.sweeping.then(() => store.sweepAll().catch((err) => options.onError?.(err)));
      };
      round();
      store.sweeper = setInterval(round, SWEEP_EVERY_MS);
      store.sweeper.unref();
    }
    return store;
  }

  private async sweepAll(): Promise<void> {
    for (const b of await this.buckets()) await this.sweep(b.name);
  }

  /**
   * Purges the chunks of a bucket's blobs that no object or part names and that got no chunk for
   * ORPHAN_AGE_MS before `now` (epoch ms). Returns how many blobs it purged.
   */
  async sweep(bucket: string, now = Date.now()): Promise<number> {
    const stream = this.streamOf(bucket);
    const chunkPrefix = `$O.${this.storeName(bucket)}.C.`;
    let subjects: Record<string, number>;
    try {
      // Listed before the names are read: a blob named after this was written after it, too.
      subjects = (await this.jsm.streams.info(stream, { subjects_filter: `${chunkPrefix}>` })).state.subjects ?? {};
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) return 0;
      throw err;
    }
    const candidates = Object.keys(subjects).map((s) => s.slice(chunkPrefix.length));
    if (candidates.length === 0) return 0;
    const named = new Set((await this.descriptions(bucket)).map((d) => d.nuid));
    for (const u of await this.uploads(bucket)) for (const p of await this.parts(u.uploadId)) named.add(parseBlob(p.blob).nuid);
    let purged = 0;
    for (const nuid of candidates) {
      if (named.has(nuid)) continue;
      const last = await this.jsm.streams.getMessage(stream, { last_by_subj: `${chunkPrefix}${nuid}` });
      if (!last || now - last.time.getTime() < ORPHAN_AGE_MS) continue;
      await this.purgeChunks(bucket, nuid);
      purged++;
    }
    return purged;
  }

  /** The object store's name of a bucket. */
  storeName(bucket: string): string {
    return `${this.conn.prefix}-s3-${escapeKey(bucket)}`;
  }

  private streamOf(bucket: string): string {
    return `OBJ_${this.storeName(bucket)}`;
  }

  private chunkSubject(bucket: string, nuid: string): string {
    return `$O.${this.storeName(bucket)}.C.${nuid}`;
  }

  private metaSubject(bucket: string, key: string): string {
    return `$O.${this.storeName(bucket)}.M.${base64urlPadded(Buffer.from(key, 'utf8'))}`;
  }

  // Buckets

  async createBucket(name: string, region: string, now: number): Promise<'created' | 'exists'> {
    const record: BucketRecord = { name, region, createdAt: now };
    try {
      await this.kv.create(`buckets.${escapeKey(name)}`, JSON.stringify(record));
    } catch (err) {
      if (isConflict(err)) return 'exists';
      throw err;
    }
    try {
      // Creating a store that exists with the same configuration opens it.
      await new Objm(this.js).create(this.storeName(name), { replicas: this.conn.replicas });
    } catch (err) {
      await this.kv.delete(`buckets.${escapeKey(name)}`).catch(() => undefined);
      throw err;
    }
    return 'created';
  }

  async bucket(name: string): Promise<BucketRecord | undefined> {
    if (name.length === 0) return undefined;
    const e = await this.kv.get(`buckets.${escapeKey(name)}`);
    return live(e) ? e.json<BucketRecord>() : undefined;
  }

  async buckets(): Promise<BucketRecord[]> {
    const out = (await this.values('buckets.*')).map((e) => e.json<BucketRecord>());
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async deleteBucket(name: string): Promise<'deleted' | 'missing' | 'not-empty'> {
    const key = `buckets.${escapeKey(name)}`;
    const e = await this.kv.get(key);
    if (!live(e)) return 'missing';
    if ((await this.list(name, undefined, Buffer.alloc(0), 1)).length > 0) return 'not-empty';
    if ((await this.uploads(name)).length > 0) return 'not-empty';
    try {
      await this.kv.delete(key, { previousSeq: e.revision });
    } catch (err) {
      // Deleted by another node meanwhile.
      if (isConflict(err)) return 'missing';
      throw err;
    }
    this.listings.delete(name);
    try {
      await this.jsm.streams.delete(this.streamOf(name));
    } catch (err) {
      if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
    }
    return 'deleted';
  }

  // Blobs

  blob(bucket: string): BlobSink {
    const nuid = randomBytes(16).toString('hex');
    const chunkBytes = this.chunkBytes;
    const subject = this.chunkSubject(bucket, nuid);
    const sha = createHash('sha256');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let size = 0;
    let chunks = 0;
    let inFlight: Promise<unknown>[] = [];
    let settled = false;
    const publish = async (payload: Buffer) => {
      sha.update(payload);
      size += payload.length;
      chunks++;
      const p = this.js.publish(subject, payload, { timeout: PUBLISH_TIMEOUT_MS });
      p.catch(() => undefined);
      inFlight.push(p);
      if (inFlight.length >= PUBLISH_WINDOW) await inFlight.shift();
    };
    const drain = async (all: boolean) => {
      while (pendingBytes >= chunkBytes || (all && pendingBytes > 0)) {
        const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        const take = Math.min(chunkBytes, joined.length);
        await publish(joined.subarray(0, take));
        const rest = joined.subarray(take);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
      }
    };
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < chunkBytes) return done();
        drain(false).then(() => done(), done);
      },
      final(done) {
        drain(true)
          .then(() => Promise.all(inFlight))
          .then(() => {
            inFlight = [];
            done();
          }, done);
      },
    });
    return {
      stream,
      commit: async () => {
        settled = true;
        await Promise.all(inFlight);
        return blobId({ nuid, size, chunks, digest: `SHA-256=${base64urlPadded(sha.digest())}` });
      },
      discard: async () => {
        if (settled) return;
        settled = true;
        stream.destroy();
        await Promise.allSettled(inFlight);
        await this.purgeChunks(bucket, nuid);
      },
    };
  }

  async concat(bucket: string, sources: readonly { bucket: string; blob: string; start?: number; end?: number }[]): Promise<string> {
    const sink = this.blob(bucket);
    try {
      for (const s of sources) {
        const b = parseBlob(s.blob);
        const range = s.start !== undefined || s.end !== undefined ? { start: s.start ?? 0, end: s.end ?? b.size - 1 } : undefined;
        for await (const piece of this.chunks(s.bucket, b, range)) {
          if (!sink.stream.write(piece)) await new Promise<void>((resolve) => sink.stream.once('drain', resolve));
        }
      }
      await new Promise<void>((resolve, reject) => {
        sink.stream.once('error', reject);
        sink.stream.end(() => resolve());
      });
      return await sink.commit();
    } catch (err) {
      await sink.discard();
      throw err;
    }
  }

  private async purgeChunks(bucket: string, nuid: string): Promise<void> {
    try {
      await this.jsm.streams.purge(this.streamOf(bucket), { filter: this.chunkSubject(bucket, nuid) });
    } catch (err) {
      if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
    }
  }

  /** Purges a replaced or deleted blob's chunks once the reads that may hold it are done. */
  private purgeLater(bucket: string, nuid: string): void {
    const purge = () => this.purgeChunks(bucket, nuid).catch(() => undefined);
    const timer = setTimeout(() => {
      this.purges.delete(timer);
      void purge();
    }, READ_GRACE_MS);
    timer.unref();
    this.purges.set(timer, purge);
  }

  private dropBlob(bucket: string, blob: string | undefined): void {
    if (blob !== undefined) this.purgeChunks(bucket, parseBlob(blob).nuid).catch(() => undefined);
  }

  /**
   * The bytes of a blob in [start, end], chunk by chunk, read with one ordered consumer. A blob
   * whose chunks stop short (purged by an overwrite while it was read) ends in an error.
   */
  private async *chunks(bucket: string, blob: Blob, range?: { start: number; end: number }): AsyncGenerator<Buffer> {
    const start = range?.start ?? 0;
    const end = range?.end ?? blob.size - 1;
    if (blob.size === 0 || end < start) return;
    const consumer = await this.js.consumers.get(this.streamOf(bucket), { filter_subjects: this.chunkSubject(bucket, blob.nuid) });
    try {
      let at = 0;
      let exhausted = false;
      while (at <= end) {
        let got = 0;
        const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
        for await (const m of batch) {
          got++;
          const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
          const from = at;
          at += data.length;
          if (at > start && from <= end) yield data.subarray(Math.max(0, start - from), Math.min(data.length, end - from + 1));
          exhausted = m.info.pending === 0;
          if (at > end || exhausted) break;
        }
        if (at > end) break;
        if (got === 0 || exhausted) throw new Error(`object data ${blob.nuid} in ${bucket} ended at byte ${at} of ${blob.size}`);
      }
    } finally {
      await consumer.delete().catch(() => false);
    }
  }

  // Objects

  /** The newest description of a key, with its sequence (0: none). */
  private async description(bucket: string, key: string): Promise<{ seq: number; d?: Description }> {
    let m: StoredMsg | null;
    try {
      m = await this.jsm.streams.getMessage(this.streamOf(bucket), { last_by_subj: this.metaSubject(bucket, key) });
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) return { seq: 0 };
      throw err;
    }
    if (!m) return { seq: 0 };
    const d = m.json<Description>();
    return { seq: m.seq, d: d.deleted ? undefined : d };
  }

  async object(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const { d } = await this.description(bucket, key);
    return d && recordOf(bucket, d);
  }

  async read(bucket: string, key: string, range?: { start: number; end: number }): Promise<{ record: ObjectRecord; body: Readable } | undefined> {
    const { d } = await this.description(bucket, key);
    if (!d) return undefined;
    const blob: Blob = { nuid: d.nuid, size: d.size, chunks: d.chunks, digest: d.digest };
    return { record: recordOf(bucket, d), body: Readable.from(this.chunks(bucket, blob, range), { objectMode: false }) };
  }

  /**
   * Publishes a description on a key expected at sequence `seq`; false when another write came
   * first. Every other failure throws.
   */
  private async publishDescription(bucket: string, key: string, d: Description, seq: number): Promise<boolean> {
    const h = natsHeaders();
    h.set('Nats-Rollup', 'sub');
    try {
      await this.js.publish(this.metaSubject(bucket, key), JSON.stringify(d), {
        headers: h,
        expect: { lastSubjectSequence: seq },
        timeout: PUBLISH_TIMEOUT_MS,
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async putObject(record: ObjectRecord, blob: string, condition?: WriteCondition): Promise<boolean> {
    const b = parseBlob(blob);
    const next = descriptionOf(record, b, this.storeName(record.bucket), this.chunkBytes);
    for (;;) {
      const { seq, d: old } = await this.description(record.bucket, record.key);
      const fails =
        (condition?.ifNoneMatch && old !== undefined) ||
        (condition?.ifMatch !== undefined && (old === undefined || recordOf(record.bucket, old).etag !== condition.ifMatch));
      if (fails) {
        this.dropBlob(record.bucket, blob);
        return false;
      }
      if (await this.publishDescription(record.bucket, record.key, next, seq)) {
        if (old && old.nuid !== b.nuid) this.purgeLater(record.bucket, old.nuid);
        return true;
      }
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    for (;;) {
      const { seq, d } = await this.description(bucket, key);
      if (!d) return;
      const gone: Description = { ...d, deleted: true, size: 0, chunks: 0, digest: '', mtime: new Date().toISOString() };
      if (await this.publishDescription(bucket, key, gone, seq)) {
        this.purgeLater(bucket, d.nuid);
        return;
      }
    }
  }

  async list(bucket: string, after: Buffer | undefined, prefix: Buffer, limit: number): Promise<ListEntry[]> {
    const entries = await this.sorted(bucket);
    // The first key above `after` and at or above the prefix.
    const floor = after && Buffer.compare(after, prefix) >= 0 ? after : undefined;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = entries[mid]!.key;
      const below = floor ? Buffer.compare(k, floor) <= 0 : Buffer.compare(k, prefix) < 0;
      if (below) lo = mid + 1;
      else hi = mid;
    }
    const out: ListEntry[] = [];
    for (let i = lo; i < entries.length && out.length < limit; i++) {
      const e = entries[i]!;
      if (prefix.length > 0 && !(e.key.length >= prefix.length && e.key.subarray(0, prefix.length).equals(prefix))) break;
      out.push(e);
    }
    return out;
  }

  /** Every live object of a bucket in key order: kept until the newest description changes. */
  private async sorted(bucket: string): Promise<ListEntry[]> {
    const stream = this.streamOf(bucket);
    const all = `$O.${this.storeName(bucket)}.M.>`;
    let newest: StoredMsg | null;
    try {
      newest = await this.jsm.streams.getMessage(stream, { last_by_subj: all });
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) return [];
      throw err;
    }
    if (!newest) return [];
    const version = `${newest.seq}:${newest.timestamp}`;
    const kept = this.listings.get(bucket);
    if (kept && kept.version === version) {
      this.listings.delete(bucket);
      this.listings.set(bucket, kept);
      return kept.entries;
    }
    const entries = (await this.descriptions(bucket)).map((d) => ({ key: Buffer.from(d.name, 'utf8'), record: recordOf(bucket, d) }));
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    this.listings.delete(bucket);
    this.listings.set(bucket, { version, entries });
    while (this.listings.size > LISTINGS_KEPT) this.listings.delete(this.listings.keys().next().value!);
    return entries;
  }

  /** The newest description of every live object of a bucket, in no order. */
  private async descriptions(bucket: string): Promise<Description[]> {
    const stream = this.streamOf(bucket);
    const all = `$O.${this.storeName(bucket)}.M.>`;
    try {
      // An ordered consumer's first fetch waits its whole expiry on an empty filter.
      if (!(await this.jsm.streams.getMessage(stream, { last_by_subj: all }))) return [];
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) return [];
      throw err;
    }
    const out: Description[] = [];
    const consumer = await this.js.consumers.get(stream, { filter_subjects: all, deliver_policy: DeliverPolicy.LastPerSubject });
    try {
      let more = true;
      while (more) {
        let got = 0;
        const batch = await consumer.fetch({ max_messages: 1_000, expires: FETCH_EXPIRES_MS });
        for await (const m of batch) {
          got++;
          const d = m.json<Description>();
          if (!d.deleted) out.push(d);
          if (m.info.pending === 0) {
            more = false;
            break;
          }
        }
        if (got === 0) more = false;
      }
    } finally {
      await consumer.delete().catch(() => false);
    }
    return out;
  }

  // Multipart uploads

  private uploadKey(uploadId: string): string | undefined {
    return uploadId.length > 0 ? `uploads.${escapeKey(uploadId)}` : undefined;
  }

  async createUpload(u: UploadRecord): Promise<void> {
    await this.kv.create(this.uploadKey(u.uploadId)!, JSON.stringify(u));
  }

  async upload(uploadId: string): Promise<UploadRecord | undefined> {
    const key = this.uploadKey(uploadId);
    if (!key) return undefined;
    const e = await this.kv.get(key);
    return live(e) ? e.json<UploadRecord>() : undefined;
  }

  async uploads(bucket: string): Promise<UploadRecord[]> {
    const all = (await this.values('uploads.*')).map((e) => e.json<UploadRecord>()).filter((u) => u.bucket === bucket);
    return all.sort(
      (a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')) || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0),
    );
  }

  async putPart(uploadId: string, part: PartRecord, blob: string): Promise<boolean> {
    const u = await this.upload(uploadId);
    // Its blob's chunks stay until the bucket is deleted: the upload that named its bucket is gone.
    if (!u) return false;
    const key = `parts.${escapeKey(uploadId)}.${part.partNumber}`;
    const old = await this.kv.get(key);
    await this.kv.put(key, JSON.stringify({ ...part, blob }));
    if (live(old)) this.dropBlob(u.bucket, old.json<{ blob: string }>().blob);
    return true;
  }

  async parts(uploadId: string): Promise<(PartRecord & { blob: string })[]> {
    if (uploadId.length === 0) return [];
    const all = (await this.values(`parts.${escapeKey(uploadId)}.*`)).map((e) => e.json<PartRecord & { blob: string }>());
    return all.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeUpload(uploadId: string, record: ObjectRecord, blob: string): Promise<boolean> {
    if (!(await this.upload(uploadId))) {
      this.dropBlob(record.bucket, blob);
      return false;
    }
    await this.putObject(record, blob);
    await this.endUpload(uploadId, record.bucket);
    return true;
  }

  async abortUpload(uploadId: string): Promise<boolean> {
    const u = await this.upload(uploadId);
    if (!u) return false;
    await this.endUpload(uploadId, u.bucket);
    return true;
  }

  /** Forgets an upload, then its parts, dropping their blobs. */
  private async endUpload(uploadId: string, bucket: string): Promise<void> {
    await this.kv.delete(this.uploadKey(uploadId)!);
    for (const p of await this.parts(uploadId)) {
      await this.kv.purge(`parts.${escapeKey(uploadId)}.${p.partNumber}`);
      this.dropBlob(bucket, p.blob);
    }
  }

  /** The live entries under a KV key filter. */
  private async values(filter: string): Promise<KvEntry[]> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys(filter)) keys.push(k);
    const out: KvEntry[] = [];
    for (let i = 0; i < keys.length; i += GET_CONCURRENCY) {
      const got = await Promise.all(keys.slice(i, i + GET_CONCURRENCY).map((k) => this.kv.get(k)));
      for (const e of got) if (live(e)) out.push(e);
    }
    return out;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
    // The service has finished its requests: nothing reads the replaced blobs here any more.
    const purges = [...this.purges];
    this.purges.clear();
    for (const [timer] of purges) clearTimeout(timer);
    await Promise.all(purges.map(([, purge]) => purge()));
    this.listings.clear();
  }
}

/** The description published for an object. */
function descriptionOf(r: ObjectRecord, b: Blob, store: string, chunkBytes: number): Description {
  const headers: Record<string, string[]> = {};
  for (const [field, name] of CONTENT_HEADERS) {
    const v = r.headers[field];
    if (v !== undefined) headers[name] = [v];
  }
  for (const [name, v] of Object.entries(r.metadata)) headers[`${USER_META}${name}`] = [v];
  const metadata: Record<string, string> = { etag: r.etag, 'last-modified': String(r.lastModified) };
  if (Object.keys(r.checksums).length > 0) metadata.checksums = JSON.stringify(r.checksums);
  if (r.checksumType) metadata['checksum-type'] = r.checksumType;
  if (r.parts) metadata.parts = JSON.stringify(r.parts);
  return {
    name: r.key,
    bucket: store,
    nuid: b.nuid,
    size: b.size,
    chunks: b.chunks,
    digest: b.digest,
    mtime: new Date(r.lastModified).toISOString(),
    deleted: false,
    description: '',
    options: { max_chunk_size: chunkBytes },
    headers,
    metadata,
  };
}

/** The object a description holds. */
function recordOf(bucket: string, d: Description): ObjectRecord {
  const headers: ContentHeaders = {};
  const metadata: Record<string, string> = {};
  const h = d.headers ?? {};
  for (const [field, name] of CONTENT_HEADERS) {
    const v = h[name]?.[0];
    if (v !== undefined) headers[field] = v;
  }
  for (const [name, v] of Object.entries(h)) {
    if (name.startsWith(USER_META) && v[0] !== undefined) metadata[name.slice(USER_META.length)] = v[0];
  }
  const m = d.metadata ?? {};
  const lastModified = Number(m['last-modified']);
  const record: ObjectRecord = {
    bucket,
    key: d.name,
    size: d.size,
    etag: m.etag ?? '',
    lastModified: Number.isFinite(lastModified) ? lastModified : Date.parse(d.mtime),
    headers,
    metadata,
    checksums: m.checksums ? (JSON.parse(m.checksums) as Partial<Record<ChecksumAlgorithm, string>>) : {},
  };
  if (m['checksum-type'] === 'FULL_OBJECT' || m['checksum-type'] === 'COMPOSITE') record.checksumType = m['checksum-type'];
  if (m.parts) record.parts = JSON.parse(m.parts) as number[];
  return record;
}
