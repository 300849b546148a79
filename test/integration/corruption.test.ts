/**
 * Damage in the embedded engine's files, end to end: a flipped byte in a segment costs the records
 * of its batch and no others; the loss is an error-level log event with the stream, shard, file,
 * bytes, offsets and sequence numbers, and counted in /metrics; `tributary check` reports it and
 * `--repair` rewrites the segment. A torn tail and a damaged index are told apart from it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { CLI, removeDir, startTestServer, tempDir, testEngine, type TestServer } from '../helpers/server.js';
import type { ServeConfig } from '../../src/settings/index.js';

const SHARD = 'shardId-000000000000';

interface Captured {
  logger: pino.Logger;
  lines: Record<string, unknown>[];
}

function capturingLogger(): Captured {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

function storageEvents(c: Captured, code: string): Record<string, unknown>[] {
  return c.lines.filter((l) => l.storage === code);
}

async function start(dataDir: string, overrides: Partial<ServeConfig> = {}): Promise<{ server: TestServer; client: KinesisClient; log: Captured }> {
  const log = capturingLogger();
  const server = await startTestServer({ fsync: 'always', metricsEndpoint: 'on', ...overrides }, { dataDir, logger: log.logger });
  return { server, client: server.client(), log };
}

/** Puts `batches` PutRecords calls of three records each; their sequence numbers, by record name. */
async function putBatches(client: KinesisClient, stream: string, batches: number, from = 0): Promise<Map<string, string>> {
  const seqs = new Map<string, string>();
  for (let b = from; b < from + batches; b++) {
    const names = [0, 1, 2].map((i) => recordName(b, i));
    const r = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: names.map((n) => ({ PartitionKey: 'k', Data: Buffer.from(n) })) }),
    );
    assert.equal(r.FailedRecordCount ?? 0, 0);
    r.Records!.forEach((x, i) => seqs.set(names[i]!, x.SequenceNumber!));
  }
  return seqs;
}

function recordName(batch: number, i: number): string {
  return `batch ${batch} record ${i} `.padEnd(120, '.');
}

/** Every record of the shard, read with the SDK from TRIM_HORIZON: data and sequence number. */
async function served(client: KinesisClient, stream: string): Promise<Map<string, string>> {
  const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: SHARD, ShardIteratorType: 'TRIM_HORIZON' }));
  const out = new Map<string, string>();
  let it = ShardIterator;
  for (let calls = 0; calls < 100; calls++) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it }));
    for (const rec of r.Records ?? []) out.set(Buffer.from(rec.Data!).toString(), rec.SequenceNumber!);
    it = r.NextShardIterator;
    if (!r.Records?.length || r.MillisBehindLatest === 0) break;
  }
  return out;
}

function shardDir(dataDir: string): string {
  const streams = path.join(dataDir, 'streams');
  const [stream] = readdirSync(streams);
  return path.join(streams, stream!, '0');
}

