import {
  CreateChannelCommand,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type CreateChannelCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export const ACCOUNT = '000000000000';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/channel-delivery`;

export const streamArn = (name: string) => `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/${name}`;
export const channelArn = (name: string) => `arn:aws:kinesis:us-east-1:${ACCOUNT}:channel/${name}`;

/** Creates a stream and returns once DescribeStreamSummary says it is ACTIVE (its delay elapsed). */
export async function createStream(kinesis: KinesisClient, name: string, mode: 'ON_DEMAND' | 'PROVISIONED' = 'ON_DEMAND'): Promise<void> {
  await kinesis.send(
    new CreateStreamCommand(mode === 'ON_DEMAND' ? { StreamName: name, StreamModeDetails: { StreamMode: 'ON_DEMAND' } } : { StreamName: name, ShardCount: 1 }),
  );
}

export async function streamStatus(kinesis: KinesisClient, name: string): Promise<string | undefined> {
  const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  return out.StreamDescriptionSummary?.StreamStatus;
}

/** A CreateChannel request to an S3 bucket, with `extra` over the defaults. */
export function channelRequest(name: string, stream: string, bucket: string, extra: Partial<CreateChannelCommandInput> = {}): CreateChannelCommandInput {
  return {
    ChannelName: name,
    ServiceExecutionRoleARN: ROLE,
    StreamConfigurationList: [{ StreamARN: streamArn(stream), RecordConfiguration: { RecordFormatType: 'JSON' } }],
    S3DestinationConfiguration: {
      StorageConfiguration: { BucketARN: `arn:aws:s3:::${bucket}`, ExpectedBucketOwner: ACCOUNT, CompressionType: 'NONE' },
    },
    ...extra,
  };
}

export async function createChannel(kinesis: KinesisClient, input: CreateChannelCommandInput) {
  return (await kinesis.send(new CreateChannelCommand(input))).ChannelDescription!;
}

/**
 * icebird fetches `s3://b/k` as `https://b.s3.amazonaws.com/k`; this serves those URLs from the
 * server's S3 endpoint (signed, through the S3 client), with the Range header passed on; other
 * URLs go to `original`.
 */
export function s3Fetch(s3: () => S3Client, original: typeof fetch = globalThis.fetch): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const m = /^([^.]+)\.s3\.amazonaws\.com$/.exec(url.hostname);
    if (!m) return original(input, init);
    const Bucket = m[1]!;
    const Key = decodeURIComponent(url.pathname.slice(1));
    const range = new Headers(init?.headers).get('range') ?? undefined;
    try {
      if (init?.method === 'HEAD') {
        const head = await s3().send(new HeadObjectCommand({ Bucket, Key }));
        return new Response(null, { status: 200, headers: { 'content-length': String(head.ContentLength ?? 0) } });
      }
      const out = await s3().send(new GetObjectCommand({ Bucket, Key, Range: range }));
      const bytes = await out.Body!.transformToByteArray();
      return new Response(bytes, { status: range ? 206 : 200, headers: { 'content-length': String(bytes.length) } });
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 500;
      return new Response(String(err), { status });
    }
  }) as typeof fetch;
}
