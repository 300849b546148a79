import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * The one way Tributary writes and reads objects: through the S3 API (`@aws-sdk/client-s3`, with
 * `@aws-sdk/lib-storage` splitting large bodies into a multipart upload), path-style, to its own
 * S3 endpoint or to any S3-compatible endpoint the operator names with --s3-endpoint.
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

export class ObjectWriter {
  readonly client: S3Client;

  constructor(private readonly opts: ObjectWriterOptions) {
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      credentials: opts.credentials,
      forcePathStyle: true,
    });
  }

  /** Creates the bucket unless it is there already. */
  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw err;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const name = (err as Error).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }

  /** Writes an object (multipart when it is larger than one part); returns its ETag. */
  async put(bucket: string, key: string, body: Buffer | Uint8Array | string | Readable, options: PutOptions = {}): Promise<{ etag: string }> {
    const upload = new Upload({
      client: this.client,
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

  /** An object's bytes, streamed. */
  async stream(bucket: string, key: string): Promise<Readable> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
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
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) yield { key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  close(): void {
    this.client.destroy();
  }
}
