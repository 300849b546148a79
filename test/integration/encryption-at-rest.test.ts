import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  StartStreamEncryptionCommand,
  StopStreamEncryptionCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { BATCH_FORMAT_SEALED, HEADER_SIZE } from '../../src/storage/embedded/format.js';
import { ManualClock } from '../../src/util/clock.js';
import { registerActive, SdkSubscription } from '../helpers/fan-out.js';
import { getIterator, readShard, shardId, text, wholeSecond } from '../helpers/kinesis.js';
import { removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const KEY = 'alias/aws/kinesis';
const USER_KEY = 'arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** The files under `dir` that hold `needle` anywhere. */
function holding(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return filesUnder(dir).filter((f) => readFileSync(f).includes(bytes));
}

function segmentFiles(dataDir: string): string[] {
  return filesUnder(path.join(dataDir, 'streams')).filter((f) => f.endsWith('.log'));
}

const summary = (records: readonly _Record[]) => records.map((r) => [text(r), r.PartitionKey, r.EncryptionType]);

describe('encryption at rest', () => {
  const clock = new ManualClock(wholeSecond());
  const dataDir = tempDir();
  const keyFile = path.join(tempDir(), 'master.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  let server: TestServer;
  let client: KinesisClient;
  const start = async (extra: Record<string, unknown> = {}) => {
    server = await startTestServer(
      { updateStreamDelayMs: 500, fsync: 'never', consumerDelayMs: 0, subscriptionHeartbeatMs: 200, masterKeyFile: keyFile, ...extra },
      { clock, dataDir },
    );
    client = server.client();
  };
  before(() => start());
  after(async () => {
    await server.destroy();
    removeDir(dataDir);
    removeDir(path.dirname(keyFile));
  });

  const put = async (data: string, partitionKey = 'pk') =>
    (await client.send(new PutRecordCommand({ StreamName: 'enc', PartitionKey: partitionKey, Data: Buffer.from(data) }))).EncryptionType;

  let expected: (string | undefined)[][] = [];

  it('stores records written while encryption is on so that their plaintext is in no file', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'enc', ShardCount: 1 }));
    assert.equal(await put('plain-before-7f3a'), undefined);
    await client.send(new StartStreamEncryptionCommand({ StreamName: 'enc', EncryptionType: 'KMS', KeyId: KEY }));
    clock.advance(500);
    assert.equal(await put('SECRET-ALPHA-91c2', 'PK-SECRET-ONE'), 'KMS');
    const many = await client.send(
      new PutRecordsCommand({
        StreamName: 'enc',
        Records: Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `PK-SECRET-${i}`, Data: Buffer.from(`SECRET-BATCH-${i}-d41e`) })),
      }),
    );
    assert.equal(many.EncryptionType, 'KMS');
    await client.send(new StartStreamEncryptionCommand({ StreamName: 'enc', EncryptionType: 'KMS', KeyId: USER_KEY }));
    clock.advance(500);
    assert.equal(await put('SECRET-BETA-5b0e', 'PK-SECRET-TWO'), 'KMS');

    expected = [
      ['plain-before-7f3a', 'pk', undefined],
      ['SECRET-ALPHA-91c2', 'PK-SECRET-ONE', 'KMS'],
      ...Array.from({ length: 20 }, (_, i) => [`SECRET-BATCH-${i}-d41e`, `PK-SECRET-${i}`, 'KMS']),
      ['SECRET-BETA-5b0e', 'PK-SECRET-TWO', 'KMS'],
    ];
    assert.deepEqual(summary(await readShard(client, 'enc', shardId(0))), expected);

    // Close the server so that every write is on disk, then look at every file of the data dir.
    await server.close();
    assert.deepEqual(holding(dataDir, 'plain-before-7f3a').map((f) => path.extname(f)), ['.log'], 'the plaintext record is on disk');
    for (const secret of ['SECRET-', 'PK-SECRET']) assert.deepEqual(holding(dataDir, secret), [], `${secret} appears nowhere`);
    await start();
  });

  it('reads encrypted records back after a restart, through GetRecords and SubscribeToShard', async () => {
    assert.deepEqual(summary(await readShard(client, 'enc', shardId(0))), expected);
    const arn = await registerActive(client, 'enc', 'reader');
    const sub = await SdkSubscription.open(client, arn, shardId(0), { Type: 'TRIM_HORIZON' });
    try {
      await sub.until(() => sub.texts().length >= expected.length, 10_000, 'every record');
      const got = sub.events.flatMap((e) => e.Records ?? []);
      assert.deepEqual(summary(got), expected);
    } finally {
      sub.close();
    }
  });

  it('stops encrypting after StopStreamEncryption; old records stay readable', async () => {
    await client.send(new StopStreamEncryptionCommand({ StreamName: 'enc', EncryptionType: 'KMS', KeyId: USER_KEY }));
    clock.advance(500);
    assert.equal(await put('plain-after-c08d', 'pk-after'), undefined);
    expected.push(['plain-after-c08d', 'pk-after', undefined]);
    await server.close();
    assert.equal(holding(dataDir, 'plain-after-c08d').length, 1);
    assert.deepEqual(holding(dataDir, 'SECRET-'), []);
    await start();
    assert.deepEqual(summary(await readShard(client, 'enc', shardId(0))), expected);
  });

  it('refuses to start with another master key', async () => {
    await server.close();
    const wrong = path.join(path.dirname(keyFile), 'wrong.key');
    writeFileSync(wrong, randomBytes(32).toString('base64'));
    await assert.rejects(start({ masterKeyFile: wrong }), /is not the key the data .* was written with/);
    writeFileSync(wrong, 'not a key');
    await assert.rejects(start({ masterKeyFile: wrong }), /expected 32 bytes in base64/);
    // Without the check file, a wrong key still never yields garbage: reads fail.
    const check = path.join(dataDir, 'master-key.check');
    const saved = readFileSync(check);
    writeFileSync(wrong, randomBytes(32).toString('base64'));
    removeDir(check);
    await start({ masterKeyFile: wrong });
    const it = await getIterator(client, 'enc', shardId(0), 'TRIM_HORIZON');
    await assert.rejects(client.send(new GetRecordsCommand({ ShardIterator: it })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'InternalFailureException');
      assert.equal(err.$metadata?.httpStatusCode, 500);
      return true;
    });
    await server.close();
    writeFileSync(check, saved);
    await start();
  });

  it('detects an encrypted record whose bytes were altered (even with the batch CRC fixed up)', async () => {
    await server.close();
    let altered = 0;
    for (const file of segmentFiles(dataDir)) {
      const buf = readFileSync(file);
      for (let at = 0; at + HEADER_SIZE <= buf.length; at += buf.readUInt32LE(at + 8)) {
        const length = buf.readUInt32LE(at + 8);
        if (buf[at + 12] !== BATCH_FORMAT_SEALED || altered > 0) continue;
        buf[at + length - 20]! ^= 0x40;
        buf.writeUInt32LE(crc32(buf.subarray(at + 8, at + length)), at + 4);
        altered++;
      }
      writeFileSync(file, buf);
    }
    assert.equal(altered, 1);
    await start();
    const it = await getIterator(client, 'enc', shardId(0), 'TRIM_HORIZON');
    const first = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1 }));
    assert.deepEqual(summary(first.Records!), [expected[0]], 'the plain record before it reads');
    await assert.rejects(client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator! })), (err: Error) => {
      assert.equal(err.name, 'InternalFailureException');
      return true;
    });
  });
});
