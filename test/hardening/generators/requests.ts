import fc from 'fast-check';
import { kinesisShapes } from '../../../src/kinesis/shapes.js';
import type { Shape, StructureShape } from '../../../src/protocol/shape.js';
import { body as encodeBody, garbageBody, type Format } from './bodies.js';
import { arnOf } from './model.js';
import { forceInvalid, mutatedValue, rewriteMembers, validValue, type Overrides, type WireValue } from './shapes.js';
import { judge, type Verdict } from './wire.js';

/**
 * Generated requests to every Kinesis operation: a valid value from the operation's shape with one
 * mutation, or a damaged body, in JSON or CBOR, with what the server must answer. Requests that
 * come out valid are made harmless before they are sent: those to operations that change state
 * are pointed at a stream that does not exist, and the few that would create state are made
 * certainly invalid, so that the server's state stays what the valid requests alone make.
 */

/** Operations that change state (or open a long-lived event stream) when they succeed. */
export const CHANGES_STATE: ReadonlySet<string> = new Set([
  'AddTagsToStream',
  'CreateChannel',
  'CreateStream',
  'DecreaseStreamRetentionPeriod',
  'DeleteChannel',
  'DeleteResourcePolicy',
  'DeleteStream',
  'DeregisterStreamConsumer',
  'DisableEnhancedMonitoring',
  'EnableEnhancedMonitoring',
  'IncreaseStreamRetentionPeriod',
  'MergeShards',
  'PutRecord',
  'PutRecords',
  'PutResourcePolicy',
  'RegisterStreamConsumer',
  'RemoveTagsFromStream',
  'SplitShard',
  'StartStreamEncryption',
  'StopStreamEncryption',
  'SubscribeToShard',
  'TagResource',
  'UntagResource',
  'UpdateAccountSettings',
  'UpdateChannel',
  'UpdateMaxRecordSize',
  'UpdateShardCount',
  'UpdateStreamMode',
  'UpdateStreamRecordDistributionStrategy',
  'UpdateStreamWarmThroughput',
]);

/** Valid requests to these are made invalid outright: they act on no existing stream. */
const ALWAYS_REFUSE: ReadonlySet<string> = new Set(['CreateStream', 'UpdateAccountSettings', 'CreateChannel']);

export const GHOST = 'zz-ghost-stream';
const GHOST_ARN = arnOf(GHOST);
const GHOST_CONSUMER = `${GHOST_ARN}/consumer/ghost:1700000000`;

/** Stream references a harmless request carries instead of the generated ones. */
export const GHOST_REFERENCES: Readonly<Record<string, WireValue>> = {
  StreamName: GHOST,
  StreamARN: GHOST_ARN,
  ResourceARN: GHOST_ARN,
  ConsumerARN: GHOST_CONSUMER,
};

export interface Targets {
  /** Streams that exist on the server. */
  streams: readonly string[];
  /** Consumer ARNs that exist. */
  consumers?: readonly string[];
  /** Shard iterators the server handed out. */
  iterators?: readonly string[];
}

/** Overrides that aim generated requests at the server's real streams most of the time. */
export function overridesFor(t: Targets): Overrides {
  const names = [...t.streams, GHOST];
  const o: Record<string, fc.Arbitrary<WireValue>> = {
    StreamName: fc.constantFrom(...names),
    StreamARN: fc.constantFrom(...names.map(arnOf)),
    ResourceARN: fc.constantFrom(...names.map(arnOf)),
    ShardId: fc.constantFrom('shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', '0', '1'),
  };
  if (t.consumers?.length) o.ConsumerARN = fc.constantFrom(...t.consumers, GHOST_CONSUMER);
  if (t.iterators?.length) {
    const its = t.iterators;
    o.ShardIterator = fc.oneof(
      fc.constantFrom(...its),
      fc.tuple(fc.constantFrom(...its), fc.nat(), fc.constantFrom('A', '/', '+', '=', '0', 'z')).map(([it, n, ch]) => {
        const i = n % it.length;
        return it.slice(0, i) + ch + it.slice(i + 1);
      }),
      fc.tuple(fc.constantFrom(...its), fc.nat()).map(([it, n]) => it.slice(0, n % it.length)),
    );
  }
  return o;
}

