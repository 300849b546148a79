/**
 * Sequence numbers a client hands back are judged by their structure, as AWS judges them. The
 * numbers below are AWS's recorded answers in the kinesalite test suite (test/putRecord.js and
 * test/getShardIterator.js), written as the hex layouts they probe (sequence-number.ts describes
 * the three layouts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetShardIteratorCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { parseSequenceNumber } from '../../../src/kinesis/sequence-number.js';
import { ACCOUNT, createStream, expectError, shardId, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const hex = (digits: string) => BigInt(`0x${digits}`).toString();
/** Nine hex digits of epoch seconds, as the layouts carry them. */
const seconds9 = (ms: number) => Math.floor(ms / 1000).toString(16).padStart(9, '0');

describe('sequence numbers handed back', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
    await createStream(client, 'seq', 1);
  });
  after(() => server.destroy());

  const put = (SequenceNumberForOrdering: string) =>
    client.send(new PutRecordCommand({ StreamName: 'seq', PartitionKey: 'a', Data: Buffer.alloc(0), SequenceNumberForOrdering }));
  const invalidOrdering = (seq: string) =>
    `ExclusiveMinimumSequenceNumber ${seq} used in PutRecord on stream seq under account ${ACCOUNT} is invalid.`;

  it('PutRecord takes any number of version 1 or 2 whose time has come, whatever shard it names', async () => {
    const accepted = [
      '2ffffffffff7fffffffffffffff000000000007fffffff2', // every field at its largest
      '20000000000000000000000000000000000000000000002', // every field 0
      '20000000000000000000000000000000000000000000001', // every field 0, version 1
      `2ffffffffff7fffffff7fffffff00${seconds9(clock.now() - 2000)}7fffffff2`, // written just now
      '20000000000000000000000000000000000000800000002', // a shard index with its top bit set
    ];
    for (const digits of accepted) {
      const r = await put(hex(digits));
      assert.equal(r.ShardId, shardId(0), digits);
    }
  });

  it('PutRecord refuses other versions, other layouts, a counter with its top bit, and the future', async () => {
    const refused = [
      '20000000000000000000000000000000000000000000000', // version 0 in the long layout
      '20000000000000000000000000000000000000000000004', // version 4
      // Version 3: AWS answers a bare InternalFailure (500), an accident; refused here like 4.
      '20000000000000000000000000000000000000000000003',
      '30000000000000000000000000000000000000000000001', // first digit 3
      '1ffffffffff7fffffffffffffff000000000007fffffff2', // first digit 1
      '20000000000800000000000000000000000000000000002', // the counter's top bit
      `200000000000000000000000000000${seconds9(clock.now() + 2000).slice(1)}000000002`, // two seconds ahead
      '13bb2cc3d80000000000000000000000', // the oldest layout, with a date past its range
    ];
    for (const digits of refused) {
      const seq = hex(digits);
      await expectError(put(seq), 'InvalidArgumentException', invalidOrdering(seq));
    }
  });

  const iterator = (StartingSequenceNumber: string) =>
    client.send(new GetShardIteratorCommand({ StreamName: 'seq', ShardId: shardId(0), ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber }));

  it('GetShardIterator names the shard a number of any layout encodes', async () => {
    await expectError(
      iterator('5'),
      'InvalidArgumentException',
      `Invalid StartingSequenceNumber. It encodes ${shardId(5)}, while it was used in a call to a shard with ${shardId(0)}`,
    );
    const v2OfShard3 = hex(`2${seconds9(clock.now())}3${'0'.repeat(16)}00${seconds9(clock.now())}000000032`);
    await expectError(
      iterator(v2OfShard3),
      'InvalidArgumentException',
      `Invalid StartingSequenceNumber. It encodes ${shardId(3)}, while it was used in a call to a shard with ${shardId(0)}`,
    );
  });

  it('GetShardIterator refuses a number of this shard that did not come from this stream', async () => {
    const message = (seq: string, why: string) =>
      `StartingSequenceNumber ${seq} used in GetShardIterator on shard ${shardId(0)} in stream seq under account ${ACCOUNT} is invalid${why}.`;
    // AWS answers '0' (the oldest layout, naming shard 0) with a bare InternalFailure; here it is
    // told why it cannot be used.
    await expectError(iterator('0'), 'InvalidArgumentException', message('0', ' because it did not come from this stream'));
    const v1 = hex('20000000000000000000000000000000000000000000001');
    await expectError(iterator(v1), 'InvalidArgumentException', message(v1, ' because it did not come from this stream'));
    const large = hex('13bb2cc3d80000000000000000000000');
    assert.equal(large, '26227199374822427428162556223570313216');
    await expectError(iterator(large), 'InvalidArgumentException', message(large, ''));
  });

  it('reads the three layouts field by field', () => {
    assert.deepEqual(parseSequenceNumber('5'), { version: 0, shardIndex: 5, shardCreatedSeconds: 0 });
    assert.deepEqual(parseSequenceNumber(hex('2000000a00000000000000000000000000b0000000000031')), undefined, 'too long');
    assert.deepEqual(parseSequenceNumber(hex('200000000a30000000000b0000000000000000000000071')), {
      version: 1,
      shardIndex: 7,
      shardCreatedSeconds: 10,
      arrivalSeconds: 0xb,
    });
    assert.deepEqual(parseSequenceNumber(hex('20000000c4000000000000000100000000d000000042')), undefined, 'too short for the long layouts');
    assert.deepEqual(parseSequenceNumber(hex('20000000c40000000000000001000000000d000000042')), undefined, 'forty-five digits');
    assert.deepEqual(parseSequenceNumber(hex('200000000c400000000000000010000000000d000000042')), {
      version: 2,
      shardIndex: 4,
      shardCreatedSeconds: 12,
      arrivalSeconds: 0xd,
    });
  });
});