function segmentFiles(dataDir: string): string[] {
  const dir = shardDir(dataDir);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Flips one bit in the data of the record named `name`, in whichever segment holds it. */
function flipRecord(dataDir: string, name: string): string {
  for (const file of segmentFiles(dataDir)) {
    const buf = readFileSync(file);
    const at = buf.indexOf(Buffer.from(name));
    if (at < 0) continue;
    buf[at + 3]! ^= 0x01;
    writeFileSync(file, buf);
    return file;
  }
  throw new Error(`no segment holds ${name}`);
}

function check(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'check', dataDir, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

function without(seqs: Map<string, string>, lost: string[]): Map<string, string> {
  return new Map([...seqs].filter(([name]) => !lost.includes(name)));
}

function metricValue(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('damage in segment files', { skip: testEngine !== 'embedded' && 'segment files are the embedded engine' }, () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('a flipped byte in the first of three batches: batches 2 and 3 are served, the loss is logged, counted and checked', async () => {
    const dataDir = tempDir('tributary-flip-first-');
    dirs.push(dataDir);
    let { server, client } = await start(dataDir);
    await client.send(new CreateStreamCommand({ StreamName: 'flip', ShardCount: 1 }));
    const seqs = await putBatches(client, 'flip', 3);
    await server.destroy();
    const lost = [0, 1, 2].map((i) => recordName(0, i));
    const file = flipRecord(dataDir, recordName(0, 1));

    let log: Captured;
    ({ server, client, log } = await start(dataDir));
    try {
      assert.deepEqual(await served(client, 'flip'), without(seqs, lost), 'the records of batches 2 and 3, with their numbers');
      const [event, ...more] = storageEvents(log, 'corrupt-batch');
      assert.equal(more.length, 0);
      assert.equal(event?.level, 50, 'an error-level event');
      assert.equal(event?.stream, 'flip');
      assert.equal(event?.shard, SHARD);
      assert.equal(event?.file, file);
      assert.deepEqual(event?.lostOffsets, { first: 0, last: 2 });
      assert.equal(event?.lostRecords, 3);
      const bytes = event?.bytes as { from: number; to: number };
      assert.equal(bytes.from, 0);
      assert.ok(bytes.to > 3 * 120 && bytes.to < statSync(file).size, `the first batch's bytes (${JSON.stringify(bytes)})`);
      assert.match(String(event?.msg), /fails its CRC; bytes 0 to \d+ skipped, offsets 0 to 2 \(3 records\) lost/);
      // The lost records' sequence numbers are exactly those in the range the event names.
      const range = event?.lostSequenceNumbers as { from: string; below: string };
      for (const [name, seq] of seqs) {
        const inside = BigInt(seq) >= BigInt(range.from) && BigInt(seq) < BigInt(range.below);
        assert.equal(inside, lost.includes(name), `${name.trim()}: ${seq}`);
      }
      const metrics = await (await fetch(`${server.endpoint}/metrics`)).text();
      const labels = `stream="flip",shard="${SHARD}"`;
      assert.equal(metricValue(metrics, 'tributary_storage_shard_faults_total', `${labels},kind="corrupt-batch"`), 1);
      assert.equal(metricValue(metrics, 'tributary_storage_shard_lost_records_total', labels), 3);

      // check refuses to run against the directory of a live server.
      const busy = await check(dataDir);
      assert.equal(busy.code, 2);
      assert.match(busy.stderr, /in use by a running server/);
    } finally {
      await server.destroy();
    }

    const found = await check(dataDir);
    assert.equal(found.code, 1, found.stdout + found.stderr);
    assert.ok(
      found.stdout.includes(`problem: ${file}: bytes 0 to `) && found.stdout.includes('offsets 0 to 2 (3 records) lost'),
      found.stdout,
    );
    assert.match(found.stdout, /1 stream, 1 shard log, 1 segment, 2 batches checked: 1 problem \(1 repairable with --repair\), 3 records lost to damage\n$/);

    const repaired = await check(dataDir, '--repair');
    assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
    assert.match(repaired.stdout, /^repaired: .*00000000000000000000\.log: rewritten without \d+ damaged bytes, 1 gap batch in their place$/m);
    assert.match(repaired.stdout, /3 batches checked: no problems; 3 records recorded as lost by earlier repairs\n$/);
    assert.equal((await check(dataDir)).code, 0);

    ({ server, client, log } = await start(dataDir));
    try {
      assert.deepEqual(await served(client, 'flip'), without(seqs, lost), 'the same records after the repair');
      assert.deepEqual(storageEvents(log, 'corrupt-batch'), [], 'a repaired segment is not reported again');
      const next = await client.send(new PutRecordCommand({ StreamName: 'flip', PartitionKey: 'k', Data: Buffer.from('after') }));
      assert.ok(BigInt(next.SequenceNumber!) > BigInt(seqs.get(recordName(2, 2))!), 'offsets go on after the last one');
    } finally {
      await server.destroy();
    }
  });

  it('a flipped byte in the middle batch of a closed segment: the batches around it are served', async () => {
    const dataDir = tempDir('tributary-flip-middle-');
    dirs.push(dataDir);
    // Segments of three batches (3 × ~520 bytes), so that batches 0-2 are a closed segment.
    let { server, client } = await start(dataDir, { segmentBytes: 1600 });
    await client.send(new CreateStreamCommand({ StreamName: 'mid', ShardCount: 1 }));
    const seqs = await putBatches(client, 'mid', 5);
    await server.destroy();
    assert.ok(segmentFiles(dataDir).length >= 2, 'a closed segment and the active one');
    const lost = [0, 1, 2].map((i) => recordName(1, i));
    const file = flipRecord(dataDir, recordName(1, 2));
    assert.equal(file, segmentFiles(dataDir)[0]);

    let log: Captured;
    ({ server, client, log } = await start(dataDir, { segmentBytes: 1600 }));
    try {
      assert.deepEqual(await served(client, 'mid'), without(seqs, lost));
      assert.deepEqual(storageEvents(log, 'corrupt-batch').map((e) => e.lostOffsets), [{ first: 3, last: 5 }]);
    } finally {
      await server.destroy();
    }
    const found = await check(dataDir);
    assert.equal(found.code, 1);
    assert.ok(found.stdout.includes(`problem: ${file}: bytes `) && found.stdout.includes('offsets 3 to 5 (3 records) lost'), found.stdout);
    const repaired = await check(dataDir, '--repair');
    assert.equal(repaired.code, 0, repaired.stdout);
    assert.match(repaired.stdout, /\.idx: written again from its segment/);

    ({ server, client, log } = await start(dataDir, { segmentBytes: 1600 }));
    try {
      assert.deepEqual(await served(client, 'mid'), without(seqs, lost));
      assert.deepEqual(storageEvents(log, 'corrupt-batch'), []);
      assert.deepEqual(storageEvents(log, 'index-rebuilt'), [], 'the repaired index matches its segment');
    } finally {
      await server.destroy();
    }
  });

  it('a torn tail is cut off as such, not reported as damage, and check tells it apart', async () => {
    const dataDir = tempDir('tributary-torn-');
    dirs.push(dataDir);
    let { server, client } = await start(dataDir);
    await client.send(new CreateStreamCommand({ StreamName: 'torn', ShardCount: 1 }));
    const seqs = await putBatches(client, 'torn', 3);
    await server.destroy();
    const [file] = segmentFiles(dataDir);
    const size = statSync(file!).size;
    // A write cut short: the last batch has its header and part of its records.
    truncateSync(file!, size - 100);

    const found = await check(dataDir);
    assert.equal(found.code, 1);
    assert.match(found.stdout, /problem: .*\.log: torn tail from byte \d+ \(.*\): \d+ bytes a server cuts off when it starts/);
    assert.doesNotMatch(found.stdout, /damaged/);

    let log: Captured;
    ({ server, client, log } = await start(dataDir));
    try {
      const torn = [0, 1, 2].map((i) => recordName(2, i));
      assert.deepEqual(await served(client, 'torn'), without(seqs, torn));
      const [event] = storageEvents(log, 'truncated-tail');
      assert.equal(event?.level, 50);
      assert.equal(event?.shard, SHARD);
      assert.match(String(event?.msg), /^torn tail: .*; cut from \d+ to \d+ bytes, the log goes on at offset 6$/);
      assert.deepEqual(storageEvents(log, 'corrupt-batch'), []);
      const metrics = await (await fetch(`${server.endpoint}/metrics`)).text();
      assert.equal(metricValue(metrics, 'tributary_storage_shard_faults_total', 'kind="truncated-tail"'), 1);
    } finally {
      await server.destroy();
    }
    assert.equal((await check(dataDir)).code, 0, 'the server cut it off');
  });

  it('a damaged index is reported and rebuilt; no record is lost', async () => {
    const dataDir = tempDir('tributary-index-');
    dirs.push(dataDir);
    let { server, client } = await start(dataDir, { segmentBytes: 1600 });
    await client.send(new CreateStreamCommand({ StreamName: 'idx', ShardCount: 1 }));
    const seqs = await putBatches(client, 'idx', 5);
    await server.destroy();
    const dir = shardDir(dataDir);
    const [index] = readdirSync(dir).filter((f) => f.endsWith('.idx'));
    assert.ok(index, 'the closed segment has an index');
    const buf = readFileSync(path.join(dir, index));
    buf[buf.length - 3]! ^= 0x10;
    writeFileSync(path.join(dir, index), buf);

    const found = await check(dataDir);
    assert.equal(found.code, 1);
    assert.ok(found.stdout.includes(`problem: ${path.join(dir, index)}: its entries do not check; a server scans the segment instead`), found.stdout);
    const repaired = await check(dataDir, '--repair');
    assert.equal(repaired.code, 0, repaired.stdout);
    assert.ok(repaired.stdout.includes(`repaired: ${path.join(dir, index)}: written again from its segment (its entries do not check)`), repaired.stdout);

    let log: Captured;
    ({ server, client, log } = await start(dataDir, { segmentBytes: 1600 }));
    try {
      assert.deepEqual(await served(client, 'idx'), seqs);
      assert.deepEqual(log.lines.filter((l) => l.storage !== undefined), []);
    } finally {
      await server.destroy();
    }
  });

  it('check holds the catalog and the directories against each other', async () => {
    const dataDir = tempDir('tributary-catalog-');
    dirs.push(dataDir);
    const { server, client } = await start(dataDir);
    await client.send(new CreateStreamCommand({ StreamName: 'cat', ShardCount: 1 }));
    await putBatches(client, 'cat', 1);
    await server.destroy();
    assert.equal((await check(dataDir)).code, 0);
    const streamDir = path.dirname(shardDir(dataDir));
    mkdirSync(path.join(streamDir, '7'));
    mkdirSync(path.join(dataDir, 'streams', 'gone~0123', '0'), { recursive: true });
    for (const args of [[], ['--repair']]) {
      const r = await check(dataDir, ...args);
      assert.equal(r.code, 1, r.stdout);
      assert.ok(r.stdout.includes(`problem: ${path.join(streamDir, '7')}: shard log of a shard that stream cat does not have; left as it is`), r.stdout);
      assert.ok(r.stdout.includes(`problem: ${path.join(dataDir, 'streams', 'gone~0123')}: stream directory with no stream in the catalog (1 shard log); left as it is`), r.stdout);
      assert.match(r.stdout, /: 2 problems\n$/);
    }
  });

  it('check refuses a directory that holds no data', async () => {
    const empty = tempDir('tributary-empty-');
    dirs.push(empty);
    const r = await check(empty);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `tributary check: ${empty} holds no Tributary data (no catalog.sqlite, streams/ or tables.sqlite)\n`);
    assert.equal((await check(path.join(empty, 'nothing-here'))).code, 2);
  });

  it('a second server on the same data directory is refused', async () => {
    const dataDir = tempDir('tributary-lock-');
    dirs.push(dataDir);
    const { server } = await start(dataDir);
    try {
      await assert.rejects(startTestServer({}, { dataDir }), /the data directory .* is in use by a running server/);
    } finally {
      await server.destroy();
    }
    const again = await start(dataDir);
    await again.server.destroy();
  });
});