/** The overrides, each mixed with the member's own shape, so that patterns and lengths get their turn. */
function withShapeFallback(shape: StructureShape, overrides: Overrides): Overrides {
  const out: Record<string, fc.Arbitrary<WireValue>> = {};
  for (const [name, arb] of Object.entries(overrides)) {
    out[name] = fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: memberArb(shape, name) });
  }
  return out;
}

/** The first member of this name anywhere in the shape, generated from its own shape. */
function memberArb(shape: StructureShape, name: string): fc.Arbitrary<WireValue> {
  const found = findMember(shape, name);
  return found ? validValue(found) : fc.constant('x');
}

function findMember(shape: StructureShape, name: string): Shape | undefined {
  for (const m of shape.members) {
    if (m.name === name) return m.shape;
    if (m.shape.kind === 'structure') {
      const inner = findMember(m.shape, name);
      if (inner) return inner;
    }
    if (m.shape.kind === 'list' && m.shape.member.kind === 'structure') {
      const inner = findMember(m.shape.member, name);
      if (inner) return inner;
    }
  }
  return undefined;
}

export interface OperationCase {
  operation: string;
  format: Format;
  body: Buffer;
  /** What the server must answer, by its own decoder and validator. */
  verdict: Verdict;
  /** How the request was made, for messages. */
  how: string;
}

export const OPERATIONS: readonly string[] = [...kinesisShapes.keys()];

/**
 * How valid requests are treated: `harmless` points those that change state at a stream that does
 * not exist; `live` lets them act on the real streams (all but deletions and subscriptions).
 */
export type Mode = 'harmless' | 'live';

/** Cases for one operation. */
export function operationCase(operation: string, targets: Targets, maxDepth: number, mode: Mode = 'harmless'): fc.Arbitrary<OperationCase> {
  const shape = kinesisShapes.get(operation)!;
  const overrides = withShapeFallback(shape, overridesFor(targets));
  // Live cases are mostly well-formed, so that the operations themselves get to run.
  const values =
    mode === 'live'
      ? fc.oneof({ weight: 3, arbitrary: validValue(shape, overrides).map((value) => ({ kind: 'valid', value })) }, { weight: 1, arbitrary: mutatedValue(shape, overrides, maxDepth) })
      : mutatedValue(shape, overrides, maxDepth);
  return fc
    .tuple(fc.constantFrom<Format>('json', 'json', 'cbor'), values, fc.integer({ min: 0, max: 9 }))
    .chain(([format, mutated, roll]) => {
      const good = encodeBody(mutated.value, format);
      if (roll < 8) return fc.constant({ format, value: mutated.value, body: good, how: mutated.kind });
      return garbageBody(good, format, maxDepth).map((b) => ({ format, value: mutated.value, body: b, how: 'damaged-body' }));
    })
    .map(({ format, value, body, how }) => (mode === 'harmless' || LIVE_HARMLESS.has(operation) ? harmless(operation, shape, format, value, body, how) : live(operation, shape, format, body, how)));
}

/** Operations that stay harmless even in live mode: they would end the test's streams or hold a connection open. */
const LIVE_HARMLESS: ReadonlySet<string> = new Set(['DeleteStream', 'DeregisterStreamConsumer', 'SubscribeToShard', 'UpdateAccountSettings']);

function live(operation: string, shape: StructureShape, format: Format, body: Buffer, how: string): OperationCase {
  return { operation, format, body, verdict: judge(body, format, shape), how };
}

