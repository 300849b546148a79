import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import type { ServeConfig } from '../../../src/settings/index.js';
import type { Clock } from '../../../src/util/clock.js';

export interface S3TestServer extends TestServer {
  s3: string;
  s3Client(extra?: Partial<S3ClientConfig>): S3Client;
}

export const DUMMY_ENV = { AWS_ACCESS_KEY_ID: 'AKIDS3TEST', AWS_SECRET_ACCESS_KEY: 's3-test-secret', AWS_DEFAULT_REGION: 'us-east-1' };

/** A real server with its S3 endpoint on an ephemeral port. */
export async function startS3TestServer(overrides: Partial<ServeConfig> = {}, opts: { dataDir?: string; clock?: Clock } = {}): Promise<S3TestServer> {
  const server = await startTestServer({ s3Port: 0, ...overrides }, opts);
  const clients: S3Client[] = [];
  return {
    ...server,
    s3: server.s3Endpoint!,
    s3Client(extra = {}) {
      const c = new S3Client({
        endpoint: server.s3Endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIDS3TEST', secretAccessKey: 's3-test-secret' },
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

/** S3's ETag of a multipart object, computed here from the parts' bytes. */
export function multipartEtag(parts: readonly Buffer[], md5: (b: Buffer) => Buffer): string {
  return `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;
}
