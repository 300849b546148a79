import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kinesisShapes } from '../../src/kinesis/shapes.js';
import {
  ValidationException,
  blob,
  decodeInput,
  integer,
  list,
  long,
  map,
  required,
  string,
  structure,
  timestamp,
  validate,
  type StructureShape,
} from '../../src/protocol/index.js';

const shape = (op: string): StructureShape => {
  const s = kinesisShapes.get(op);
  assert.ok(s, op);
  return s;
};

/** Decodes a JSON request as the router does and returns the ValidationException text (or undefined). */
function violations(op: string | StructureShape, body: unknown): string | undefined {
  const s = typeof op === 'string' ? shape(op) : op;
  const input = decodeInput(Buffer.from(JSON.stringify(body)), 'json', s);
  try {
    validate(input, s);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ValidationException, String(err));
    assert.equal(err.type, 'ValidationException');
    assert.equal(err.status, 400);
    assert.equal(err.capitalMessage, false);
    return err.message;
  }
}

const one = (value: string, path: string, rule: string): string =>
  `1 validation error detected: ${at(value, path, rule)}`;
const at = (value: string, path: string, rule: string): string =>
  `Value ${value} at '${path}' failed to satisfy constraint: ${rule}`;

describe('validate: one rule at a time', () => {
  test('Member must not be null', () => {
    assert.equal(violations('PutRecords', {}), one('null', 'records', 'Member must not be null'));
  });

  test('length, pattern and value rules', () => {
    const long129 = 'a'.repeat(129);
    assert.equal(
      violations('DescribeStream', { StreamName: long129 }),
      one(`'${long129}'`, 'streamName', 'Member must have length less than or equal to 128'),
    );
    assert.equal(
      violations('GetRecords', { ShardIterator: 'x', Limit: 10001 }),
      one("'10001'", 'limit', 'Member must have value less than or equal to 10000'),
    );
    assert.equal(
      violations('GetRecords', { ShardIterator: 'x', Limit: 0 }),
      one("'0'", 'limit', 'Member must have value greater than or equal to 1'),
    );
    assert.equal(
      violations('DescribeStream', { StreamName: 'a b' }),
      one("'a b'", 'streamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
    );
    assert.equal(
      violations('GetRecords', { ShardIterator: '' }),
      one("''", 'shardIterator', 'Member must have length greater than or equal to 1'),
    );
  });

  test('patterns match the whole string', () => {
    assert.equal(violations('DescribeStream', { StreamName: 'ok-name_1.2' }), undefined);
    assert.equal(
      violations('DescribeStream', { StreamName: 'good!' }),
      one("'good!'", 'streamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
    );
    assert.equal(
      violations('PutRecord', { StreamName: 's', Data: '', ExplicitHashKey: '01' }),
      one("'01'", 'explicitHashKey', 'Member must satisfy regular expression pattern: ^(0|([1-9]\\d{0,38}))$'),
    );
    assert.equal(violations('PutRecord', { StreamName: 's', Data: '', ExplicitHashKey: '340282366920938463463374607431768211455' }), undefined);
  });

  test('enum rules list the values in the order AWS prints them', () => {
    assert.equal(
      violations('GetShardIterator', { StreamName: 's', ShardId: 'shardId-0', ShardIteratorType: 'OLDEST' }),
      one(
        "'OLDEST'",
        'shardIteratorType',
        'Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]',
      ),
    );
    assert.equal(
      violations('UpdateShardCount', { StreamName: 's', TargetShardCount: 2, ScalingType: 'X' }),
      one("'X'", 'scalingType', 'Member must satisfy enum value set: [UNIFORM_SCALING]'),
    );
  });

  test('blobs print as the ByteBuffer that held them', () => {
    const big = Buffer.alloc(10485761).toString('base64');
    assert.equal(
      violations('PutRecord', { StreamName: 's', Data: big }),
      one("'java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]'", 'data', 'Member must have length less than or equal to 10485760'),
    );
  });

  test('integers print as Java prints them after clamping', () => {
    const s = structure('S', { I: integer({ max: 5 }), L: long({ max: 5 }) });
    assert.equal(
      violations(s, { I: 1e12, L: 1e30 }),
      '2 validation errors detected: ' +
        at("'2147483647'", 'i', 'Member must have value less than or equal to 5') +
        '; ' +
        at("'9223372036854775807'", 'l', 'Member must have value less than or equal to 5'),
    );
  });
});

describe('validate: collections', () => {
  test('a list of strings reports its members’ constraints once, at the list', () => {
    const key = 'k'.repeat(129);
    assert.equal(
      violations('RemoveTagsFromStream', { StreamName: 's', TagKeys: ['a', key, 'b'] }),
      one(
        `'[a, ${key}, b]'`,
        'tagKeys',
        'Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
      ),
    );
    assert.equal(
      violations('EnableEnhancedMonitoring', { StreamName: 's', ShardLevelMetrics: ['IncomingBytes', 'Bogus'] }),
      one(
        "'[IncomingBytes, Bogus]'",
        'shardLevelMetrics',
        'Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, ' +
          'OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]',
      ),
    );
    const eleven = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51'];
    assert.equal(
      violations('RemoveTagsFromStream', { StreamName: 's', TagKeys: eleven }),
      one(`'[${eleven.join(', ')}]'`, 'tagKeys', 'Member must have length less than or equal to 50'),
    );
    assert.equal(
      violations('RemoveTagsFromStream', { StreamName: 's', TagKeys: [] }),
      one("'[]'", 'tagKeys', 'Member must have length greater than or equal to 1'),
    );
  });

  test('map keys and values are reported once each, at the map', () => {
    const key = 'k'.repeat(129);
    const value = 'v'.repeat(257);
    assert.equal(
      violations('AddTagsToStream', { StreamName: 's', Tags: { a: '1', [key]: '2' } }),
      one(
        `'{a=1, ${key}=2}'`,
        'tags',
        'Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
      ),
    );
    assert.equal(
      violations('AddTagsToStream', { StreamName: 's', Tags: { a: '1', c: value } }),
      one(
        `'{a=1, c=${value}}'`,
        'tags',
        'Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]',
      ),
    );
    assert.equal(
      violations('AddTagsToStream', { StreamName: 's', Tags: {} }),
      one("'{}'", 'tags', 'Member must have length greater than or equal to 1'),
    );
    assert.equal(
      violations('AddTagsToStream', { StreamName: 's', Tags: { a: null } }),
      one('null', 'tags.a.member', 'Member must not be null'),
    );
  });

  test('structures inside lists: 1-based paths through `member`', () => {
    assert.equal(
      violations('PutRecords', { StreamName: 's', Records: [{ PartitionKey: 'a', Data: '' }, { Data: '', PartitionKey: '' }] }),
      one("''", 'records.2.member.partitionKey', 'Member must have length greater than or equal to 1'),
    );
    assert.equal(
      violations('PutRecords', { StreamName: 's', Records: [{ PartitionKey: 'a' }] }),
      one('null', 'records.1.member.data', 'Member must not be null'),
    );
    assert.equal(
      violations('PutRecords', { StreamName: 's', Records: [{ PartitionKey: 'a', Data: '' }, null] }),
      one('null', 'records.2.member', 'Member must not be null'),
    );
    const channel = {
      ChannelName: 'c',
      ServiceExecutionRoleARN: 'arn:aws:iam::123456789012:role/r',
      StreamConfigurationList: [
        { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s', RecordConfiguration: { RecordFormatType: 'JSON' } },
        { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s', RecordConfiguration: { RecordFormatType: 'XML' } },
      ],
    };
    assert.equal(
      violations('CreateChannel', channel),
      one("'XML'", 'streamConfigurationList.2.member.recordConfiguration.recordFormatType', 'Member must satisfy enum value set: [GSR_JSON, JSON, STRING, BYTE_ARRAY]'),
    );
  });

  test('nested structures: lower-camel paths', () => {
    assert.equal(
      violations('ListShards', { StreamName: 's', ShardFilter: { Type: 'SOMETIME' } }),
      one(
        "'SOMETIME'",
        'shardFilter.type',
        'Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]',
      ),
    );
    assert.equal(violations('ListShards', { StreamName: 's', ShardFilter: {} }), one('null', 'shardFilter.type', 'Member must not be null'));
    assert.equal(
      violations('UpdateAccountSettings', {}),
      one('null', 'minimumThroughputBillingCommitment', 'Member must not be null'),
    );
    assert.equal(
      violations('CreateStream', { StreamName: 's', StreamModeDetails: { StreamMode: 'FAST' } }),
      one("'FAST'", 'streamModeDetails.streamMode', 'Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]'),
    );
  });
});

describe('validate: several violations (texts and order as AWS reported them)', () => {
  test('CreateStream', () => {
    assert.equal(
      violations('CreateStream', { StreamName: '', ShardCount: 0 }),
      '3 validation errors detected: ' +
        at("'0'", 'shardCount', 'Member must have value greater than or equal to 1') +
        '; ' +
        at("''", 'streamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+') +
        '; ' +
        at("''", 'streamName', 'Member must have length greater than or equal to 1'),
    );
    assert.equal(violations('CreateStream', {}), one('null', 'streamName', 'Member must not be null'));
    // A huge ShardCount is clamped to Integer.MAX_VALUE and is then valid as far as the model goes.
    assert.equal(violations('CreateStream', { StreamName: 's', ShardCount: 100000000000 }), undefined);
  });

  test('PutRecords: list before members, entries before the stream name', () => {
    const name = 'a'.repeat(129);
    const key = 'k'.repeat(257);
    assert.equal(
      violations('PutRecords', { StreamName: name, Records: [{ PartitionKey: key, Data: '', ExplicitHashKey: '' }] }),
      '3 validation errors detected: ' +
        at(`'${key}'`, 'records.1.member.partitionKey', 'Member must have length less than or equal to 256') +
        '; ' +
        at("''", 'records.1.member.explicitHashKey', 'Member must satisfy regular expression pattern: ^(0|([1-9]\\d{0,38}))$') +
        '; ' +
        at(`'${name}'`, 'streamName', 'Member must have length less than or equal to 128'),
    );
  });

  test('at most ten are listed, and the count says ten', () => {
    const records = Array.from({ length: 501 }, () => ({ PartitionKey: '', Data: '' }));
    const entry = 'com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2';
    const expected =
      '10 validation errors detected: ' +
      [
        at(`'[${Array(501).fill(entry).join(', ')}]'`, 'records', 'Member must have length less than or equal to 500'),
        ...Array.from({ length: 9 }, (_, i) =>
          at("''", `records.${i + 1}.member.partitionKey`, 'Member must have length greater than or equal to 1'),
        ),
      ].join('; ');
    assert.equal(violations('PutRecords', { StreamName: '', Records: records }), expected);
  });

  test('DescribeStream and ListStreams orders', () => {
    assert.equal(
      violations('DescribeStream', { StreamName: '', Limit: 0, ExclusiveStartShardId: '' }),
      '5 validation errors detected: ' +
        [
          at("'0'", 'limit', 'Member must have value greater than or equal to 1'),
          at("''", 'exclusiveStartShardId', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
          at("''", 'exclusiveStartShardId', 'Member must have length greater than or equal to 1'),
          at("''", 'streamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
          at("''", 'streamName', 'Member must have length greater than or equal to 1'),
        ].join('; '),
    );
    assert.equal(
      violations('ListStreams', { ExclusiveStartStreamName: 'a'.repeat(129), Limit: 1000000 }),
      '2 validation errors detected: ' +
        at("'1000000'", 'limit', 'Member must have value less than or equal to 10000') +
        '; ' +
        at(`'${'a'.repeat(129)}'`, 'exclusiveStartStreamName', 'Member must have length less than or equal to 128'),
    );
  });

  test('GetShardIterator: every member at once', () => {
    assert.equal(
      violations('GetShardIterator', { StreamName: '', ShardIteratorType: '', ShardId: '', StartingSequenceNumber: '' }),
      '6 validation errors detected: ' +
        [
          at("''", 'shardId', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
          at("''", 'shardId', 'Member must have length greater than or equal to 1'),
          at(
            "''",
            'shardIteratorType',
            'Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]',
          ),
          at("''", 'startingSequenceNumber', 'Member must satisfy regular expression pattern: ^(0|([1-9]\\d{0,128}))$'),
          at("''", 'streamName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
          at("''", 'streamName', 'Member must have length greater than or equal to 1'),
        ].join('; '),
    );
  });
});

describe('validate: valid inputs pass', () => {
  test('PutRecords with 500 entries', () => {
    const records = Array.from({ length: 500 }, (_, i) => ({
      PartitionKey: `pk-${i}`,
      Data: Buffer.alloc(100, i).toString('base64'),
      ExplicitHashKey: String(i),
    }));
    assert.equal(violations('PutRecords', { StreamName: 'stream', Records: records }), undefined);
  });

  test('GetShardIterator with Timestamp, ListShards with ShardFilter, CreateStream on demand', () => {
    assert.equal(
      violations('GetShardIterator', { StreamName: 's', ShardId: 'shardId-000000000001', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: 1700000000.5 }),
      undefined,
    );
    assert.equal(
      violations('ListShards', { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s', ShardFilter: { Type: 'FROM_TIMESTAMP', Timestamp: 1 } }),
      undefined,
    );
    assert.equal(
      violations('CreateStream', { StreamName: 's', StreamModeDetails: { StreamMode: 'ON_DEMAND' }, Tags: { team: 'data', empty: '' } }),
      undefined,
    );
    assert.equal(violations('DescribeLimits', {}), undefined);
  });

  test('a 500-entry PutRecords with valid entries passes, and one bad entry is named by its index', () => {
    const s = shape('PutRecords');
    const input = {
      StreamName: 'stream',
      Records: Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `pk-${i}`, Data: Buffer.alloc(16), ExplicitHashKey: String(i) })),
    };
    validate(input, s);
    input.Records[499]!.PartitionKey = '';
    assert.throws(() => validate(input, s), /at 'records\.500\.member\.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1/);
  });
});

test('shapes built by hand: required members, timestamps and blobs need nothing more', () => {
  const s = structure('S', { When: required(timestamp()), Bytes: blob({ min: 1 }), Names: list(string(), { max: 1 }), Tags: map(string(), string()) });
  assert.equal(violations(s, {}), one('null', 'when', 'Member must not be null'));
  assert.equal(
    violations(s, { When: 0, Bytes: '', Names: ['a', 'b'] }),
    '2 validation errors detected: ' +
      at("'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]'", 'bytes', 'Member must have length greater than or equal to 1') +
      '; ' +
      at("'[a, b]'", 'names', 'Member must have length less than or equal to 1'),
  );
});