/** A case for any operation. */
export function anyOperationCase(targets: Targets, maxDepth: number, mode: Mode = 'harmless'): fc.Arbitrary<OperationCase> {
  // Building an operation's arbitrary compiles its patterns: once per operation, not per case.
  return fc.oneof(...OPERATIONS.map((op) => operationCase(op, targets, maxDepth, mode)));
}

function harmless(operation: string, shape: StructureShape, format: Format, value: WireValue, body: Buffer, how: string): OperationCase {
  let verdict = judge(body, format, shape);
  if (verdict.valid && CHANGES_STATE.has(operation)) {
    if (ALWAYS_REFUSE.has(operation) || how === 'damaged-body') {
      body = encodeBody(forceInvalid(value, shape), format);
      how += '+forced-invalid';
    } else {
      body = encodeBody(rewriteMembers(value, GHOST_REFERENCES), format);
      how += '+ghost';
    }
    verdict = judge(body, format, shape);
    if (verdict.valid && ALWAYS_REFUSE.has(operation)) throw new Error(`could not make a ${operation} request invalid`);
  }
  return { operation, format, body, verdict, how };
}

// ---------------------------------------------------------------------------------------------
// DynamoDB (the subset served for lease tables), when the server has it.

/** DynamoDB operations that only read. Valid requests to any other are made invalid before sending. */
const DYNAMODB_READS: ReadonlySet<string> = new Set([
  'DescribeTable',
  'ListTables',
  'DescribeContinuousBackups',
  'GetItem',
  'Scan',
  'Query',
  'BatchGetItem',
  'ListTagsOfResource',
  'DescribeLimits',
  'DescribeTimeToLive',
]);

export interface ServiceCase extends OperationCase {
  /** The X-Amz-Target prefix. */
  prefix: string;
}

/** Expression text made of the tokens DynamoDB's expression grammars use, in any order. */
const tokenSoup: fc.Arbitrary<WireValue> = fc
  .array(
    fc.constantFrom(
      '#n', '#m', ':v', ':w', 'leaseKey', 'owner', 'counter', 'a.b', 'list[0]', 'list[99999999999]', '=', '<>', '<', '<=', '>', '>=',
      'AND', 'OR', 'NOT', 'BETWEEN', 'IN', '(', ')', ',', 'attribute_exists(', 'attribute_not_exists(', 'attribute_type(',
      'begins_with(', 'contains(', 'size(', 'SET', 'REMOVE', 'ADD', 'DELETE', '+', '-', 'if_not_exists(', 'list_append(',
      '.', '[', ']', '#', ':', '"', "'", '\u0000', '😀',
    ),
    { minLength: 1, maxLength: 14 },
  )
  .map((tokens) => tokens.join(' '));

/** Well-formed expressions of each kind, and token soup. */
const expressionArb: fc.Arbitrary<WireValue> = fc.oneof(
  tokenSoup,
  fc.constantFrom(
    'attribute_exists(leaseKey)',
    'attribute_not_exists(leaseKey)',
    '#n = :v',
    'leaseKey = :v',
    'owner = :w OR attribute_not_exists(owner)',
    'SET #n = :v',
    'SET counter = counter + :v',
    'SET owner = :w REMOVE counter',
    'REMOVE owner',
    'ADD counter :v',
    'owner, counter',
    'leaseKey',
    'size(owner) > :v',
    'begins_with(owner, :w)',
  ),
);

const attributeValueArb: fc.Arbitrary<WireValue> = fc.oneof(
  fc.record({ S: fc.string({ maxLength: 8 }) }),
  fc.record({ N: fc.constantFrom('1', '-0', '1e126', '1e127', '1E-130', '0.5', 'abc', '', '99999999999999999999999999999999999999999') }),
  fc.record({ BOOL: fc.boolean() }),
  fc.record({ NULL: fc.constant(true) }),
  fc.record({ L: fc.array(fc.record({ S: fc.string({ maxLength: 3 }) }), { maxLength: 3 }) }),
  fc.record({ SS: fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }) }),
);

