import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { S3Authorize, S3Permission } from '../auth/s3-authorizer.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import type { FsyncMode } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import type { ChunkSigning } from './chunked.js';
import type { IncomingRequest, S3Request } from './request.js';
import type { BucketRecord, ObjectStore } from './store.js';

export interface S3Settings {
  region: string;
  accountId: string;
  /** The embedded store's files and database live in `<dataDir>/buckets/`. */
  dataDir: string;
  fsync: FsyncMode;
  /** Largest single PUT or part; S3's own limit is 5 GiB. */
  maxObjectBytes: number;
  /** Hosts whose subdomains name buckets (virtual-hosted style), e.g. `localhost`, `s3.localhost`. */
  baseHosts: readonly string[];
}

/** Everything the S3 service is built from. */
export interface S3Dependencies {
  settings: S3Settings;
  clock: Clock;
  logger: Logger;
  verifier: SigV4Verifier;
  authorize: S3Authorize;
  /** The engine; absent, the embedded file store under `<dataDir>/buckets/`. */
  store?: ObjectStore;
}

export interface S3Response {
  status: number;
  headers?: Record<string, string | number | undefined>;
  body?: string | Buffer | Readable;
}

/** One request on its way through an operation. */
export interface S3Context {
  deps: S3Dependencies;
  store: ObjectStore;
  req: IncomingRequest;
  r: S3Request;
  now: number;
  /** Present when chunk signatures are to be checked. */
  signing?: ChunkSigning;
  /** Throws AccessDenied unless the caller holds the permission. */
  authorize(p: S3Permission): void;
  /** Whether the caller holds it (for per-key results). */
  allowed(p: S3Permission): boolean;
  /** The bucket the request names; NoSuchBucket if it does not exist. */
  bucket(): Promise<BucketRecord>;
  owner: { id: string; displayName: string };
}

export type S3Operation = (ctx: S3Context) => Promise<S3Response>;
