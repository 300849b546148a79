/**
 * What must hold after a restart, whatever moment the server was killed at: records, catalog, and
 * the files under the data directory. Each check fails with the first thing it finds wrong.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ListStreamConsumersCommand,
  ListStreamsCommand,
  type KinesisClient,
  type Shard,
  type StreamSummary,
} from '@aws-sdk/client-kinesis';
import { DURABLE } from './load.js';
import { parsePayload, type Model } from './model.js';

export const HASH_KEY_MAX = (1n << 128n) - 1n;

export interface ReadRecord {
  seq: string;
  key: string;
  data: Buffer;
  arrival: number;
}

/** Every record GetRecords serves from a shard, from TRIM_HORIZON to its end or to the newest record. */
export async function readShard(client: KinesisClient, stream: string, shardId: string): Promise<ReadRecord[]> {
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const out: ReadRecord[] = [];
  let iterator = ShardIterator;
  for (let calls = 0; iterator; calls++) {
    assert.ok(calls < 10_000, `reading ${stream}/${shardId} does not end`);
    const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    for (const rec of r.Records ?? []) out.push({ seq: rec.SequenceNumber!, key: rec.PartitionKey!, data: Buffer.from(rec.Data!), arrival: rec.ApproximateArrivalTimestamp!.getTime() });
    iterator = r.NextShardIterator;
    if (!r.Records?.length && r.MillisBehindLatest === 0) break;
  }
  return out;
}

export async function listShards(client: KinesisClient, stream: string): Promise<Shard[]> {
  const out: Shard[] = [];
  let r = await client.send(new ListShardsCommand({ StreamName: stream }));
  out.push(...(r.Shards ?? []));
  while (r.NextToken) {
    r = await client.send(new ListShardsCommand({ NextToken: r.NextToken }));
    out.push(...(r.Shards ?? []));
  }
  return out;
}

export async function listStreams(client: KinesisClient): Promise<StreamSummary[]> {
  const out: StreamSummary[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListStreamsCommand({ NextToken: token }));
    out.push(...(r.StreamSummaries ?? []));
    token = r.HasMoreStreams ? r.NextToken : undefined;
  } while (token);
  return out;
}

const isOpen = (s: Shard) => s.SequenceNumberRange?.EndingSequenceNumber === undefined;

/** The open shards tile the hash key space; parents and children agree. */
export function checkShardMap(stream: string, shards: Shard[]): void {
  const open = shards.filter(isOpen).sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
  assert.ok(open.length > 0, `${stream} has open shards`);
  let expect = 0n;
  for (const s of open) {
    assert.equal(BigInt(s.HashKeyRange!.StartingHashKey!), expect, `${stream}: open shard ${s.ShardId} starts where the previous one ends`);
    expect = BigInt(s.HashKeyRange!.EndingHashKey!) + 1n;
  }
  assert.equal(expect, HASH_KEY_MAX + 1n, `${stream}: the open shards reach the last hash key`);
  const byId = new Map(shards.map((s) => [s.ShardId!, s]));
  assert.equal(byId.size, shards.length, `${stream}: shard ids are unique`);
  for (const s of shards) {
    for (const parentId of [s.ParentShardId, s.AdjacentParentShardId]) {
      const parent = parentId === undefined ? undefined : byId.get(parentId);
      if (parent) assert.ok(!isOpen(parent), `${stream}: ${s.ShardId}'s parent ${parentId} is closed`);
    }
    if (!isOpen(s)) {
      const children = shards.filter((c) => c.ParentShardId === s.ShardId || c.AdjacentParentShardId === s.ShardId);
      assert.ok(children.length > 0, `${stream}: closed shard ${s.ShardId} has its children listed`);
    }
  }
}

export interface RoundFigures {
  streams: number;
  records: number;
  recordBytes: number;
  logBytes: number;
  otherBytes: number;
  catalogBytes: number;
  /** Files under <data-dir>/streams. */
  files: number;
  /** Shards listed, open and closed, over every stream. */
  shards: number;
}

