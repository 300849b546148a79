import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { kinesisClient, removeDir, spawnServer, startTestServer, tempDir } from '../helpers/server.js';

async function readShard(client: KinesisClient, stream: string, shardId: string) {
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const out: { seq: string; key: string; data: Buffer }[] = [];
  let it = ShardIterator;
  for (;;) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it }));
    for (const rec of r.Records ?? []) out.push({ seq: rec.SequenceNumber!, key: rec.PartitionKey!, data: Buffer.from(rec.Data!) });
    it = r.NextShardIterator;
    if (!r.Records?.length) break;
  }
  return out;
}

async function readStream(client: KinesisClient, stream: string) {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const byShard = new Map<string, { seq: string; key: string; data: Buffer }[]>();
  for (const s of Shards) byShard.set(s.ShardId!, await readShard(client, stream, s.ShardId!));
  return byShard;
}

function segmentFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...segmentFiles(p));
    else if (entry.name.endsWith('.log')) out.push(p);
  }
  return out.sort();
}

describe('durability', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));

  it('keeps streams, shards and records across a clean restart', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let server = await startTestServer({}, { dataDir });
    let client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 2 }));
    const put = await client.send(
      new PutRecordsCommand({
        StreamName: 'kept',
        Records: Array.from({ length: 100 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from(`v${i}`) })),
      }),
    );
    const before = await readStream(client, 'kept');
    await server.destroy();

    server = await startTestServer({}, { dataDir });
    client = server.client();
    const afterRestart = await readStream(client, 'kept');
    assert.deepEqual(afterRestart, before);
    const total = [...afterRestart.values()].reduce((n, l) => n + l.length, 0);
    assert.equal(total, 100);
    assert.deepEqual(
      new Set([...afterRestart.values()].flat().map((r) => r.seq)),
      new Set(put.Records!.map((r) => r.SequenceNumber)),
    );
    // New writes continue the sequence.
    const next = await client.send(new PutRecordCommand({ StreamName: 'kept', PartitionKey: 'k0', Data: Buffer.from('after') }));
    const shard = afterRestart.get(next.ShardId!)!;
    assert.ok(BigInt(next.SequenceNumber!) > BigInt(shard[shard.length - 1]!.seq));
    await server.destroy();
  });

  it('loses no acknowledged record when killed with SIGKILL under load, and serves nothing unsent', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let srv = await spawnServer(dataDir, ['--fsync', 'always']);
    let client = kinesisClient(srv.endpoint, { maxAttempts: 1 });
    await client.send(new CreateStreamCommand({ StreamName: 'crash', ShardCount: 4 }));

    const acked = new Map<string, { shard: string; seq: string }>();
    const sent = new Set<string>();
    let stop = false;
    let n = 0;
    const writer = async (w: number) => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, () => {
          const data = `w${w}-r${n++}-` + 'x'.repeat(n % 300);
          sent.add(data);
          return { PartitionKey: `p${n % 13}`, Data: Buffer.from(data) };
        });
        try {
          if (n % 3 === 0) {
            const r = await client.send(new PutRecordCommand({ StreamName: 'crash', ...batch[0]! }));
            acked.set(Buffer.from(batch[0]!.Data).toString(), { shard: r.ShardId!, seq: r.SequenceNumber! });
          } else {
            const r = await client.send(new PutRecordsCommand({ StreamName: 'crash', Records: batch }));
            r.Records!.forEach((e, i) => {
              if (e.SequenceNumber) acked.set(Buffer.from(batch[i]!.Data).toString(), { shard: e.ShardId!, seq: e.SequenceNumber });
            });
          }
        } catch (err) {
          if (!stop && acked.size < 3000) throw err; // failed before the kill
          return; // the server is gone
        }
      }
    };
    let failure: unknown;
    const writers = [0, 1, 2, 3, 4, 5].map((w) => writer(w).catch((e) => (failure = e)));
    const deadline = Date.now() + 60_000;
    while (acked.size < 3000 && !failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(acked.size >= 3000, `the load was running before the kill (${acked.size} acknowledged)`);
    stop = true;
    srv.child.kill('SIGKILL');
    await srv.exited;
    await Promise.all(writers);
    client.destroy();

    srv = await spawnServer(dataDir, ['--fsync', 'always']);
    client = kinesisClient(srv.endpoint);
    const stored = await readStream(client, 'crash');
    const found = new Map<string, { shard: string; seq: string }>();
    for (const [shard, records] of stored) {
      for (let i = 0; i < records.length; i++) {
        const text = records[i]!.data.toString();
        assert.ok(sent.has(text), `served a record that was never sent: ${text.slice(0, 40)}`);
        assert.ok(!found.has(text), 'no record twice');
        found.set(text, { shard, seq: records[i]!.seq });
        if (i > 0) assert.ok(BigInt(records[i]!.seq) > BigInt(records[i - 1]!.seq));
      }
    }
    for (const [text, where] of acked) {
      assert.deepEqual(found.get(text), where, `acknowledged record ${text.slice(0, 30)} is there, where it was acknowledged`);
    }
    srv.child.kill('SIGTERM');
    assert.equal(await srv.exited, 0);
  });

  // Segment files are the embedded engine's: this one runs on it whatever the test engine is
  // (JetStream's own store recovers its message blocks; test/integration/cluster covers its crashes).
  it('recovers from a segment whose tail was torn mid-batch (embedded engine)', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let server = await startTestServer({ storage: 'embedded' }, { dataDir });
    let client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'torn', ShardCount: 1 }));
    for (let i = 0; i < 10; i++) {
      await client.send(new PutRecordCommand({ StreamName: 'torn', PartitionKey: 'k', Data: Buffer.from(`record-${i}-`.padEnd(200, '.')) }));
    }
    await server.destroy();
    const [segment] = segmentFiles(path.join(dataDir, 'streams'));
    assert.ok(segment, 'a segment file exists');
    truncateSync(segment!, statSync(segment!).size - 50);

    server = await startTestServer({ storage: 'embedded' }, { dataDir });
    client = server.client();
    const records = await readShard(client, 'torn', 'shardId-000000000000');
    assert.deepEqual(
      records.map((r) => r.data.toString()),
      Array.from({ length: 9 }, (_, i) => `record-${i}-`.padEnd(200, '.')),
    );
    await client.send(new PutRecordCommand({ StreamName: 'torn', PartitionKey: 'k', Data: Buffer.from('after') }));
    const again = await readShard(client, 'torn', 'shardId-000000000000');
    assert.equal(again.length, 10);
    assert.equal(again[9]!.data.toString(), 'after');
    await server.destroy();
  });
});
