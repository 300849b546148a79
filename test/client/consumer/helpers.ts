import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

export const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
}

/** Creates a stream and waits (bounded) until it is ACTIVE. */
export async function createActiveStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitActive(kinesis, name);
}

export async function waitActive(kinesis: KinesisClient, name: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`stream ${name} not ACTIVE`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls `fn` until it returns a truthy value, at most `ms`. */
export async function eventually<T>(fn: () => T | Promise<T>, what: string, ms = 20_000, every = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

import { PutRecordsCommand } from '@aws-sdk/client-kinesis';

export interface Produced {
  shard: string;
  seq: string;
  pk: string;
  data: string;
}

/** PutRecords of (key, data) pairs; every entry must succeed. */
export async function put(kinesis: KinesisClient, stream: string, entries: Array<{ pk: string; data: string }>): Promise<Produced[]> {
  const r = await kinesis.send(
    new PutRecordsCommand({ StreamName: stream, Records: entries.map((e) => ({ PartitionKey: e.pk, Data: Buffer.from(e.data) })) }),
  );
  if (r.FailedRecordCount) throw new Error(`PutRecords failed for ${r.FailedRecordCount} records`);
  return r.Records!.map((x, i) => ({ shard: x.ShardId!, seq: x.SequenceNumber!, pk: entries[i].pk, data: entries[i].data }));
}

export function bySeq(a: { seq?: string; sub?: number }, b: { seq?: string; sub?: number }): number {
  const x = BigInt(a.seq!);
  const y = BigInt(b.seq!);
  return x < y ? -1 : x > y ? 1 : (a.sub ?? 0) - (b.sub ?? 0);
}