/**
 * Checks everything the model promises after the restart of `round` (whose clock is ROUND_HOURS
 * ahead of the previous one): records acknowledged in the last `keptRounds` rounds are where they
 * were acknowledged, those older are gone, and nothing unsent is served.
 */
export async function checkAfterRestart(client: KinesisClient, model: Model, round: number, keptRounds: number): Promise<RoundFigures> {
  // With a shared catalog (--storage jetstream), transitions are settled by the holder of the
  // background lease, which a restarted node takes over once the killed node's lease has lapsed.
  let streams = await listStreams(client);
  for (const deadline = Date.now() + 30_000; streams.some((s) => s.StreamStatus !== 'ACTIVE') && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    streams = await listStreams(client);
  }
  const names = new Set(streams.map((s) => s.StreamName!));
  for (const s of streams) {
    assert.equal(s.StreamStatus, 'ACTIVE', `stream ${s.StreamName} is ACTIVE after its delay, not ${s.StreamStatus}`);
    assert.ok(DURABLE.some((d) => d.name === s.StreamName) || model.churn.has(s.StreamName!), `stream ${s.StreamName} was asked for`);
  }
  for (const d of DURABLE) assert.ok(names.has(d.name), `durable stream ${d.name} is there`);
  for (const [name, c] of model.churn) {
    if (c.deleteAcked) assert.ok(!names.has(name), `deleted stream ${name} is gone`);
    else if (c.createAcked && !c.deleteSent) assert.ok(names.has(name), `created stream ${name} is there`);
    if (!names.has(name) && (c.deleteAcked || !c.createAcked)) model.churn.delete(name);
  }

  // Consumers of d1: settled, and there or not as acknowledged.
  const d1 = streams.find((s) => s.StreamName === 'd1')!;
  const { Consumers = [] } = await client.send(new ListStreamConsumersCommand({ StreamARN: d1.StreamARN! }));
  const consumerNames = new Set(Consumers.map((c) => c.ConsumerName!));
  for (const c of Consumers) {
    assert.equal(c.ConsumerStatus, 'ACTIVE', `consumer ${c.ConsumerName} is ACTIVE after its delay`);
    assert.ok(model.consumers.has(c.ConsumerName!), `consumer ${c.ConsumerName} was registered`);
  }
  for (const [name, c] of model.consumers) {
    if (c.deregisterAcked) assert.ok(!consumerNames.has(name), `deregistered consumer ${name} is gone`);
    else if (c.registerAcked && !c.deregisterSent) assert.ok(consumerNames.has(name), `registered consumer ${name} is there`);
    if (!consumerNames.has(name) && (c.deregisterAcked || !c.registerAcked)) model.consumers.delete(name);
  }

  // Shards and records of every stream.
  const figures: RoundFigures = { streams: names.size, records: 0, recordBytes: 0, logBytes: 0, otherBytes: 0, catalogBytes: 0, files: 0, shards: 0 };
  const found = new Map<string, { shard: string; seq: string }>();
  const nextOpen = new Map<string, Set<string>>();
  for (const name of names) {
    const shards = await listShards(client, name);
    checkShardMap(name, shards);
    const ids = new Set(shards.map((s) => s.ShardId!));
    for (const id of model.openShards.get(name) ?? []) assert.ok(ids.has(id), `${name}: shard ${id}, open at the last check, is listed`);
    nextOpen.set(name, new Set(shards.filter(isOpen).map((s) => s.ShardId!)));
    figures.shards += shards.length;
    for (const shard of shards) {
      const records = await readShard(client, name, shard.ShardId!);
      let previous = -1n;
      for (const r of records) {
        const seq = BigInt(r.seq);
        assert.ok(seq > previous, `${name}/${shard.ShardId}: sequence numbers increase`);
        previous = seq;
        const text = r.data.toString();
        assert.ok(model.sent.has(text), `${name}/${shard.ShardId} serves a record never sent (or past retention): ${text.slice(0, 60)}`);
        const origin = parsePayload(text)!;
        assert.equal(origin.stream, name, `${name} serves a record sent to another stream: ${text.slice(0, 60)}`);
        assert.ok(origin.round > round - keptRounds, `${name}/${shard.ShardId} serves ${text.slice(0, 40)}, past retention: it arrived at ${new Date(r.arrival).toISOString()} (record ${records.indexOf(r)} of ${records.length})`);
        assert.ok(!found.has(text), `${name} serves ${text.slice(0, 40)} twice`);
        found.set(text, { shard: shard.ShardId!, seq: r.seq });
        figures.records++;
        figures.recordBytes += r.data.length + r.key.length;
      }
    }
  }
  model.openShards = nextOpen;
  for (const [text, a] of model.acked) {
    if (!names.has(a.stream)) continue;
    if (a.round > round - keptRounds) {
      assert.deepEqual(found.get(text), { shard: a.shard, seq: a.seq }, `acknowledged ${text.slice(0, 40)} is where it was acknowledged`);
    } else {
      assert.equal(found.get(text), undefined, `${text.slice(0, 40)} is past retention and not served`);
    }
  }
  return figures;
}

