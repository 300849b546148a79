import type { Readable, Writable } from 'node:stream';
import type { ChecksumAlgorithm } from './checksums.js';

/**
 * The object store's engine contract. Metadata changes are transactional (a crash leaves the
 * old or the new state); object bytes are written as blobs first, made durable, then published by
 * one metadata transaction, so a crash never exposes a partial object. Keys are compared as
 * UTF-8 bytes. The embedded engine (files + SQLite, file-store.ts) and the JetStream engine
 * (one JetStream object store per bucket, jetstream-store.ts) implement it.
 */

export interface BucketRecord {
  name: string;
  region: string;
  createdAt: number;
}

/** The content headers S3 stores with an object and returns on GET/HEAD. */
export interface ContentHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface ObjectRecord {
  bucket: string;
  key: string;
  size: number;
  /** Lowercase hex, without quotes (multipart: `<hex>-N`). */
  etag: string;
  lastModified: number;
  headers: ContentHeaders;
  /** `x-amz-meta-*` names (lower case, without the prefix) and values. */
  metadata: Record<string, string>;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  checksumType?: ChecksumType;
  /** A multipart object's part sizes, in order. */
  parts?: number[];
}

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  headers: ContentHeaders;
  metadata: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: number;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** Bytes being written: stream into `stream`, then `commit()` (durable) or `discard()`. */
export interface BlobSink {
  readonly stream: Writable;
  /** Makes the bytes durable (per the fsync setting) and returns the blob's id. */
  commit(): Promise<string>;
  discard(): Promise<void>;
}

/** A condition checked inside the publishing transaction. */
export type WriteCondition = { ifNoneMatch?: boolean; ifMatch?: string };

export interface ListEntry {
  key: Buffer;
  record: ObjectRecord;
}

export interface ObjectStore {
  createBucket(name: string, region: string, now: number): Promise<'created' | 'exists'>;
  bucket(name: string): Promise<BucketRecord | undefined>;
  buckets(): Promise<BucketRecord[]>;
  deleteBucket(name: string): Promise<'deleted' | 'missing' | 'not-empty'>;

  /** A new blob in a bucket. */
  blob(bucket: string): BlobSink;
  /** A blob assembled from others, in order (multipart completion, copies). */
  concat(bucket: string, sources: readonly { bucket: string; blob: string; start?: number; end?: number }[]): Promise<string>;

  object(bucket: string, key: string): Promise<ObjectRecord | undefined>;
  /** The object and an open read of its bytes [start, end], taken in one step. */
  read(bucket: string, key: string, range?: { start: number; end: number }): Promise<{ record: ObjectRecord; body: Readable } | undefined>;
  /** Publishes an object over any previous one; returns false (and drops the blob) if the condition fails. */
  putObject(record: ObjectRecord, blob: string, condition?: WriteCondition): Promise<boolean>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Objects with keys > after (bytes) and, with a prefix, under it; in key order. */
  list(bucket: string, after: Buffer | undefined, prefix: Buffer, limit: number): Promise<ListEntry[]>;

  createUpload(upload: UploadRecord): Promise<void>;
  upload(uploadId: string): Promise<UploadRecord | undefined>;
  /** A bucket's uploads in key order (UTF-8 bytes), then upload id. */
  uploads(bucket: string): Promise<UploadRecord[]>;
  /** Records a part over any previous one of that number; false (and drops the blob) if the upload is gone. */
  putPart(uploadId: string, part: PartRecord, blob: string): Promise<boolean>;
  /** An upload's parts in part-number order. */
  parts(uploadId: string): Promise<(PartRecord & { blob: string })[]>;
  /** Publishes the assembled object and ends the upload. */
  completeUpload(uploadId: string, record: ObjectRecord, blob: string): Promise<boolean>;
  abortUpload(uploadId: string): Promise<boolean>;

  close(): Promise<void>;
}
