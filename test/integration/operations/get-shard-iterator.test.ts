import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ACCOUNT,
  arnOf,
  createStream,
  drain,
  expectError,
  getIterator,
  HASH_KEY_MAX,
  lengthAtLeast,
  NAME_PATTERN,
  NOT_NULL,
  SEQUENCE_PATTERN,
  shardId,
  shardNotFound,
  texts,
  validationMessage,
  violation,
  wholeSecond,
} from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const SHARD0 = shardId(0);
const SHARD1 = shardId(1);
const ITERATOR_TYPES = 'Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]';
const EITHER_OR =
  'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
  '(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ';

describe('GetShardIterator', () => {
  const clock = new ManualClock(wholeSecond());
  let server: TestServer;
  let client: KinesisClient;
  /** Five records in shard 0 of 'gsi', one second apart. */
  const written: { data: string; seq: string; at: number }[] = [];
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
    await createStream(client, 'gsi', 2);
    clock.advance(1000);
    for (let i = 0; i < 5; i++) {
      const data = `r${i}`;
      const r = await client.send(
        new PutRecordCommand({ StreamName: 'gsi', PartitionKey: 'k', ExplicitHashKey: '0', Data: Buffer.from(data) }),
      );
      assert.equal(r.ShardId, SHARD0);
      written.push({ data, seq: r.SequenceNumber!, at: clock.now() });
      clock.advance(1000);
    }
  });
  after(() => server.destroy());

  async function readFrom(type: GetShardIteratorCommandInput['ShardIteratorType'], extra: Partial<GetShardIteratorCommandInput> = {}, stream = 'gsi') {
    return texts((await drain(client, await getIterator(client, stream, SHARD0, type, extra))).records);
  }

  async function put(stream: string, data: string) {
    return client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', ExplicitHashKey: '0', Data: Buffer.from(data) }));
  }

  it('TRIM_HORIZON starts at the oldest record', async () => {
    assert.deepEqual(await readFrom('TRIM_HORIZON'), ['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('LATEST sees only records written after the call', async () => {
    await createStream(client, 'gsi-latest');
    await put('gsi-latest', 'old-1');
    await put('gsi-latest', 'old-2');
    const latest = await getIterator(client, 'gsi-latest', SHARD0, 'LATEST');
    const empty = await client.send(new GetRecordsCommand({ ShardIterator: latest }));
    assert.deepEqual(empty.Records, []);
    await put('gsi-latest', 'new-1');
    await put('gsi-latest', 'new-2');
    assert.deepEqual(texts((await drain(client, latest)).records), ['new-1', 'new-2']);
  });

  it('AT_SEQUENCE_NUMBER starts at that record, AFTER_SEQUENCE_NUMBER at the next', async () => {
    const seq = written[2]!.seq;
    assert.deepEqual(await readFrom('AT_SEQUENCE_NUMBER', { StartingSequenceNumber: seq }), ['r2', 'r3', 'r4']);
    assert.deepEqual(await readFrom('AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: seq }), ['r3', 'r4']);
    assert.deepEqual(await readFrom('AT_SEQUENCE_NUMBER', { StartingSequenceNumber: written[0]!.seq }), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(await readFrom('AT_SEQUENCE_NUMBER', { StartingSequenceNumber: written[4]!.seq }), ['r4']);
    assert.deepEqual(await readFrom('AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: written[4]!.seq }), []);
  });

  it('AFTER_SEQUENCE_NUMBER of the newest record waits for the next write', async () => {
    await createStream(client, 'gsi-after-last');
    const last = await put('gsi-after-last', 'a');
    const iterator = await getIterator(client, 'gsi-after-last', SHARD0, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: last.SequenceNumber });
    assert.deepEqual((await client.send(new GetRecordsCommand({ ShardIterator: iterator }))).Records, []);
    await put('gsi-after-last', 'b');
    assert.deepEqual(texts((await drain(client, iterator)).records), ['b']);
  });

  it("AT and AFTER the shard's StartingSequenceNumber both start at its first record", async () => {
    const d = await client.send(new DescribeStreamCommand({ StreamName: 'gsi' }));
    const start = d.StreamDescription!.Shards![0]!.SequenceNumberRange!.StartingSequenceNumber!;
    assert.ok(BigInt(start) < BigInt(written[0]!.seq));
    assert.deepEqual(await readFrom('AT_SEQUENCE_NUMBER', { StartingSequenceNumber: start }), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(await readFrom('AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: start }), ['r0', 'r1', 'r2', 'r3', 'r4']);
    const empty = d.StreamDescription!.Shards![1]!.SequenceNumberRange!.StartingSequenceNumber!;
    const it1 = await getIterator(client, 'gsi', SHARD1, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: empty });
    assert.deepEqual((await drain(client, it1)).records, []);
  });

  it('AT_TIMESTAMP starts at the first record that arrived at or after the timestamp', async () => {
    const at = (ms: number) => readFrom('AT_TIMESTAMP', { Timestamp: new Date(ms) });
    assert.deepEqual(await at(written[2]!.at), ['r2', 'r3', 'r4']);
    assert.deepEqual(await at(written[2]!.at - 1), ['r2', 'r3', 'r4']);
    assert.deepEqual(await at(written[2]!.at + 1), ['r3', 'r4']);
    assert.deepEqual(await at(written[0]!.at - 86_400_000), ['r0', 'r1', 'r2', 'r3', 'r4'], 'before the stream existed');
    assert.deepEqual(await at(clock.now()), [], 'now: no record yet');
  });

  it('AT_TIMESTAMP later than every record behaves like LATEST', async () => {
    await createStream(client, 'gsi-ts-tip');
    await put('gsi-ts-tip', 'old');
    clock.advance(10);
    const iterator = await getIterator(client, 'gsi-ts-tip', SHARD0, 'AT_TIMESTAMP', { Timestamp: new Date(clock.now()) });
    await put('gsi-ts-tip', 'new');
    assert.deepEqual(texts((await drain(client, iterator)).records), ['new']);
  });

  it('refuses a StartingSequenceNumber with TRIM_HORIZON or LATEST, and AT/AFTER without one', async () => {
    const seq = written[0]!.seq;
    for (const type of ['TRIM_HORIZON', 'LATEST'] as const) {
      await expectError(
        client.send(new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: type, StartingSequenceNumber: seq })),
        'InvalidArgumentException',
        `${EITHER_OR}Request specified ${type} and also a StartingSequenceNumber.`,
      );
    }
    for (const type of ['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER'] as const) {
      await expectError(
        client.send(new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: type })),
        'InvalidArgumentException',
        `${EITHER_OR}Request specified ${type} and no StartingSequenceNumber.`,
      );
    }
  });

  it('refuses AT_TIMESTAMP without a Timestamp, or with one in the future', async () => {
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: 'AT_TIMESTAMP' })),
      'InvalidArgumentException',
      'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
    );
    const now = clock.now();
    await expectError(
      client.send(
        new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(now + 1) }),
      ),
      'InvalidArgumentException',
      `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${now + 1}, currentTimestampInMillis: ${now}`,
    );
  });

  it('refuses a sequence number of another shard, of another stream, or not of this service', async () => {
    const other = await client.send(
      new PutRecordCommand({ StreamName: 'gsi', PartitionKey: 'k', ExplicitHashKey: HASH_KEY_MAX.toString(), Data: Buffer.from('s1') }),
    );
    assert.equal(other.ShardId, SHARD1);
    await expectError(
      client.send(
        new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: other.SequenceNumber }),
      ),
      'InvalidArgumentException',
      `Invalid StartingSequenceNumber. It encodes ${SHARD1}, while it was used in a call to a shard with ${SHARD0}`,
    );

    clock.advance(2000);
    await createStream(client, 'gsi-elsewhere');
    const foreign = (await put('gsi-elsewhere', 'x')).SequenceNumber!;
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: foreign })),
      'InvalidArgumentException',
      `StartingSequenceNumber ${foreign} used in GetShardIterator on shard ${SHARD0} in stream gsi under account ${ACCOUNT} ` +
        'is invalid because it did not come from this stream.',
    );

    // A short number is read as AWS's oldest layout, whose shard index is its low 16 bits (AWS's
    // recorded answer for '5' on shard 0 names shardId-000000000005; sequence-numbers.test.ts).
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '12345' })),
      'InvalidArgumentException',
      `Invalid StartingSequenceNumber. It encodes ${shardId(12345)}, while it was used in a call to a shard with ${SHARD0}`,
    );
  });

  it('refuses an unknown shard or stream with ResourceNotFoundException', async () => {
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamName: 'gsi', ShardId: shardId(2), ShardIteratorType: 'LATEST' })),
      'ResourceNotFoundException',
      shardNotFound('gsi', shardId(2)),
    );
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamName: 'gsi-missing', ShardId: SHARD0, ShardIteratorType: 'LATEST' })),
      'ResourceNotFoundException',
      shardNotFound('gsi-missing', SHARD0),
    );
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamARN: arnOf('gsi-missing'), ShardId: SHARD1, ShardIteratorType: 'TRIM_HORIZON' })),
      'ResourceNotFoundException',
      shardNotFound('gsi-missing', SHARD1),
    );
  });

  it('takes the shard index alone as a shard id', async () => {
    const iterator = await getIterator(client, 'gsi', '0', 'TRIM_HORIZON');
    assert.deepEqual(texts((await drain(client, iterator)).records), ['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('accepts StreamARN instead of, or together with, StreamName; refuses a mismatching pair', async () => {
    const arn = arnOf('gsi');
    const byArn = await client.send(new GetShardIteratorCommand({ StreamARN: arn, ShardId: SHARD0, ShardIteratorType: 'TRIM_HORIZON' }));
    assert.deepEqual(texts((await drain(client, byArn.ShardIterator!)).records), ['r0', 'r1', 'r2', 'r3', 'r4']);
    const both = await client.send(
      new GetShardIteratorCommand({ StreamName: 'gsi', StreamARN: arn, ShardId: SHARD0, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    assert.ok(both.ShardIterator);
    await expectError(
      client.send(new GetShardIteratorCommand({ StreamName: 'gsi-latest', StreamARN: arn, ShardId: SHARD0, ShardIteratorType: 'LATEST' })),
      'InvalidArgumentException',
      `StreamARN ${arn} and StreamName gsi-latest do not refer to the same stream.`,
    );
  });

  it('validates its input with AWS messages', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, validationMessage(violation(null, 'shardId', NOT_NULL), violation(null, 'shardIteratorType', NOT_NULL))],
      [
        { StreamName: '', ShardIteratorType: '', ShardId: '', StartingSequenceNumber: '' },
        validationMessage(
          violation('', 'shardId', NAME_PATTERN),
          violation('', 'shardId', lengthAtLeast(1)),
          violation('', 'shardIteratorType', ITERATOR_TYPES),
          violation('', 'startingSequenceNumber', SEQUENCE_PATTERN),
          violation('', 'streamName', NAME_PATTERN),
          violation('', 'streamName', lengthAtLeast(1)),
        ),
      ],
      [
        { StreamName: 'gsi', ShardId: SHARD0, ShardIteratorType: 'OLDEST', StartingSequenceNumber: '0123' },
        validationMessage(violation('OLDEST', 'shardIteratorType', ITERATOR_TYPES), violation('0123', 'startingSequenceNumber', SEQUENCE_PATTERN)),
      ],
    ];
    for (const [input, message] of cases) {
      await expectError(client.send(new GetShardIteratorCommand(input as never)), 'ValidationException', message);
    }
  });

  it('AT_SEQUENCE_NUMBER of a record past retention starts at the oldest retained record', async () => {
    await createStream(client, 'gsi-trimmed');
    const gone = await put('gsi-trimmed', 'expires');
    clock.advance(23 * 3_600_000);
    await put('gsi-trimmed', 'kept');
    clock.advance(2 * 3_600_000);
    assert.deepEqual(await readFrom('AT_SEQUENCE_NUMBER', { StartingSequenceNumber: gone.SequenceNumber }, 'gsi-trimmed'), ['kept']);
    assert.deepEqual(await readFrom('TRIM_HORIZON', {}, 'gsi-trimmed'), ['kept']);
  });
});
