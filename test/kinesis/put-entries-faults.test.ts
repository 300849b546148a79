import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { putEntries, type PutEntry } from '../../src/kinesis/records.js';
import { Kinesis } from '../../src/kinesis/service.js';
import { defaultKinesisSettings } from '../../src/kinesis/settings.js';
import { defaultLimitSettings } from '../../src/kinesis/limits/settings.js';
import type { Stream } from '../../src/kinesis/stream.js';
import { ServiceUnavailableException } from '../../src/protocol/errors.js';
import { metricsStoreFor } from '../../src/metrics/store.js';
import { SqliteCatalog } from '../../src/storage/embedded/catalog.js';
import { createEmbeddedLogStore } from '../../src/storage/embedded/index.js';
import type { LogStore, RecordInput, ShardLog } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { wholeSecond } from '../helpers/kinesis.js';
import { removeDir, tempDir } from '../helpers/server.js';

/** Shard indexes whose storage misbehaves, and how. */
interface Faults {
  /** Appends fail with an I/O error, having written nothing. */
  appends: Set<number>;
  /** Logs fail to open. */
  opens: Set<number>;
  /** Appends answer an AWS error (one that concerns the request, not the storage). */
  aws: Set<number>;
}

/** A shard log that fails appends while its shard is listed in `faults`, and otherwise is `log`. */
function faultyLog(log: ShardLog, shardIndex: number, faults: Faults): ShardLog {
  return {
    get nextOffset() {
      return log.nextOffset;
    },
    get startOffset() {
      return log.startOffset;
    },
    get lastTimestamp() {
      return log.lastTimestamp;
    },
    append(records: readonly RecordInput[], timestamp: number) {
      if (faults.appends.has(shardIndex)) {
        return Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
      }
      if (faults.aws.has(shardIndex)) {
        return Promise.reject(new ServiceUnavailableException('The shard is being resharded. Retry the request.'));
      }
      return log.append(records, timestamp);
    },
    read: (from, max, bytes) => log.read(from, max, bytes),
    offsetAtTimestamp: (t) => log.offsetAtTimestamp(t),
    timestampAt: (o) => log.timestampAt(o),
    trim: (before) => log.trim(before),
    close: () => log.close(),
  };
}