/** Members of DynamoDB requests aimed at a real lease table and its attributes. */
function dynamoOverrides(): Overrides {
  const table = fc.constantFrom('zz-ghost-table', 'fz-lease-table', 'fz-lease-table');
  return {
    TableName: table,
    ConditionExpression: expressionArb,
    KeyConditionExpression: expressionArb,
    FilterExpression: expressionArb,
    ProjectionExpression: expressionArb,
    UpdateExpression: expressionArb,
    ExpressionAttributeNames: fc.dictionary(fc.constantFrom('#n', '#m', '#x', 'n'), fc.constantFrom('leaseKey', 'owner', 'counter', '')),
    ExpressionAttributeValues: fc.dictionary(fc.constantFrom(':v', ':w', ':x', 'v'), attributeValueArb),
    Key: fc.oneof(fc.record({ leaseKey: fc.record({ S: fc.constantFrom('shard-0', 'shard-1', '') }) }), fc.dictionary(fc.string({ maxLength: 5 }), attributeValueArb, { maxKeys: 3 })),
    Item: fc.record({ leaseKey: fc.record({ S: fc.constantFrom('shard-0', 'shard-1', 'shard-2') }), owner: attributeValueArb, counter: attributeValueArb }, { requiredKeys: ['leaseKey'] }),
  };
}

/** DynamoDB operations that remove or reshape the table a live run works on. */
const DYNAMODB_NOT_LIVE: ReadonlySet<string> = new Set(['DeleteTable', 'UpdateTable', 'CreateTable']);

/**
 * Cases for one operation of a service whose shapes are given. `harmless`: valid requests that
 * would change state are made invalid. `live`: they run (against a lease table), except those that
 * would delete, create or reshape tables.
 */
export function serviceCase(
  prefix: string,
  shapes: ReadonlyMap<string, StructureShape>,
  operation: string,
  maxDepth: number,
  mode: Mode = 'harmless',
): fc.Arbitrary<ServiceCase> {
  const shape = shapes.get(operation)!;
  const overrides = dynamoOverrides();
  const keep = (op: string) => DYNAMODB_READS.has(op) || (mode === 'live' && !DYNAMODB_NOT_LIVE.has(op));
  // Few optional members at a time: DynamoDB refuses many combinations (Expected beside a
  // ConditionExpression, say), and a request that runs is worth more here.
  const optional = shape.members.filter((m) => !m.required).map((m) => m.name);
  const sparse = fc.tuple(validValue(shape, overrides), fc.subarray(optional, { maxLength: Math.min(2, optional.length) })).map(([value, kept]) => {
    const out = { ...(value as Record<string, WireValue>) };
    for (const name of optional) if (!kept.includes(name)) delete out[name];
    return { kind: 'valid', value: out as WireValue };
  });
  const values =
    mode === 'live'
      ? fc.oneof({ weight: 3, arbitrary: sparse }, { weight: 1, arbitrary: mutatedValue(shape, overrides, maxDepth) })
      : mutatedValue(shape, overrides, maxDepth);
  return fc
    .tuple(fc.constantFrom<Format>('json', 'json', 'cbor'), values, fc.integer({ min: 0, max: 9 }))
    .chain(([format, mutated, roll]) => {
      const good = encodeBody(mutated.value, format);
      if (roll < 8) return fc.constant({ format, value: mutated.value, body: good, how: mutated.kind });
      return garbageBody(good, format, maxDepth).map((b) => ({ format, value: mutated.value, body: b, how: 'damaged-body' }));
    })
    .map(({ format, value, body, how }) => {
      let verdict = judge(body, format, shape);
      if (verdict.valid && !keep(operation)) {
        body = encodeBody(forceInvalid(value, shape), format);
        how += '+forced-invalid';
        verdict = judge(body, format, shape);
        if (verdict.valid) throw new Error(`could not make a ${operation} request invalid`);
      }
      return { prefix, operation, format, body, verdict, how };
    });
}
