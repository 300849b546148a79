import { Agent } from 'node:http';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { checkEndpoint, errorName, nowMs, sleep } from './util.js';

// The benchmark runs on the Node version the project targets; the SDK's notice
// about future Node requirements would only clutter the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface BenchClient {
  kinesis: KinesisClient;
  endpoint: string;
  close(): void;
}

/**
 * A Kinesis client for one endpoint: keep-alive sockets, enough of them for the
 * requested concurrency, no automatic retries (failures are counted, not hidden).
 */
export function makeClient(endpoint: string, sockets: number): BenchClient {
  checkEndpoint(endpoint);
  const agent = new Agent({
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: sockets,
    maxFreeSockets: sockets,
    scheduling: 'lifo',
  });
  const kinesis = new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCHMARK0000000', secretAccessKey: 'benchmark-secret-key' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: agent,
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
    }),
  });
  return {
    kinesis,
    endpoint,
    close() {
      kinesis.destroy();
      agent.destroy();
    },
  };
}

/** Errors that mean "the server does not implement this operation". */
export function isUnsupported(err: unknown): boolean {
  const name = errorName(err);
  if (/UnknownOperation|NotImplemented|InvalidAction|UnsupportedOperation/i.test(name)) return true;
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode === 404 || meta?.httpStatusCode === 501;
}

async function retrying<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
  let wait = 20;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const name = errorName(err);
      const transient = /LimitExceeded|Throughput|Throttl|ResourceInUse|ECONNRESET|socket hang up/i.test(name);
      if (!transient || nowMs() > deadline) throw err;
      await sleep(wait);
      wait = Math.min(wait * 2, 500);
    }
  }
}

async function streamStatus(c: BenchClient, name: string): Promise<string> {
  try {
    const r = await c.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    return r.StreamDescriptionSummary?.StreamStatus ?? 'UNKNOWN';
  } catch (err) {
    if (!isUnsupported(err)) throw err;
  }
  const r = await c.kinesis.send(new DescribeStreamCommand({ StreamName: name, Limit: 1 }));
  return r.StreamDescription?.StreamStatus ?? 'UNKNOWN';
}

/** Creates a provisioned stream and waits (bounded) until it is ACTIVE. */
export async function createStream(c: BenchClient, name: string, shards: number, timeoutMs = 60_000): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  await retrying(deadline, () =>
    c.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards })),
  );
  let wait = 10;
  for (;;) {
    let status = 'UNKNOWN';
    try {
      status = await streamStatus(c, name);
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') throw err;
    }
    if (status === 'ACTIVE') return;
    if (nowMs() > deadline) throw new Error(`stream ${name} not ACTIVE after ${timeoutMs} ms (status ${status})`);
    await sleep(wait);
    wait = Math.min(wait * 2, 250);
  }
}

/** Deletes a stream and waits (bounded) until it is gone; never throws. */
export async function deleteStream(c: BenchClient, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  try {
    await retrying(deadline, () =>
      c.kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true })),
    );
  } catch (err) {
    if (errorName(err) !== 'ResourceNotFoundException') {
      process.stderr.write(`warning: could not delete stream ${name}: ${errorName(err)}\n`);
    }
    return;
  }
  let wait = 10;
  while (nowMs() < deadline) {
    try {
      await streamStatus(c, name);
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return;
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 250);
  }
  process.stderr.write(`warning: stream ${name} still present ${timeoutMs} ms after DeleteStream\n`);
}

/** Shard ids of a stream, in order. */
export async function shardIds(c: BenchClient, name: string): Promise<string[]> {
  try {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await c.kinesis.send(
        token ? new ListShardsCommand({ NextToken: token }) : new ListShardsCommand({ StreamName: name }),
      );
      for (const s of r.Shards ?? []) if (s.ShardId) out.push(s.ShardId);
      token = r.NextToken;
    } while (token);
    return out;
  } catch (err) {
    if (!isUnsupported(err)) throw err;
  }
  const r = await c.kinesis.send(new DescribeStreamCommand({ StreamName: name }));
  return (r.StreamDescription?.Shards ?? []).map((s) => s.ShardId ?? '').filter(Boolean);
}

export async function shardIterator(
  c: BenchClient,
  stream: string,
  shardId: string,
  type: ShardIteratorType,
): Promise<string> {
  const r = await c.kinesis.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: type }),
  );
  if (!r.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${stream}/${shardId}`);
  return r.ShardIterator;
}