function walk(dir: string, visit: (file: string, entry: Dirent) => void): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // deleted meanwhile
  }
  for (const entry of entries) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, visit);
    else visit(p, entry);
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export interface FileProblems {
  problems: string[];
  files: number;
  logBytes: number;
  otherBytes: number;
  catalogBytes: number;
}

/**
 * The files under the data directory: every stream directory belongs to a listed stream (a
 * directory is named for its stream key, `<name>~<suffix>`, percent-encoded), and the segment files
 * hold no more than the records served explain (payload, key and per-record framing, plus a batch
 * header each at worst). Returns what is wrong, so that the caller can wait for the retention sweep.
 */
export function inspectFiles(dataDir: string, streams: ReadonlySet<string>, recordBytes: number, records: number): FileProblems {
  const problems: string[] = [];
  const root = path.join(dataDir, 'streams');
  const keys = new Map<string, string>();
  let streamDirs: string[] = [];
  try {
    streamDirs = readdirSync(root);
  } catch {
    // no stream was ever written
  }
  let shardDirs = 0;
  for (const dir of streamDirs) {
    const key = decodeURIComponent(dir);
    const name = key.slice(0, key.lastIndexOf('~'));
    if (!streams.has(name)) problems.push(`${dir} belongs to no stream in the catalog`);
    else if (keys.has(name)) problems.push(`${dir} and ${keys.get(name)} both hold ${name}`);
    keys.set(name, dir);
    try {
      shardDirs += readdirSync(path.join(root, dir)).length;
    } catch {
      // deleted meanwhile
    }
  }
  let logBytes = 0;
  let otherBytes = 0;
  let files = 0;
  walk(root, (file) => {
    files++;
    if (file.endsWith('.log')) logBytes += sizeOf(file);
    else otherBytes += sizeOf(file);
  });
  let catalogBytes = 0;
  for (const name of readdirSync(dataDir)) if (name.startsWith('catalog.sqlite')) catalogBytes += sizeOf(path.join(dataDir, name));
  const allowedLog = recordBytes + 50 * records + 4096 * shardDirs;
  if (logBytes > allowedLog) problems.push(`segment files hold ${logBytes} bytes; the ${records} records served explain ${allowedLog}`);
  const allowedOther = 64 * 1024 + 8192 * shardDirs;
  if (otherBytes > allowedOther) problems.push(`index and trim files hold ${otherBytes} bytes, more than ${allowedOther}`);
  if (catalogBytes > 32 * 1024 * 1024) problems.push(`the catalog holds ${catalogBytes} bytes`);
  return { problems, files, logBytes, otherBytes, catalogBytes };
}
