import type { Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * The one way Tributary writes and reads objects: through the S3 API (`@aws-sdk/client-s3`, with
 * `@aws-sdk/lib-storage` splitting large bodies into a multipart upload), path-style, to its own
 * S3 endpoint or to any S3-compatible endpoint the operator names with --s3-endpoint. The SDK
 * loads with a writer's first call, not with the server.
 */
export interface ObjectWriterOptions {
  /** e.g. http://127.0.0.1:4568 */
  endpoint: string;
  region: string;
  /** Absent: the SDK's usual chain (AWS_* environment variables, shared config and profile). */
  credentials?: S3ClientConfig['credentials'];
  /** Bytes per part of a multipart upload (at least 5 MiB). */
  partBytes?: number;
  /** Parts sent at once. */
  queueSize?: number;
}

export interface PutOptions {
  contentType?: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified?: Date;
}

/**
 * Where Tributary's writers go: the --s3-endpoint given, else its own endpoint (whose
 * development mode accepts any signature: without AWS credentials in the environment, fixed
 * local ones are used).
 */
export function objectWriterOptions(settings: { s3Endpoint: string; region: string }, ownEndpoint: string | undefined): ObjectWriterOptions {
  if (settings.s3Endpoint) return { endpoint: settings.s3Endpoint, region: settings.region };
  if (!ownEndpoint) throw new Error('no S3 endpoint: give --s3-endpoint or leave --s3-port on');
  const fromEnv = process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined;
  return {
    endpoint: ownEndpoint,
    region: settings.region,
    credentials: fromEnv ? undefined : { accessKeyId: 'tributary', secretAccessKey: 'tributary' },
  };
}

/** The SDK modules a writer calls, and its client. */
interface Sdk {
  s3: typeof import('@aws-sdk/client-s3');
  storage: typeof import('@aws-sdk/lib-storage');
  client: S3Client;
}

export class ObjectWriter {
  private sdk: Promise<Sdk> | undefined;

  constructor(private readonly opts: ObjectWriterOptions) {}

  /** The SDK and a client, loaded and made on first use (and again after close). */
  private load(): Promise<Sdk> {
    this.sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({
      s3,
      storage,
      client: new s3.S3Client({
        endpoint: this.opts.endpoint,
        region: this.opts.region,
        credentials: this.opts.credentials,
        forcePathStyle: true,
      }),
    }));
    return this.sdk;
  }

  /** Creates the bucket unless it is there already. */
  async ensureBucket(bucket: string): Promise<void> {
    const { s3, client } = await this.load();
    try {
      await client.send(new s3.HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw err;
    }
    try {
      await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const name = (err as Error).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }

  /** Writes an object (multipart when it is larger than one part); returns its ETag. */
  async put(bucket: string, key: string, body: Buffer | Uint8Array | string | Readable, options: PutOptions = {}): Promise<{ etag: string }> {
    const { storage, client } = await this.load();
    const upload = new storage.Upload({
      client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        ContentEncoding: options.contentEncoding,
        Metadata: options.metadata,
      },
      partSize: this.opts.partBytes ?? 8 * 1024 * 1024,
      queueSize: this.opts.queueSize ?? 4,
    });
    const out = await upload.done();
    return { etag: ('ETag' in out && out.ETag) || '' };
  }

  /** Writes a small object only if no object has its key (If-None-Match: *); false when one has. */
  async putIfAbsent(bucket: string, key: string, body: Buffer): Promise<boolean> {
    const { s3, client } = await this.load();
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw err;
    }
  }

  /** An object's bytes, or undefined when there is no such object. */
  async getIfExists(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      return await this.get(bucket, key);
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw err;
    }
  }

  /** An object's bytes, streamed. */
  async stream(bucket: string, key: string): Promise<Readable> {
    const { s3, client } = await this.load();
    const out = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body as Readable;
  }

  /** An object's bytes, whole (for small objects). */
  async get(bucket: string, key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.stream(bucket, key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Every object under a prefix, in key order. */
  async *list(bucket: string, prefix = ''): AsyncGenerator<ListedObject> {
    const { s3, client } = await this.load();
    let token: string | undefined;
    do {
      const page = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) yield { key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, key: string): Promise<void> {
    const { s3, client } = await this.load();
    await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** Closes the client, once it has been made. */
  close(): void {
    const sdk = this.sdk;
    this.sdk = undefined;
    void sdk?.then(
      (s) => s.client.destroy(),
      () => {},
    );
  }
}
