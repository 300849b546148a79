import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AtRestCipher, SealedRecordError } from '../../src/kinesis/at-rest.js';
import type { StoredRecord } from '../../src/storage/types.js';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

function stored(data: Buffer, offset = 0): StoredRecord {
  return { offset, timestamp: NOW, partitionKey: '', data: Buffer.from(data), sealed: true };
}

describe('AtRestCipher', () => {
  const cipher = new AtRestCipher(randomBytes(32));
  const input = [
    { partitionKey: 'pk-Ω-1', data: Buffer.from('first secret payload') },
    { partitionKey: 'k', data: Buffer.alloc(0) },
    { partitionKey: '', data: randomBytes(5000) },
  ];

  it('seals records so that neither key nor data shows, and opens them back', () => {
    const sealed = cipher.sealAll('s~1', 3, 'alias/aws/kinesis', input, NOW);
    assert.equal(sealed.length, 3);
    for (const [i, s] of sealed.entries()) {
      assert.equal(s.sealed, true);
      assert.equal(s.partitionKey, '');
      assert.equal(s.data.includes(Buffer.from('secret')), false);
      assert.equal(s.data.length, input[i]!.data.length + Buffer.byteLength(input[i]!.partitionKey) + 2 + 19 + 17 + 16);
      const r = stored(s.data, i);
      cipher.open('s~1', 3, r);
      assert.equal(r.partitionKey, input[i]!.partitionKey);
      assert.deepEqual(r.data, input[i]!.data);
      assert.equal(r.sealed, true, 'still reported as encrypted');
    }
  });

  it('uses a fresh nonce for every record', () => {
    const [a, b] = cipher.sealAll('s~1', 0, 'alias/aws/kinesis', [input[0]!, input[0]!], NOW);
    assert.notDeepEqual(a!.data, b!.data);
  });

  it('detects any altered byte', () => {
    const [s] = cipher.sealAll('s~1', 0, 'alias/aws/kinesis', [input[0]!], NOW);
    for (let i = 0; i < s!.data.length; i++) {
      const bad = Buffer.from(s!.data);
      bad[i]! ^= 0x01;
      assert.throws(() => cipher.open('s~1', 0, stored(bad)), SealedRecordError, `byte ${i}`);
    }
    assert.throws(() => cipher.open('s~1', 0, stored(s!.data.subarray(0, s!.data.length - 1))), SealedRecordError);
  });

  it('binds a record to its stream and shard, and to the master key', () => {
    const [s] = cipher.sealAll('s~1', 0, 'alias/aws/kinesis', [input[0]!], NOW);
    assert.throws(() => cipher.open('s~2', 0, stored(s!.data)), SealedRecordError);
    assert.throws(() => cipher.open('s~1', 1, stored(s!.data)), SealedRecordError);
    const other = new AtRestCipher(randomBytes(32));
    assert.throws(() => other.open('s~1', 0, stored(s!.data)), /cannot be decrypted/);
    assert.notEqual(other.fingerprint(), cipher.fingerprint());
  });

  it('derives another data key for another KeyId and another hour, and opens both', () => {
    const a = cipher.sealAll('s~1', 0, 'alias/aws/kinesis', [input[0]!], NOW)[0]!;
    const b = cipher.sealAll('s~1', 0, 'arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012', [input[0]!], NOW + 3_600_000)[0]!;
    for (const env of [a, b]) {
      const r = stored(env.data);
      cipher.open('s~1', 0, r);
      assert.equal(r.data.toString(), 'first secret payload');
    }
  });

  it('refuses a master key of the wrong size', () => {
    assert.throws(() => new AtRestCipher(randomBytes(16)), RangeError);
  });
});