/** The real embedded store, whose logs fail as `faults` says; every other member is the store's own. */
function faultyStore(inner: LogStore, faults: Faults): LogStore {
  const open = async (streamKey: string, shardIndex: number): Promise<ShardLog> => {
    if (faults.opens.has(shardIndex)) throw Object.assign(new Error('ENOTDIR: not a directory, mkdir'), { code: 'ENOTDIR' });
    return faultyLog(await inner.open(streamKey, shardIndex), shardIndex, faults);
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'open') return open;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A quarter of the hash-key space: shard i of a four-shard stream starts at i * QUARTER. */
const QUARTER = 1n << 126n;

/** `n` entries for each of the given shards, interleaved: shard a, shard b, ..., shard a, ... */
function spread(shards: readonly number[], n: number, tag: string): PutEntry[] {
  const out: PutEntry[] = [];
  for (let i = 0; i < n; i++) {
    for (const s of shards) {
      out.push({ Data: Buffer.from(`${tag}-${s}-${i}`), PartitionKey: 'k', ExplicitHashKey: (BigInt(s) * QUARTER + BigInt(i)).toString() });
    }
  }
  return out;
}

describe('putEntries when one shard’s storage fails', () => {
  const clock = new ManualClock(wholeSecond());
  let dir: string;
  const faults: Faults = { appends: new Set(), opens: new Set(), aws: new Set() };
  let k: Kinesis;
  let streams = 0;

  before(async () => {
    dir = tempDir();
    const store = faultyStore(
      createEmbeddedLogStore(path.join(dir, 'streams'), { fsync: 'never', fsyncIntervalMs: 1000, segmentBytes: 1 << 20, segmentMaxAgeMs: 3_600_000 }),
      faults,
    );
    const catalog = new SqliteCatalog(path.join(dir, 'catalog.sqlite'));
    k = new Kinesis({
      settings: {
        ...defaultKinesisSettings,
        createStreamDelayMs: 0,
        deleteStreamDelayMs: 0,
        limits: { ...defaultLimitSettings, shardWriteRecordsPerSecond: 4 },
      },
      catalog,
      logs: store,
      clock,
      metricsStore: metricsStoreFor(catalog),
    });
    await k.start();
  });
  after(async () => {
    await k.close();
    removeDir(dir);
  });

  async function stream(): Promise<Stream> {
    const name = `faults-${++streams}`;
    await k.createStream({ name, shardCount: 4, mode: 'PROVISIONED' });
    clock.advance(1000);
    return k.resolve({ StreamName: name });
  }

  async function stored(s: Stream, index: number): Promise<string[]> {
    const read = await (await k.log(s, s.shard(index)!)).read(0, 1000, 1 << 20);
    return read.records.map((r) => r.data.toString());
  }

  it('fails the entries of the shard whose appends fail and keeps the others', async () => {
    const s = await stream();
    await putEntries(k, s, spread([0, 1, 2, 3], 1, 'warm')); // every log open and working
    clock.advance(1000);
    faults.appends.add(2);
    try {
      const entries = spread([0, 1, 2, 3], 3, 'mixed');
      const results = await putEntries(k, s, entries);
      assert.equal(results.length, entries.length);
      for (let i = 0; i < entries.length; i++) {
        const r = results[i]!;
        const shard = i % 4;
        assert.equal(r.shard.index, shard, `entry ${i} was routed to its shard`);
        assert.equal(r.throttled, undefined);
        if (shard === 2) {
          assert.ok(r.fault instanceof Error, `entry ${i} carries the storage fault`);
          assert.equal(r.sequenceNumber, '', `entry ${i} has no sequence number`);
        } else {
          assert.equal(r.fault, undefined, `entry ${i} succeeded`);
          assert.match(r.sequenceNumber, /^[1-9]\d*$/);
        }
      }
      for (const shard of [0, 1, 3]) {
        assert.deepEqual(await stored(s, shard), [`warm-${shard}-0`, `mixed-${shard}-0`, `mixed-${shard}-1`, `mixed-${shard}-2`]);
      }
      assert.deepEqual(await stored(s, 2), ['warm-2-0'], 'the failing shard took nothing');
    } finally {
      faults.appends.delete(2);
    }
    clock.advance(1000);
    const again = await putEntries(k, s, spread([2], 2, 'retry'));
    assert.ok(again.every((r) => r.fault === undefined && r.sequenceNumber !== ''), 'the shard takes appends once its storage works');
    assert.deepEqual(await stored(s, 2), ['warm-2-0', 'retry-2-0', 'retry-2-1']);
  });

  it('fails the entries of a shard whose log cannot be opened', async () => {
    const s = await stream();
    faults.opens.add(1);
    try {
      const results = await putEntries(k, s, spread([0, 1], 2, 'open'));
      assert.deepEqual(
        results.map((r) => [r.shard.index, r.fault === undefined, r.sequenceNumber !== '']),
        [
          [0, true, true],
          [1, false, false],
          [0, true, true],
          [1, false, false],
        ],
      );
      assert.deepEqual(await stored(s, 0), ['open-0-0', 'open-0-1']);
    } finally {
      faults.opens.delete(1);
    }
    clock.advance(1000);
    const [later] = await putEntries(k, s, spread([1], 1, 'later'));
    assert.equal(later!.fault, undefined, 'the log opens once it can');
    assert.deepEqual(await stored(s, 1), ['later-1-0']);
  });

  it('keeps throttled entries throttled beside the failed ones', async () => {
    const s = await stream();
    faults.appends.add(3);
    try {
      // Six records for each shard against a limit of four a second: two of each are refused.
      const results = await putEntries(k, s, spread([0, 3], 6, 'busy'));
      const of = (shard: number) => results.filter((r) => r.shard.index === shard);
      assert.deepEqual(
        of(0).map((r) => (r.throttled ? 'throttled' : r.fault !== undefined ? 'failed' : 'ok')),
        ['ok', 'ok', 'ok', 'ok', 'throttled', 'throttled'],
      );
      assert.deepEqual(
        of(3).map((r) => (r.throttled ? 'throttled' : r.fault !== undefined ? 'failed' : 'ok')),
        ['failed', 'failed', 'failed', 'failed', 'throttled', 'throttled'],
      );
      assert.ok(of(3).every((r) => r.sequenceNumber === ''));
      assert.deepEqual(await stored(s, 0), ['busy-0-0', 'busy-0-1', 'busy-0-2', 'busy-0-3']);
    } finally {
      faults.appends.delete(3);
    }
  });

  it('rejects the whole call for an AWS error, which concerns the request', async () => {
    const s = await stream();
    faults.aws.add(1);
    try {
      await assert.rejects(putEntries(k, s, spread([0, 1], 1, 'aws')), (err: Error) => {
        assert.ok(err instanceof ServiceUnavailableException);
        return true;
      });
    } finally {
      faults.aws.delete(1);
    }
  });
});
