import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultLimitSettings } from '../../../src/kinesis/limits/settings.js';
import { ShardLimits } from '../../../src/kinesis/limits/index.js';
import { parseOperationRates } from '../../../src/kinesis/limits/control-plane.js';

const MiB = 1024 * 1024;

describe('ShardLimits', () => {
  it('admits 1,000 records at once, then one per millisecond', () => {
    const shard = new ShardLimits(defaultLimitSettings, 0);
    for (let i = 0; i < 1000; i++) assert.ok(shard.admitWrite(10, 0), `record ${i}`);
    assert.equal(shard.admitWrite(10, 0), false);
    assert.equal(shard.admitWrite(10, 1), true);
    assert.equal(shard.admitWrite(10, 1), false);
  });

  it('admits a 10 MiB burst of bytes, then 1 MiB per second, records of any size', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: MiB }), { minLength: 1, maxLength: 60 }), (sizes) => {
        const shard = new ShardLimits({ ...defaultLimitSettings, shardWriteRecordsPerSecond: 0 }, 0);
        let admitted = 0;
        for (const size of sizes) if (shard.admitWrite(size, 0)) admitted += size;
        assert.ok(admitted <= 10 * MiB);
        if (sizes.reduce((a, b) => a + b, 0) <= 10 * MiB) assert.equal(admitted, sizes.reduce((a, b) => a + b, 0));
      }),
    );
  });

  it('charges read bytes after the read: 10 MiB blocks reads for 5 s, and small reads do not block', () => {
    const shard = new ShardLimits(defaultLimitSettings, 0);
    assert.ok(shard.admitRead(0));
    shard.chargeRead(10 * MiB, 0);
    assert.equal(shard.admitRead(4_999), false);
    assert.equal(shard.admitRead(5_000), true);
    shard.chargeRead(100, 5_000);
    assert.equal(shard.admitRead(5_000), true, 'a small read does not block the next one');
  });

  it('counts five read calls and five iterator calls a second', () => {
    const shard = new ShardLimits(defaultLimitSettings, 0);
    for (let i = 0; i < 5; i++) {
      assert.ok(shard.admitRead(0));
      assert.ok(shard.admitIterator(0));
    }
    assert.equal(shard.admitRead(0), false);
    assert.equal(shard.admitIterator(0), false);
    assert.ok(shard.admitRead(200));
    assert.ok(shard.admitIterator(200));
  });

  it('lifts each limit whose rate is 0', () => {
    const shard = new ShardLimits(
      { ...defaultLimitSettings, shardWriteRecordsPerSecond: 0, shardWriteBytesPerSecond: 0, shardReadCallsPerSecond: 0, shardReadBytesPerSecond: 0, shardIteratorCallsPerSecond: 0 },
      0,
    );
    for (let i = 0; i < 5_000; i++) {
      assert.ok(shard.admitWrite(MiB, 0));
      assert.ok(shard.admitRead(0));
      assert.ok(shard.admitIterator(0));
      shard.chargeRead(MiB, 0);
    }
  });
});

describe('parseOperationRates', () => {
  it('reads Operation=rate pairs and refuses anything else', () => {
    assert.deepEqual(parseOperationRates(''), {});
    assert.deepEqual(parseOperationRates('ListShards=2, DescribeStream=0.5'), { ListShards: 2, DescribeStream: 0.5 });
    assert.throws(() => parseOperationRates('ListShards'), /expected Operation=rate, not ListShards/);
    assert.throws(() => parseOperationRates('PutRecord=3'), /PutRecord is not a rate-limited operation/);
  });
});
