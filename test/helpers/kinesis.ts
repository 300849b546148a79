import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
/** 2^128 - 1, the largest hash key. */
export const HASH_KEY_MAX = (1n << 128n) - 1n;
export const MiB = 1024 * 1024;

export function arnOf(stream: string): string {
  return `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${stream}`;
}

export function shardId(index: number): string {
  return 'shardId-' + String(index).padStart(12, '0');
}

/** MD5 of the partition key's UTF-8 bytes as an unsigned 128-bit integer. */
export function md5Hash(partitionKey: string): bigint {
  return BigInt('0x' + createHash('md5').update(partitionKey, 'utf8').digest('hex'));
}

interface SdkError extends Error {
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The call fails with this AWS error type, HTTP 400, and (if given) this exact message or a match. */
export async function expectError(call: Promise<unknown>, type: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(call, (err: SdkError) => {
    assert.equal(err.name, type, `expected ${type}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.equal(err.$fault, 'client');
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

/** One constraint violation as AWS words it. A null value prints without quotes. */
export function violation(value: string | null, path: string, rule: string): string {
  return `Value ${value === null ? 'null' : `'${value}'`} at '${path}' failed to satisfy constraint: ${rule}`;
}

/** The whole ValidationException message for these violations, in order. */
export function validationMessage(...violations: string[]): string {
  const n = violations.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
}

export const NOT_NULL = 'Member must not be null';
export const NAME_PATTERN = 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+';
export const ARN_PATTERN = 'Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+';
export const HASH_KEY_PATTERN = 'Member must satisfy regular expression pattern: ^(0|([1-9]\\d{0,38}))$';
export const SEQUENCE_PATTERN = 'Member must satisfy regular expression pattern: ^(0|([1-9]\\d{0,128}))$';
export const lengthAtLeast = (n: number) => `Member must have length greater than or equal to ${n}`;
export const lengthAtMost = (n: number) => `Member must have length less than or equal to ${n}`;
export const valueAtLeast = (n: number) => `Member must have value greater than or equal to ${n}`;
export const valueAtMost = (n: number) => `Member must have value less than or equal to ${n}`;

/** How AWS prints a blob in a validation message. */
export function blobText(length: number): string {
  return `java.nio.HeapByteBuffer[pos=0 lim=${length} cap=${length}]`;
}

export function streamNotFound(stream: string): string {
  return `Stream ${stream} under account ${ACCOUNT} not found.`;
}

export function shardNotFound(stream: string, shard: string): string {
  return `Shard ${shard} in stream ${stream} under account ${ACCOUNT} does not exist`;
}

export async function createStream(client: KinesisClient, name: string, shardCount = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
}

export async function getIterator(
  client: KinesisClient,
  stream: string,
  shard: string,
  type: GetShardIteratorCommandInput['ShardIteratorType'],
  extra: Partial<GetShardIteratorCommandInput> = {},
): Promise<string> {
  const r = await client.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shard, ShardIteratorType: type, ...extra }),
  );
  assert.ok(r.ShardIterator, 'GetShardIterator returns an iterator');
  return r.ShardIterator;
}

export interface Drained {
  records: _Record[];
  /** The iterator to continue from, once caught up. */
  next: string;
  calls: number;
}

/** Follows NextShardIterator until a call reports MillisBehindLatest 0 and returns nothing. */
export async function drain(client: KinesisClient, iterator: string, limit?: number): Promise<Drained> {
  const records: _Record[] = [];
  let next = iterator;
  for (let calls = 1; calls <= 1000; calls++) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: next, Limit: limit }));
    assert.ok(r.NextShardIterator, 'an open shard always gives a NextShardIterator');
    next = r.NextShardIterator;
    records.push(...(r.Records ?? []));
    if ((r.Records ?? []).length === 0 && r.MillisBehindLatest === 0) return { records, next, calls };
  }
  throw new Error('the shard never caught up');
}

/** Every record of a shard from TRIM_HORIZON to the tip. */
export async function readShard(client: KinesisClient, stream: string, shard: string): Promise<_Record[]> {
  return (await drain(client, await getIterator(client, stream, shard, 'TRIM_HORIZON'))).records;
}

export function text(record: _Record): string {
  return Buffer.from(record.Data!).toString('utf8');
}

export function texts(records: readonly _Record[]): string[] {
  return records.map(text);
}

/** `java.util.Date#toString` in UTC, as AWS messages print times: `Thu Jan 22 01:22:02 UTC 2015`. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/** A whole second of clock time to start a ManualClock at, so that ms and s arithmetic stays exact. */
export function wholeSecond(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}
