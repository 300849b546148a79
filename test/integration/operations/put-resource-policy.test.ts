import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateStreamCommand, GetResourcePolicyCommand, PutResourcePolicyCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { ACCOUNT, arnOf, expectError, NOT_NULL, streamNotFound, validationMessage, violation, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const statement = (extra: Record<string, unknown> = {}) => ({
  Sid: 'read',
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::111122223333:root' },
  Action: ['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStreamSummary'],
  Resource: arnOf('prp'),
  ...extra,
});
const policy = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('PutResourcePolicy', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new ManualClock(wholeSecond());
  before(async () => {
    server = await startTestServer({ createStreamDelayMs: 1000 }, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'prp', ShardCount: 1 }));
    clock.advance(1000);
  });
  after(() => server.destroy());

  const put = (Policy: string, ResourceARN = arnOf('prp')) => client.send(new PutResourcePolicyCommand({ ResourceARN, Policy }));
  const get = async () => (await client.send(new GetResourcePolicyCommand({ ResourceARN: arnOf('prp') }))).Policy;

  it('stores the policy verbatim and replaces it on the next call', async () => {
    const spaced = `{\n  "Version": "2012-10-17",\n  "Statement": ${JSON.stringify(statement())}\n}`;
    await put(spaced);
    assert.equal(await get(), spaced, 'returned exactly as given, one statement as an object');
    const two = policy(statement(), statement({ Sid: 'deny', Effect: 'Deny', NotAction: 'kinesis:PutRecord', Action: undefined, Principal: '*' }));
    await put(two);
    assert.equal(await get(), two);
    const conditioned = policy(statement({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-123' } } }));
    await put(conditioned);
    assert.equal(await get(), conditioned);
  });

  it('refuses documents that are not IAM policies, with IAM’s wording', async () => {
    const cases: [string, string][] = [
      ['not json', 'Syntax errors in policy.'],
      ['[]', 'Syntax errors in policy.'],
      [JSON.stringify({ Version: '2012-10-17', Statement: [statement()], Extra: 1 }), 'Syntax errors in policy.'],
      [JSON.stringify({ Version: '2020-01-01', Statement: [statement()] }), 'The policy must contain a valid version string'],
      [JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement'],
      [JSON.stringify({ Version: '2012-10-17', Statement: [] }), 'Missing required field Statement'],
      [policy(statement({ Effect: undefined })), 'Missing required field Effect'],
      [policy(statement({ Effect: 'Maybe' })), 'Invalid effect: Maybe'],
      [policy(statement({ Principal: undefined })), 'Missing required field Principal'],
      [policy(statement({ Principal: { Someone: 'x' } })), 'Invalid principal in policy'],
      [policy(statement({ Principal: 'someone' })), 'Invalid principal in policy'],
      [policy(statement({ Action: undefined })), 'Policy statement must contain actions.'],
      [policy(statement({ Action: [] })), 'Policy statement must contain actions.'],
      [policy(statement({ Action: 'GetRecords' })), 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
      [policy(statement({ Resource: undefined })), 'Policy statement must contain resources.'],
      [policy(statement({ Condition: 'yes' })), 'Syntax errors in policy.'],
      [policy(statement({ Colour: 'red' })), 'Syntax errors in policy.'],
      [policy(statement({ NotPrincipal: '*' })), 'Syntax errors in policy.'],
      [policy(statement(), statement()), 'Statement IDs (SID) in a single policy must be unique.'],
    ];
    for (const [doc, message] of cases) {
      await expectError(put(doc), 'InvalidArgumentException', message);
    }
    assert.equal(await get(), policy(statement({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-123' } } })), 'nothing was replaced');
  });

  it('refuses a stream that does not exist or is not ACTIVE', async () => {
    await expectError(put(policy(statement()), arnOf('prp-none')), 'ResourceNotFoundException', streamNotFound('prp-none'));
    const consumer = `${arnOf('prp')}/consumer/c:1700000000`;
    await expectError(put(policy(statement()), consumer), 'ResourceNotFoundException', `Consumer ${consumer} not found.`);
    await client.send(new CreateStreamCommand({ StreamName: 'prp-new', ShardCount: 1 }));
    await expectError(
      put(policy(statement()), arnOf('prp-new')),
      'ResourceInUseException',
      `Stream prp-new under account ${ACCOUNT} not ACTIVE, instead in state CREATING`,
    );
  });

  it('requires a policy', async () => {
    await expectError(
      client.send(new PutResourcePolicyCommand({ ResourceARN: arnOf('prp'), Policy: undefined })),
      'ValidationException',
      validationMessage(violation(null, 'policy', NOT_NULL)),
    );
  });
});
