/**
 * Encryption at rest with the JetStream engine: records written while a stream is encrypted are
 * in no JetStream message and in no file of any nats-server's store, and every node (sharing the
 * master key) reads them back.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { PutRecordCommand, StartStreamEncryptionCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createStream, readShard, shardId, text } from '../../helpers/kinesis.js';
import type { TestServer } from '../../helpers/server.js';
import { skipWithoutNats, startCluster, type TestCluster } from './cluster.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('encryption at rest on JetStream', { skip: skipWithoutNats() }, () => {
  let cluster: TestCluster;
  let a: TestServer;
  let b: TestServer;
  let ca: KinesisClient;
  let cb: KinesisClient;

  before(async () => {
    cluster = await startCluster();
    a = await cluster.node({ updateStreamDelayMs: 0 });
    b = await cluster.node({ updateStreamDelayMs: 0 });
    ca = a.client();
    cb = b.client();
  });
  after(() => cluster?.destroy());

  it('keeps the plaintext of encrypted records out of every message and store file, and every node reads them', async () => {
    await createStream(ca, 'enc', 1);
    const put = async (data: string, key: string) =>
      (await ca.send(new PutRecordCommand({ StreamName: 'enc', PartitionKey: key, Data: Buffer.from(data) }))).EncryptionType;
    assert.equal(await put('plain-before-3c1d', 'pk-plain'), undefined);
    await ca.send(new StartStreamEncryptionCommand({ StreamName: 'enc', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }));
    assert.equal(await put('SECRET-ALPHA-90ab', 'PK-SECRET-ONE'), 'KMS');
    assert.equal(await put('SECRET-BETA-77cd', 'PK-SECRET-TWO'), 'KMS');

    const expected = [
      ['plain-before-3c1d', 'pk-plain', undefined],
      ['SECRET-ALPHA-90ab', 'PK-SECRET-ONE', 'KMS'],
      ['SECRET-BETA-77cd', 'PK-SECRET-TWO', 'KMS'],
    ];
    for (const client of [ca, cb]) {
      const records = await readShard(client, 'enc', shardId(0));
      assert.deepEqual(
        records.map((r) => [text(r), r.PartitionKey, r.EncryptionType]),
        expected,
      );
    }

    // Every message of the shard's JetStream stream, as the server stores it.
    const { conn } = await cluster.catalog();
    const jsm = await jetstreamManager(conn.nc);
    const payloads: Buffer[] = [];
    for await (const info of jsm.streams.list()) {
      if (!info.config.name.startsWith(`${cluster.prefix}_enc`)) continue;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(info.config.name, { seq });
        if (msg) payloads.push(Buffer.from(msg.data));
      }
    }
    const inMessages = (needle: string) => payloads.filter((p) => p.includes(Buffer.from(needle))).length;
    assert.equal(inMessages('plain-before-3c1d'), 1, 'the plaintext record is in a message (the scan sees records)');
    for (const secret of ['SECRET-', 'PK-SECRET']) assert.equal(inMessages(secret), 0, `${secret} is in no message`);

    // And in no file of any server's store (the plain record is, on each replica).
    const files = cluster.nats.servers.flatMap((s) => filesUnder(s.storeDir));
    const holding = (needle: string) => files.filter((f) => readFileSync(f).includes(Buffer.from(needle)));
    assert.ok(holding('plain-before-3c1d').length >= 2, 'the plaintext record is on the disks of a majority');
    for (const secret of ['SECRET-', 'PK-SECRET']) assert.deepEqual(holding(secret), [], `${secret} is in no store file`);
  });
});
