import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kinesisShapes } from '../../src/kinesis/shapes.js';
import {
  CBOR_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  contentTypeOf,
  formatOf,
  integer,
  list,
  lowerFirst,
  map,
  required,
  string,
  structure,
  type Shape,
} from '../../src/protocol/index.js';

const OPERATIONS = [
  'AddTagsToStream', 'CreateChannel', 'CreateStream', 'DecreaseStreamRetentionPeriod', 'DeleteChannel',
  'DeleteResourcePolicy', 'DeleteStream', 'DeregisterStreamConsumer', 'DescribeAccountSettings', 'DescribeChannel',
  'DescribeLimits', 'DescribeStream', 'DescribeStreamConsumer', 'DescribeStreamSummary', 'DisableEnhancedMonitoring',
  'EnableEnhancedMonitoring', 'GetRecords', 'GetResourcePolicy', 'GetShardIterator', 'IncreaseStreamRetentionPeriod',
  'ListChannels', 'ListShards', 'ListStreamConsumers', 'ListStreams', 'ListTagsForResource', 'ListTagsForStream',
  'MergeShards', 'PutRecord', 'PutRecords', 'PutResourcePolicy', 'RegisterStreamConsumer', 'RemoveTagsFromStream',
  'SplitShard', 'StartStreamEncryption', 'StopStreamEncryption', 'SubscribeToShard', 'TagResource', 'UntagResource',
  'UpdateAccountSettings', 'UpdateChannel', 'UpdateMaxRecordSize', 'UpdateShardCount', 'UpdateStreamMode',
  'UpdateStreamRecordDistributionStrategy', 'UpdateStreamWarmThroughput',
];

test('there is an input shape for each of the 45 operations, and no other', () => {
  assert.equal(OPERATIONS.length, 45);
  assert.deepEqual([...kinesisShapes.keys()].sort(), [...OPERATIONS].sort());
});

test('every structure in the tables is well formed', () => {
  const visit = (shape: Shape, where: string): void => {
    switch (shape.kind) {
      case 'structure':
        for (const m of shape.members) {
          assert.match(m.name, /^[A-Z][A-Za-z0-9]*$/, `${where}.${m.name}`);
          assert.equal(m.path, lowerFirst(m.name));
          assert.equal(shape.byName.get(m.name), m);
          visit(m.shape, `${where}.${m.name}`);
        }
        return;
      case 'list':
        visit(shape.member, `${where}[]`);
        return;
      case 'map':
        visit(shape.key, `${where}{key}`);
        visit(shape.value, `${where}{}`);
        return;
      case 'string':
        if (shape.pattern !== undefined) assert.ok(shape.regex instanceof RegExp, where);
        return;
      default:
        return;
    }
  };
  for (const [op, shape] of kinesisShapes) visit(shape, op);
});

test('required members follow the model', () => {
  const requiredOf = (op: string) => kinesisShapes.get(op)!.members.filter((m) => m.required).map((m) => m.name);
  assert.deepEqual(requiredOf('PutRecords'), ['Records']);
  assert.deepEqual(requiredOf('PutRecord'), ['Data']);
  assert.deepEqual(requiredOf('CreateStream'), ['StreamName']);
  assert.deepEqual(requiredOf('GetShardIterator'), ['ShardId', 'ShardIteratorType']);
  assert.deepEqual(requiredOf('SubscribeToShard'), ['ConsumerARN', 'ShardId', 'StartingPosition']);
  assert.deepEqual(requiredOf('UpdateStreamMode'), ['StreamARN', 'StreamModeDetails']);
  assert.deepEqual(requiredOf('DescribeStreamSummary'), []);
  assert.deepEqual(requiredOf('DescribeLimits'), []);
});

test('patterns are anchored to the whole string', () => {
  const s = string({ pattern: 'a|b' });
  assert.ok(s.regex!.test('a'));
  assert.ok(!s.regex!.test('ab'));
  assert.ok(!s.regex!.test('xa'));
  const arn = kinesisShapes.get('RegisterStreamConsumer')!.byName.get('StreamARN')!.shape;
  assert.equal(arn.kind, 'string');
  if (arn.kind === 'string') {
    assert.ok(arn.regex!.test('arn:aws:kinesis:us-east-1:123456789012:stream/my-stream'));
    assert.ok(!arn.regex!.test('arn:aws:kinesis:us-east-1:12345:stream/my-stream'));
  }
});

test('constructors precompute the collapsed rules of scalar list members and map entries', () => {
  assert.equal(
    list(string({ min: 1, max: 128 })).memberRule,
    'Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]',
  );
  assert.equal(list(string()).memberRule, undefined);
  assert.equal(list(integer({ min: 1, max: 9 })).memberRule, 'Member must satisfy constraint: [Member must have value less than or equal to 9, Member must have value greater than or equal to 1]');
  const m = map(string({ min: 1 }), string({ min: 0, max: 2 }));
  assert.equal(m.keyRule, 'Map keys must satisfy constraint: [Member must have length greater than or equal to 1]');
  assert.equal(m.valueRule, 'Map value must satisfy constraint: [Member must have length less than or equal to 2, Member must have length greater than or equal to 0]');
  const s = structure('S', { A: required(string()), B: integer() });
  assert.deepEqual(
    s.members.map((x) => [x.name, x.path, x.required]),
    [
      ['A', 'a', true],
      ['B', 'b', false],
    ],
  );
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.members));
});

test('formatOf and response content types', () => {
  assert.equal(formatOf('application/x-amz-json-1.1'), 'json');
  assert.equal(formatOf('application/x-amz-json-1.0'), 'json');
  assert.equal(formatOf('application/json'), 'json');
  assert.equal(formatOf('Application/X-Amz-Json-1.1; charset=utf-8'), 'json');
  assert.equal(formatOf('application/x-amz-cbor-1.1'), 'cbor');
  assert.equal(formatOf('application/cbor'), undefined);
  assert.equal(formatOf('text/plain'), undefined);
  assert.equal(formatOf(''), undefined);
  assert.equal(formatOf(undefined), undefined);
  assert.equal(contentTypeOf('json'), JSON_CONTENT_TYPE);
  assert.equal(contentTypeOf('cbor'), CBOR_CONTENT_TYPE);
  assert.equal(JSON_CONTENT_TYPE, 'application/x-amz-json-1.1');
  assert.equal(CBOR_CONTENT_TYPE, 'application/x-amz-cbor-1.1');
});
