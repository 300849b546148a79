/**
 * A flipped byte in a segment file (src/storage/embedded/format.ts: every batch carries a CRC-32)
 * is found by its checksum, reported (an error-level log event, `storage: "corrupt-batch"` or
 * `"truncated-tail"`, naming the file), and never served: GetRecords over the damaged range skips it.
 *
 * What the embedded engine does, and these tests pin down:
 * - in a closed segment, a read that meets the bad batch steps over it to the next good batch:
 *   every other record, before and after it in that segment and in later ones, is served;
 * - the last batch of the active segment, damaged before a restart, cannot be told from a torn
 *   write: recovery cuts it off, and appends continue from there.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient, removeDir, tempDir, testEngine } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { readShard } from '../crash/check.js';
import { spawnLoggingServer, type LoggingServer } from '../crash/child.js';
import { createStream } from './support.js';

const SHARD = 'shardId-000000000000';

function segments(dataDir: string): string[] {
  const streams = path.join(dataDir, 'streams');
  const [stream] = readdirSync(streams);
  const dir = path.join(streams, stream!, '0');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The base offsets of the batches in a segment file (each batch is one PutRecord here). */
function batchOffsets(file: string): number[] {
  const buf = readFileSync(file);
  const out: number[] = [];
  for (let at = 0; at + 40 <= buf.length; at += buf.readUInt32LE(at + 8)) out.push(Number(buf.readBigInt64LE(at + 16)));
  return out;
}

/** Flips one bit inside the data of record `n`, wherever it is in `file`. */
function flipRecord(file: string, n: number): void {
  const buf = readFileSync(file);
  const at = buf.indexOf(Buffer.from(recordData(n)));
  assert.ok(at >= 0, `record ${n} is in ${file}`);
  buf[at + recordData(n).length - 5]! ^= 0x01;
  writeFileSync(file, buf);
}

function recordData(n: number): string {
  return `rec|${n}|`.padEnd(400, 'x');
}

async function putAll(client: KinesisClient, stream: string, count: number): Promise<string[]> {
  const seqs: string[] = [];
  for (let n = 0; n < count; n++) {
    const r = await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from(recordData(n)) }));
    seqs.push(r.SequenceNumber!);
  }
  return seqs;
}

/** What a shard serves, as record numbers; fails on any data that is not one of the records sent. */
async function served(client: KinesisClient, stream: string, sent: number): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const r of await readShard(client, stream, SHARD)) {
    const text = r.data.toString();
    const n = Number(text.split('|')[1]);
    assert.ok(n >= 0 && n < sent && text === recordData(n), `served data that was never sent: ${text.slice(0, 30)}…${text.slice(-10)}`);
    assert.ok(!out.has(n), `record ${n} served twice`);
    out.set(n, r.seq);
  }
  return out;
}

async function stop(server: LoggingServer | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  await server.exited;
}

describe('flipped bytes in segment files', { skip: testEngine !== 'embedded' && 'segment files are the embedded engine' }, () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('in the middle of a closed segment: detected, reported, never served; the rest is', async (t) => {
    const dataDir = tempDir('tributary-flip-');
    dirs.push(dataDir);
    const args = ['--fsync', 'always', '--segment-bytes', String(16 * 1024), '--create-stream-ms', '0'];
    let server: LoggingServer | undefined = await spawnLoggingServer(dataDir, args);
    try {
      let client = kinesisClient(server.endpoint);
      await createStream(client, 'flip', 1);
      const count = scale(150, 1500);
      const seqs = await putAll(client, 'flip', count);
      client.destroy();
      await stop(server, 'SIGTERM');

      const files = segments(dataDir);
      assert.ok(files.length >= 3, `several segments (${files.length})`);
      const closed = batchOffsets(files[0]!);
      const bad = closed[Math.floor(closed.length / 2)]!;
      const nextSegment = batchOffsets(files[1]!)[0]!;
      flipRecord(files[0]!, bad);

      server = await spawnLoggingServer(dataDir, args);
      client = kinesisClient(server.endpoint);
      const first = await served(client, 'flip', count);
      assert.ok(!first.has(bad), `the damaged record ${bad} is not served`);
      for (let n = 0; n < bad; n++) assert.equal(first.get(n), seqs[n], `record ${n}, before the damage, is served`);
      for (let n = nextSegment; n < count; n++) assert.equal(first.get(n), seqs[n], `record ${n}, in a later segment, is served`);
      for (let n = 0; n < count; n++) if (n !== bad) assert.equal(first.get(n), seqs[n], `record ${n} is served`);
      t.diagnostic(`damaged record ${bad}; every other record of its segment is served`);
      const warning = server.lines.find((l) => l.includes('"storage":"corrupt-batch"'));
      assert.ok(warning?.includes(path.basename(files[0]!)), `the damage is reported with its file:\n${server.lines.join('\n')}`);
      assert.ok(warning?.includes(`"lostOffsets":{"first":${bad},"last":${bad}}`), warning);
      // A second read serves the same: the damage is stepped over, not reported again.
      assert.deepEqual(await served(client, 'flip', count), first);
      const after = await client.send(new PutRecordCommand({ StreamName: 'flip', PartitionKey: 'k', Data: Buffer.from(recordData(count)) }));
      client.destroy();
      await stop(server, 'SIGTERM');

      server = await spawnLoggingServer(dataDir, args);
      client = kinesisClient(server.endpoint);
      const again = await served(client, 'flip', count + 1);
      assert.deepEqual(again, new Map([...first, [count, after.SequenceNumber!]]), 'a restart serves the same records and the new one');
      client.destroy();
      await stop(server, 'SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      await stop(server, 'SIGKILL');
    }
  });

  it('in the tail of the active segment before a restart: cut at recovery, reported, never served', async () => {
    const dataDir = tempDir('tributary-flip-tail-');
    dirs.push(dataDir);
    const args = ['--fsync', 'always', '--create-stream-ms', '0'];
    let server: LoggingServer | undefined = await spawnLoggingServer(dataDir, args);
    try {
      let client = kinesisClient(server.endpoint);
      await createStream(client, 'tail', 1);
      const count = scale(30, 300);
      const seqs = await putAll(client, 'tail', count);
      client.destroy();
      await stop(server, 'SIGKILL');

      const files = segments(dataDir);
      assert.equal(files.length, 1, 'one (active) segment');
      flipRecord(files[0]!, count - 1);

      server = await spawnLoggingServer(dataDir, args);
      client = kinesisClient(server.endpoint);
      const records = await served(client, 'tail', count);
      assert.deepEqual(records, new Map(seqs.slice(0, count - 1).map((seq, n) => [n, seq])), 'every record before the damaged one, and not it');
      const warning = server.lines.find((l) => l.includes('"storage":"truncated-tail"'));
      assert.ok(warning?.includes(path.basename(files[0]!)), `the cut is reported with its file:\n${server.lines.join('\n')}`);
      const next = await client.send(new PutRecordCommand({ StreamName: 'tail', PartitionKey: 'k', Data: Buffer.from(recordData(count)) }));
      assert.ok(BigInt(next.SequenceNumber!) > BigInt(seqs[count - 2]!), 'appends continue after the last good record');
      const afterAppend = await served(client, 'tail', count + 1);
      assert.deepEqual([...afterAppend.keys()], [...Array.from({ length: count - 1 }, (_, n) => n), count]);
      client.destroy();
      await stop(server, 'SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      await stop(server, 'SIGKILL');
    }
  });
});
