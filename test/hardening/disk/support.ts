/**
 * What the disk-fault tests share: a small tmpfs to fill (root only), a ledger of the records sent
 * and acknowledged, and the check that a stream serves exactly what the ledger allows.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { listShards, readShard } from '../crash/check.js';

/**
 * Whether this process may mount a tmpfs. Outside CI a test that needs it skips with the returned
 * reason; under CI=true it must fail instead, so the caller asserts.
 */
export function mountUnavailable(probeDir: string): string | undefined {
  mkdirSync(probeDir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probeDir], { stdio: 'pipe' });
  } catch (err) {
    return (
      `mounting a tmpfs failed (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}); ` +
      'run as root (or in a container with CAP_SYS_ADMIN) with mount(8) from util-linux installed'
    );
  }
  execFileSync('umount', [probeDir]);
  rmSync(probeDir, { recursive: true, force: true });
  return undefined;
}

export function mountTmpfs(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Unmounts; lazily if something still holds it (a server that has not exited yet). */
export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
  rmSync(dir, { recursive: true, force: true });
}

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A PutRecords answered with entries that failed: what those entries said. */
export class FailedEntries extends Error {
  override name = 'FailedEntries';
  constructor(readonly failed: { ErrorCode?: string; ErrorMessage?: string }[]) {
    super(`${failed.length} entries of an answered PutRecords failed: ${failed.map((e) => `${e.ErrorCode} ${e.ErrorMessage}`).join('; ')}`);
  }
}

/**
 * What a write gets when the disk fails it, as AWS answers a fault of its own: PutRecord (and
 * other calls) InternalFailureException with HTTP 500; PutRecords a 200 whose entries for the
 * failed shards carry ErrorCode InternalFailure.
 */
export function assertStorageFailure(err: unknown, what: string): void {
  if (err instanceof FailedEntries) {
    for (const e of err.failed) {
      assert.equal(e.ErrorCode, 'InternalFailure', `${what}: ${err.message}`);
      assert.equal(e.ErrorMessage, 'Internal Service Failure', `${what}: entry message`);
    }
    return;
  }
  const e = err as SdkError;
  assert.equal(e.name, 'InternalFailureException', `${what}: ${e.name}: ${(err as Error).message}`);
  assert.equal(e.$metadata?.httpStatusCode, 500, `${what}: HTTP status`);
  assert.equal((err as Error).message, 'Internal service failure.');
}

export class Ledger {
  readonly sent = new Set<string>();
  readonly acked = new Map<string, { shard: string; seq: string }>();
  private n = 0;

  /** `tag` starts every payload, so that ledgers of one stream never share data. */
  constructor(
    readonly stream: string,
    private readonly tag = stream,
  ) {}

  /** PutRecords of `count` records of about `bytes` bytes; the acknowledged ones go into the ledger. */
  async put(client: KinesisClient, count: number, bytes: number): Promise<void> {
    const entries = Array.from({ length: count }, () => {
      const head = `${this.tag}|${this.n++}|`;
      const data = head + 'x'.repeat(Math.max(0, bytes - head.length));
      this.sent.add(data);
      return { PartitionKey: `k${this.n % 97}`, Data: Buffer.from(data) };
    });
    const r = await client.send(new PutRecordsCommand({ StreamName: this.stream, Records: entries }));
    const failed: { ErrorCode?: string; ErrorMessage?: string }[] = [];
    r.Records!.forEach((e, i) => {
      if (e.SequenceNumber) this.acked.set(entries[i]!.Data.toString(), { shard: e.ShardId!, seq: e.SequenceNumber });
      else failed.push(e);
    });
    assert.equal(r.FailedRecordCount ?? 0, failed.length, 'FailedRecordCount counts the failed entries');
    if (failed.length > 0) throw new FailedEntries(failed);
  }

  /** Every acknowledged record is served where it was acknowledged; nothing unsent or twice. */
  async verify(client: KinesisClient, what: string): Promise<number> {
    const found = new Map<string, { shard: string; seq: string }>();
    for (const shard of await listShards(client, this.stream)) {
      let previous = -1n;
      for (const r of await readShard(client, this.stream, shard.ShardId!)) {
        const text = r.data.toString();
        assert.ok(this.sent.has(text), `${what}: ${shard.ShardId} serves data never sent: ${text.slice(0, 40)}`);
        assert.ok(!found.has(text), `${what}: ${text.slice(0, 30)} is served twice`);
        assert.ok(BigInt(r.seq) > previous, `${what}: sequence numbers increase`);
        previous = BigInt(r.seq);
        found.set(text, { shard: shard.ShardId!, seq: r.seq });
      }
    }
    for (const [text, where] of this.acked) {
      assert.deepEqual(found.get(text), where, `${what}: acknowledged ${text.slice(0, 30)} is where it was acknowledged`);
    }
    return found.size;
  }
}

export async function createStream(client: KinesisClient, stream: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  for (const deadline = Date.now() + 30_000; ; ) {
    assert.ok(Date.now() < deadline, `${stream} became ACTIVE`);
    const { StreamDescriptionSummary: d } = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (d!.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
