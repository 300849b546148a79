/**
 * Two writers of one shard on separate connections (two nodes): sealing closes the shard to both,
 * the end offset counts the other writer's appends, unsealing opens it again, and every stored
 * message is announced to watchers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  connectJetStream,
  createJetStreamLogStore,
  type JetStreamConnection,
  type JetStreamLogStore,
} from '../../../src/storage/jetstream/index.js';
import { ShardDeletedError, ShardSealedError, type RecordInput } from '../../../src/storage/types.js';
import { skipWithoutNats, startNatsServer, type NatsServer } from './nats-server.js';

function rec(data: string): RecordInput {
  return { partitionKey: 'k', data: Buffer.from(data) };
}

describe('sealing a JetStream shard log', { skip: skipWithoutNats() }, () => {
  let nats: NatsServer;
  const conns: JetStreamConnection[] = [];
  let a: JetStreamLogStore;
  let b: JetStreamLogStore;

  before(async () => {
    nats = await startNatsServer();
    for (let i = 0; i < 2; i++) conns.push(await connectJetStream({ servers: [nats.url], replicas: 1, prefix: 'SEAL' }));
    a = await createJetStreamLogStore(conns[0]!);
    b = await createJetStreamLogStore(conns[1]!);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    for (const c of conns) await c.close();
    await nats?.destroy();
  });

  test('closes the shard to every writer at an end that counts the other writer, and opens it again', async () => {
    const onA = await a.open('sealed~1', 0);
    const onB = await b.open('sealed~1', 0);
    let announced = 0;
    const unwatch = b.watchAppends('sealed~1', 0, () => announced++);
    await onA.append([rec('a0'), rec('a1')], 1000);
    // B appends after A's last append: A does not know it yet.
    assert.deepEqual(await onB.append([rec('b0')], 1001), { firstOffset: 2, timestamp: 1001 });
    assert.equal(onA.nextOffset, 2);

    assert.equal(await onA.seal(), 3, 'the end is after every stored record, whoever appended it');
    assert.equal(await onA.seal(), 3, 'sealing again changes nothing');
    await assert.rejects(onB.append([rec('b1')], 1002), ShardSealedError);
    await assert.rejects(onA.append([rec('a2')], 1002), ShardSealedError);
    const read = await onB.read(0, 100, 1 << 20);
    assert.deepEqual(
      read.records.map((r) => [r.offset, r.data.toString()]),
      [
        [0, 'a0'],
        [1, 'a1'],
        [2, 'b0'],
      ],
    );
    assert.equal(read.nextOffset, 3);

    await onA.unseal();
    assert.deepEqual(await onB.append([rec('b2')], 1003), { firstOffset: 3, timestamp: 1003 });
    assert.deepEqual(await onA.append([rec('a3')], 1004), { firstOffset: 4, timestamp: 1004 });
    const all = await onA.read(0, 100, 1 << 20);
    assert.deepEqual(
      all.records.map((r) => r.data.toString()),
      ['a0', 'a1', 'b0', 'b2', 'a3'],
    );
    // A log opened after the markers reads the same records with the same offsets.
    const fresh = await createJetStreamLogStore(conns[1]!);
    try {
      const again = await (await fresh.open('sealed~1', 0)).read(0, 100, 1 << 20);
      assert.deepEqual(again.records, all.records);
    } finally {
      await fresh.close();
    }
    // Four stored appends and two markers (the second seal stores nothing), each announced once.
    for (let i = 0; i < 100 && announced < 6; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    unwatch();
    assert.equal(announced, 6);
  });

  test('a log opened on a sealed shard refuses appends', async () => {
    const onA = await a.open('sealed~2', 0);
    await onA.append([rec('x')], 1000);
    assert.equal(await onA.seal(), 1);
    const onB = await b.open('sealed~2', 0);
    await assert.rejects(onB.append([rec('y')], 1001), ShardSealedError);
    assert.equal(onB.nextOffset, 1);
  });

  test('an append to a shard another writer deleted fails with ShardDeletedError, at once', async () => {
    const onB = await b.open('deleted~1', 0);
    await onB.append([rec('x')], 1000);
    await a.dropStream('deleted~1');
    await assert.rejects(onB.append([rec('y')], 1001), ShardDeletedError);
  });
});
