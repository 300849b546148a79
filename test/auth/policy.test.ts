import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessDeniedMessage, PolicyEvaluator, type RequestContext } from '../../src/auth/policy.js';

const policies = new PolicyEvaluator();
const evaluate = policies.evaluate.bind(policies);
const conditionsHold = policies.conditionsHold.bind(policies);
const globMatch = policies.globMatch.bind(policies);
const arnLike = policies.arnLike.bind(policies);

const STREAM = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
const ALICE = 'arn:aws:iam::123456789012:user/alice';

function ctx(over: Partial<RequestContext> = {}, keys: Record<string, string> = {}): RequestContext {
  return {
    action: 'kinesis:PutRecord',
    resource: STREAM,
    principalArn: ALICE,
    account: '123456789012',
    keys: new Map(
      Object.entries({
        'aws:sourceip': '10.1.2.3',
        'aws:currenttime': '2026-06-01T12:00:00Z',
        'aws:securetransport': 'false',
        'aws:username': 'alice',
        'aws:principalarn': ALICE,
        ...keys,
      }),
    ),
    ...over,
  };
}

const policy = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const allow = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({ Effect: 'Allow', Action, Resource, ...extra });
const deny = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({ Effect: 'Deny', Action, Resource, ...extra });

describe('IAM policy evaluation', () => {
  it('denies by default, with AWS wording', () => {
    const c = ctx();
    const d = evaluate([], undefined, c);
    assert.deepEqual(d, { effect: 'deny', explicit: false });
    assert.equal(
      accessDeniedMessage(c, d),
      'User: arn:aws:iam::123456789012:user/alice is not authorized to perform: kinesis:PutRecord on resource: ' +
        'arn:aws:kinesis:us-east-1:123456789012:stream/orders because no identity-based policy allows the kinesis:PutRecord action',
    );
  });

  it('allows by action and resource, with wildcards; actions ignore case, resources do not', () => {
    assert.equal(evaluate([policy(allow('kinesis:PutRecord', STREAM))], undefined, ctx()).effect, 'allow');
    assert.equal(evaluate([policy(allow('kinesis:Put*', 'arn:aws:kinesis:*:*:stream/ord?rs'))], undefined, ctx()).effect, 'allow');
    assert.equal(evaluate([policy(allow('KINESIS:putrecord', STREAM))], undefined, ctx()).effect, 'allow');
    assert.equal(evaluate([policy(allow('kinesis:Get*', STREAM))], undefined, ctx()).effect, 'deny');
    assert.equal(evaluate([policy(allow('kinesis:*', STREAM.toUpperCase()))], undefined, ctx()).effect, 'deny');
    assert.equal(evaluate([policy(allow(['kinesis:GetRecords', 'kinesis:PutRecord'], [STREAM]))], undefined, ctx()).effect, 'allow');
    assert.equal(evaluate([policy(allow('*', 'arn:aws:kinesis:us-east-1:123456789012:stream/ord'))], undefined, ctx()).effect, 'deny');
  });

  it('an explicit deny beats any allow, with AWS wording', () => {
    const c = ctx();
    const d = evaluate([policy(allow('kinesis:*')), policy(deny('kinesis:PutRecord', STREAM))], undefined, c);
    assert.deepEqual(d, { effect: 'deny', explicit: true, source: 'identity' });
    assert.equal(
      accessDeniedMessage(c, d),
      `User: ${ALICE} is not authorized to perform: kinesis:PutRecord on resource: ${STREAM} with an explicit deny in an identity-based policy`,
    );
  });

  it('NotAction and NotResource', () => {
    assert.equal(evaluate([policy({ Effect: 'Allow', NotAction: 'kinesis:Delete*', Resource: '*' })], undefined, ctx()).effect, 'allow');
    assert.equal(
      evaluate([policy({ Effect: 'Allow', NotAction: 'kinesis:Put*', Resource: '*' })], undefined, ctx()).effect,
      'deny',
    );
    assert.equal(
      evaluate([policy(allow('kinesis:*'), { Effect: 'Deny', Action: 'kinesis:*', NotResource: STREAM })], undefined, ctx()).effect,
      'allow',
    );
    assert.equal(
      evaluate(
        [policy(allow('kinesis:*'), { Effect: 'Deny', Action: 'kinesis:*', NotResource: 'arn:aws:kinesis:*:*:stream/other' })],
        undefined,
        ctx(),
      ).effect,
      'deny',
    );
  });

  it('policy variables in resources', () => {
    const p = policy(allow('kinesis:*', 'arn:aws:kinesis:*:*:stream/${aws:username}-*'));
    assert.equal(evaluate([p], undefined, ctx({ resource: 'arn:aws:kinesis:us-east-1:123456789012:stream/alice-logs' })).effect, 'allow');
    assert.equal(evaluate([p], undefined, ctx()).effect, 'deny');
  });

  it('conditions: strings, numbers, dates, Bool, IP ranges, ARNs, IfExists, Null, negation of missing keys', () => {
    const holds = (cond: object, keys: Record<string, string> = {}) => conditionsHold(cond, ctx({}, keys));
    assert.equal(holds({ StringEquals: { 'aws:username': 'alice' } }), true);
    assert.equal(holds({ StringEquals: { 'aws:username': ['bob', 'alice'] } }), true);
    assert.equal(holds({ StringEquals: { 'AWS:UserName': 'Alice' } }), false);
    assert.equal(holds({ StringEqualsIgnoreCase: { 'aws:username': 'ALICE' } }), true);
    assert.equal(holds({ StringNotEquals: { 'aws:username': 'alice' } }), false);
    assert.equal(holds({ StringLike: { 'aws:principalarn': 'arn:aws:iam::*:user/a*' } }), true);
    assert.equal(holds({ StringNotLike: { 'aws:principalarn': 'arn:aws:iam::*:user/b*' } }), true);
    assert.equal(holds({ NumericLessThan: { 'kinesis:n': '10' } }, { 'kinesis:n': '9' }), true);
    assert.equal(holds({ NumericGreaterThanEquals: { 'kinesis:n': '10' } }, { 'kinesis:n': '9' }), false);
    assert.equal(holds({ DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }), true);
    assert.equal(holds({ DateGreaterThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }), false);
    assert.equal(holds({ Bool: { 'aws:SecureTransport': 'false' } }), true);
    assert.equal(holds({ Bool: { 'aws:SecureTransport': 'true' } }), false);
    assert.equal(holds({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), true);
    assert.equal(holds({ IpAddress: { 'aws:SourceIp': ['192.168.0.0/16', '10.1.2.3'] } }), true);
    assert.equal(holds({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), false);
    assert.equal(holds({ IpAddress: { 'aws:SourceIp': '::1/128' } }, { 'aws:sourceip': '::1' }), true);
    assert.equal(holds({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:user/*' } }), true);
    assert.equal(holds({ ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:user/bob' } }), false);
    assert.equal(holds({ StringEquals: { 'aws:missing': 'x' } }), false);
    assert.equal(holds({ StringEqualsIfExists: { 'aws:missing': 'x' } }), true);
    assert.equal(holds({ StringNotEquals: { 'aws:missing': 'x' } }), true);
    assert.equal(holds({ Null: { 'aws:missing': 'true' } }), true);
    assert.equal(holds({ Null: { 'aws:username': 'true' } }), false);
    assert.equal(holds({ StringEquals: { 'aws:username': 'alice' }, Bool: { 'aws:SecureTransport': 'true' } }), false);
    assert.equal(holds({ NoSuchOperator: { 'aws:username': 'alice' } }), false);
  });

  it('a deny conditioned on plain HTTP applies only without TLS', () => {
    const p = [policy(allow('kinesis:*'), deny('*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))];
    assert.equal(evaluate(p, undefined, ctx()).effect, 'deny');
    assert.equal(evaluate(p, undefined, ctx({}, { 'aws:securetransport': 'true' })).effect, 'allow');
  });

  it('resource policies: a named principal is granted; others, and the account alone, are not; a deny there wins', () => {
    const bob = 'arn:aws:iam::123456789012:user/bob';
    const rp = JSON.stringify(policy({ Effect: 'Allow', Principal: { AWS: bob }, Action: 'kinesis:PutRecord', Resource: STREAM }));
    assert.equal(evaluate([], rp, ctx({ principalArn: bob })).effect, 'allow');
    assert.equal(evaluate([], rp, ctx()).effect, 'deny');
    const acct = policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kinesis:*', Resource: STREAM });
    assert.equal(evaluate([], acct, ctx()).effect, 'deny');
    const star = policy({ Effect: 'Allow', Principal: '*', Action: 'kinesis:*' });
    assert.equal(evaluate([], star, ctx()).effect, 'allow');
    const rdeny = policy({ Effect: 'Deny', Principal: { AWS: '123456789012' }, Action: 'kinesis:PutRecord', Resource: STREAM });
    const c = ctx();
    const d = evaluate([policy(allow('kinesis:*'))], rdeny, c);
    assert.deepEqual(d, { effect: 'deny', explicit: true, source: 'resource' });
    assert.equal(accessDeniedMessage(c, d), `User: ${ALICE} is not authorized to perform: kinesis:PutRecord on resource: ${STREAM} with an explicit deny in a resource-based policy`);
    const notP = policy({ Effect: 'Deny', NotPrincipal: { AWS: bob }, Action: '*', Resource: '*' });
    assert.equal(evaluate([policy(allow('*'))], notP, ctx()).effect, 'deny');
    assert.equal(evaluate([policy(allow('*'))], notP, ctx({ principalArn: bob })).effect, 'allow');
  });

  it('glob and ARN matching', () => {
    assert.equal(globMatch('a*c', 'abbbc'), true);
    assert.equal(globMatch('a?c', 'abbc'), false);
    assert.equal(globMatch('a.c', 'abc'), false);
    assert.equal(globMatch('a*', 'a\nb'), true);
    assert.equal(arnLike('arn:aws:kinesis:*:*:stream/*', STREAM), true);
    assert.equal(arnLike('arn:aws:kinesis:*:*:stream/*', 'arn:aws:iam::1:user/x'), false);
  });

  it('keeps what it parsed within its bounds, dropping what was used least recently, until closed', () => {
    const small = new PolicyEvaluator({ policies: 2, patterns: 2, addressRanges: 2 });
    const text = (n: number) => JSON.stringify(policy(allow(`kinesis:Put*${n}`, STREAM)));
    for (let n = 0; n < 5; n++) small.evaluate([text(n)], undefined, ctx());
    assert.deepEqual(small.cached, { policies: 2, patterns: 2, addressRanges: 0 });
    for (const ip of ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24']) {
      assert.equal(small.conditionsHold({ IpAddress: { 'aws:sourceip': ip } }, ctx()), true);
    }
    assert.equal(small.cached.addressRanges, 2);
    // A statement read after the cache dropped its text decides the same.
    assert.equal(small.evaluate([], JSON.stringify(policy({ ...allow('kinesis:PutRecord', STREAM), Principal: { AWS: ALICE } })), ctx()).effect, 'allow');
    small.close();
    assert.deepEqual(small.cached, { policies: 0, patterns: 0, addressRanges: 0 });
  });
});

describe('identity policies in the credentials file', () => {
  it('are checked when loaded, so that a statement that cannot be read never silently fails to deny', async () => {
    const { parseCredentials } = await import('../../src/auth/credentials.js');
    const { identityPolicyProblems } = await import('../../src/auth/policy.js');
    assert.deepEqual(identityPolicyProblems(policy(allow('kinesis:*'), deny('*', '*', { Condition: { 'ForAnyValue:StringLikeIfExists': { 'aws:username': 'a*' } } }))), []);
    assert.deepEqual(identityPolicyProblems({ Statement: [{ Effect: 'Deny', Actions: 'kinesis:*', Resource: '*' }] }), [
      'statement 1: field Actions is not allowed in an identity-based policy',
      'statement 1: needs exactly one of Action and NotAction',
    ]);
    assert.deepEqual(identityPolicyProblems({ Statement: { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEqualz: { a: 'b' } } } }), [
      'statement 1: unknown condition operator StringEqualz',
    ]);
    assert.deepEqual(identityPolicyProblems({ Statement: { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' } }), [
      'statement 1: field Principal is not allowed in an identity-based policy',
    ]);
    assert.throws(
      () => parseCredentials([{ accessKeyId: 'A', secretAccessKey: 's', principal: 'p', policies: [{ Statement: { Effect: 'deny', Action: '*', Resource: '*' } }] }], '123456789012'),
      /entry 1: policy 1: statement 1: Effect must be Allow or Deny/,
    );
    assert.throws(() => parseCredentials({}, '1'), /must be a JSON list/);
    assert.throws(() => parseCredentials([{ accessKeyId: 'A', principal: 'p' }], '1'), /secretAccessKey missing/);
    assert.throws(
      () => parseCredentials([{ accessKeyId: 'A', secretAccessKey: 's', principal: 'p' }, { accessKeyId: 'A', secretAccessKey: 't', principal: 'q' }], '1'),
      /appears twice/,
    );
    const c = parseCredentials([{ accessKeyId: 'A', secretAccessKey: 's', principal: 'arn:aws:iam::123456789012:user/dev/carol' }], '1').get('A')!;
    assert.equal(c.userName, 'carol');
    assert.equal(c.principalArn, 'arn:aws:iam::123456789012:user/dev/carol');
  });
});
