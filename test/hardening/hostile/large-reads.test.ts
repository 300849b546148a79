import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createStream } from '../../helpers/kinesis.js';
import { kinesisClient, removeDir, tempDir } from '../../helpers/server.js';
import { scale } from '../scale.js';
import { destroyAll, firstStatus, openMany, rawRequest } from './attacks.js';
import { sampleProc, sleep, spawnTributary, type Spawned } from './probe.js';

const RSS_CAP_MIB = 400;
/** The server's read budget, as set below: room for five 10 MB responses (JSON) at once. */
const READ_BUDGET = 128 * 1024 * 1024;
const BATCH_RECORDS = 9;

/**
 * Many clients asking at the same moment for a shard's largest batch (GetRecords returns up to
 * 10 MB) with the throughput limits off: each request holds the batch and its encoded response
 * while it is served, so the server bounds the memory those responses hold at once
 * (--max-read-bytes): a read beyond it waits its turn, and its share is given back once the
 * response is sent or its client is gone.
 */
describe('simultaneous GetRecords of large batches', { timeout: scale(180_000, 900_000) }, () => {
  const dataDir = tempDir('tributary-large-reads-');
  let server: Spawned;
  let sdk: KinesisClient;
  let iterator = '';
  let body = '';

  /** Five reads at once, whose shares fill all but 5 MiB of the budget: all get the whole batch only while nothing else is held. */
  async function fiveWholeReads(): Promise<number[]> {
    const out = await Promise.all(
      Array.from({ length: 5 }, () => sdk.send(new GetRecordsCommand({ ShardIterator: iterator }))),
    );
    return out.map((r) => r.Records?.length ?? 0);
  }

  before(async () => {
    server = await spawnTributary(dataDir, ['--limits', 'off', '--max-read-bytes', String(READ_BUDGET)]);
    sdk = kinesisClient(server.endpoint);
    await createStream(sdk, 'big', 1);
    await sleep(100);
    const payload = Buffer.alloc(1000 * 1000, 0x61);
    for (let i = 0; i < BATCH_RECORDS; i++) {
      await sdk.send(new PutRecordsCommand({ StreamName: 'big', Records: [{ PartitionKey: `p${i}`, Data: payload }] }));
    }
    const it = await sdk.send(new GetShardIteratorCommand({ StreamName: 'big', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    iterator = it.ShardIterator!;
    body = JSON.stringify({ ShardIterator: iterator });
  });
  after(async () => {
    sdk?.destroy();
    await server?.stop();
    removeDir(dataDir);
  });

  it('stay under the memory cap when 30 arrive at once, and every one is answered', async (t) => {
    const count = scale(30, 100);
    const idle = sampleProc(server.pid).rssMiB;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, sampleProc(server.pid).rssMiB)), 50);
    const { sockets } = await openMany(server.port, count, count);
    const statuses = await Promise.all(
      sockets.map((s) => {
        const st = firstStatus(s, 60_000);
        s.write(rawRequest('GetRecords', body));
        s.resume();
        return st;
      }),
    );
    await sleep(500);
    clearInterval(sampler);
    destroyAll(sockets);
    const tally = statuses.reduce<Record<string, number>>((m, st) => ((m[st || 'none'] = (m[st || 'none'] ?? 0) + 1), m), {});
    t.diagnostic(
      `${count} simultaneous GetRecords of 9 MB: RSS ${idle.toFixed(1)} MiB before, peak ${peak.toFixed(1)} MiB; answers ${JSON.stringify(tally)}`,
    );
    assert.ok(peak < RSS_CAP_MIB, `peak RSS ${peak.toFixed(1)} MiB`);
    assert.equal(statuses.length, count);
    // Served (200), or throttled after waiting too long (400 ProvisionedThroughputExceededException);
    // never dropped and never a server error.
    assert.ok(statuses.every((st) => st === '200' || st === '400'), JSON.stringify(tally));
    assert.ok((tally['200'] ?? 0) > 0, JSON.stringify(tally));
  });

  it('holds nothing once the burst is over: reads that fit the budget get their whole batch', async () => {
    assert.deepEqual(await fiveWholeReads(), Array(5).fill(BATCH_RECORDS));
  });

  it('takes back the share of clients that go away while waiting or while their batch is sent', async (t) => {
    const count = scale(30, 100);
    const { sockets } = await openMany(server.port, count, count);
    let midSend = 0;
    await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<void>((resolve) => {
            s.once('close', () => resolve());
            s.write(rawRequest('GetRecords', body));
            if (i % 2 === 0) {
              // Gone before its answer starts: while it waits its turn or its batch is read.
              setImmediate(() => s.destroy());
            } else {
              // Gone once its batch has started to arrive: it stops reading, so the server still
              // holds the rest of the answer, and then closes.
              s.once('data', () => {
                midSend++;
                s.pause();
                setTimeout(() => s.destroy(), 50);
              });
            }
          }),
      ),
    );
    t.diagnostic(`${count} clients gone: ${count - midSend} before their answer, ${midSend} during it`);
    assert.deepEqual(await fiveWholeReads(), Array(5).fill(BATCH_RECORDS));
  });

  it('does not let clients that stop reading hold the budget', async (t) => {
    const count = 10;
    const { sockets } = await openMany(server.port, count, count);
    // Each takes the first bytes of its answer, then reads no more.
    const started = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            s.once('data', () => {
              s.pause();
              resolve(true);
            });
            s.once('close', () => resolve(false));
            s.write(rawRequest('GetRecords', body));
          }),
      ),
    );
    t.diagnostic(`${started.filter(Boolean).length} of ${count} stalled clients got the start of their answer`);
    try {
      // While they hold their shares, reads get what room is left (smaller batches); a share whose
      // response has been sending for a second is taken back once another read needs the room.
      let got: number[] = [0];
      let tries = 0;
      while (tries < 40 && !got.every((n) => n === BATCH_RECORDS)) {
        if (tries++ > 0) await sleep(250);
        got = await fiveWholeReads();
        if (tries === 1) t.diagnostic(`first reads beside them: ${got.join(', ')} records`);
      }
      t.diagnostic(`whole batches again after ${tries} rounds of reads`);
      assert.deepEqual(got, Array(5).fill(BATCH_RECORDS));
    } finally {
      destroyAll(sockets);
    }
  });
});
