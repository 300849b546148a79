import { FirehoseClient, type FirehoseClientConfig } from '@aws-sdk/client-firehose';
import type { S3Client } from '@aws-sdk/client-s3';
import { startS3TestServer, type S3TestServer } from '../s3/helpers.js';
import type { ServeConfig } from '../../../src/settings/index.js';
import type { Clock } from '../../../src/util/clock.js';

export interface FirehoseTestServer extends S3TestServer {
  firehose(extra?: Partial<FirehoseClientConfig>): FirehoseClient;
}

export const ROLE = 'arn:aws:iam::000000000000:role/firehose-test';

/** A real server with its S3 endpoint (see ../s3/helpers.ts), and Firehose clients for it. */
export async function startFirehoseServer(overrides: Partial<ServeConfig> = {}, opts: { dataDir?: string; clock?: Clock } = {}): Promise<FirehoseTestServer> {
  const server = await startS3TestServer(overrides, opts);
  const clients: FirehoseClient[] = [];
  return {
    ...server,
    firehose(extra = {}) {
      const c = new FirehoseClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
        maxAttempts: 1,
        ...extra,
      });
      clients.push(c);
      return c;
    },
    async destroy() {
      for (const c of clients) c.destroy();
      await server.destroy();
    },
  };
}

/** Runs `fn` and returns the error it rejects with (failing if it resolves). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

/** Polls `check` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every object in a bucket: key, size and body. */
export async function readBucket(s3: S3Client, bucket: string, prefix = ''): Promise<{ key: string; size: number; body: Buffer }[]> {
  const { ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const out: { key: string; size: number; body: Buffer }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      out.push({ key: o.Key!, size: o.Size ?? 0, body: Buffer.from(await got.Body!.transformToByteArray()) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
