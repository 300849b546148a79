/**
 * The Channel operations through @aws-sdk/client-kinesis: statuses on the injected clock
 * (CREATING → ACTIVE, UPDATING → ACTIVE, DELETING → gone), Describe/List/Update/Delete, channel
 * tags, ChannelCount in DescribeStreamSummary and DescribeLimits, DeleteStream refused while a
 * channel reads the stream, and AWS's errors for invalid requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteChannelCommand,
  DeleteResourcePolicyCommand,
  DeleteStreamCommand,
  DescribeChannelCommand,
  DescribeLimitsCommand,
  DescribeStreamSummaryCommand,
  GetResourcePolicyCommand,
  ListChannelsCommand,
  ListTagsForResourceCommand,
  PutResourcePolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateChannelCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { rejection } from '../firehose/helpers.js';
import { startS3TestServer, type S3TestServer } from '../s3/helpers.js';
import { channelArn, channelRequest, createChannel, createStream, streamArn, streamStatus } from './helpers.js';

const DELAY_MS = 500;

describe('channel control plane', () => {
  let server: S3TestServer;
  let kinesis: KinesisClient;
  const clock = new ManualClock(Date.UTC(2026, 4, 2, 8, 0, 0));
  before(async () => {
    server = await startS3TestServer({ createStreamDelayMs: DELAY_MS, deleteStreamDelayMs: DELAY_MS }, { clock });
    kinesis = server.client();
    await createStream(kinesis, 'source');
    await createStream(kinesis, 'provisioned', 'PROVISIONED');
    clock.advance(DELAY_MS);
    assert.equal(await streamStatus(kinesis, 'source'), 'ACTIVE');
  });
  after(() => server.destroy());

  const status = async (name: string) =>
    (await kinesis.send(new DescribeChannelCommand({ ChannelARN: channelArn(name) }))).ChannelDescription!.ChannelStatus;

  it('goes CREATING → ACTIVE → UPDATING → ACTIVE → DELETING → gone on the clock, and DeleteStream waits for it', async () => {
    const created = await createChannel(
      kinesis,
      channelRequest('life', 'source', 'life-bucket', { Tags: { team: 'data' }, EncryptionConfiguration: { EncryptionType: 'KMS', KeyId: 'alias/channels' } }),
    );
    assert.equal(created.ChannelName, 'life');
    assert.equal(created.ChannelARN, channelArn('life'));
    assert.equal(created.ChannelStatus, 'CREATING');
    assert.match(created.ChannelId!, /^[0-9a-f-]{36}$/);
    assert.equal(created.ChannelCreationTimestamp!.getTime(), clock.now());
    assert.equal(created.ServiceExecutionRoleARN, 'arn:aws:iam::000000000000:role/channel-delivery');
    assert.deepEqual(created.StreamConfigurationList, [
      { StreamARN: streamArn('source'), StreamCreationTimestamp: created.StreamConfigurationList![0]!.StreamCreationTimestamp, RecordConfiguration: { RecordFormatType: 'JSON' } },
    ]);
    assert.deepEqual(created.S3DestinationConfiguration, {
      DataFreshnessInSeconds: 300,
      DeadLetterQueueS3Configuration: {
        BucketARN: 'arn:aws:s3:::life-bucket',
        ExpectedBucketOwner: '000000000000',
        ErrorOutputPrefix: `kinesis-channel/errors/life/${created.ChannelId}/`,
      },
      StorageConfiguration: { BucketARN: 'arn:aws:s3:::life-bucket', ExpectedBucketOwner: '000000000000', CompressionType: 'NONE' },
    });
    assert.deepEqual(created.EncryptionConfiguration, { EncryptionType: 'KMS', KeyId: 'alias/channels' });
    assert.deepEqual(created.LoggingConfiguration, { CloudWatchLogs: { Enabled: false } });
    assert.equal(await status('life'), 'CREATING');
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'source' }));
    assert.equal(summary.StreamDescriptionSummary!.ChannelCount, 1);
    const limits = await kinesis.send(new DescribeLimitsCommand({}));
    assert.equal(limits.ChannelCount, 1);
    assert.equal(limits.ChannelCountLimit, 50);

    const busy = await rejection(() => kinesis.send(new UpdateChannelCommand({ ChannelARN: channelArn('life'), S3DestinationConfiguration: { DataFreshnessInSeconds: 600 } })));
    assert.equal(busy.name, 'ResourceInUseException');
    assert.equal(busy.message, 'Channel life under account 000000000000 not ACTIVE, instead in state CREATING');

    clock.advance(DELAY_MS);
    assert.equal(await status('life'), 'ACTIVE');

    const updated = await kinesis.send(
      new UpdateChannelCommand({
        ChannelARN: channelArn('life'),
        S3DestinationConfiguration: { DataFreshnessInSeconds: 600 },
        LoggingConfiguration: { CloudWatchLogs: { Enabled: true, LogGroupName: '/channels/life' } },
      }),
    );
    assert.equal(updated.ChannelDescription!.ChannelStatus, 'UPDATING');
    assert.equal(updated.ChannelDescription!.S3DestinationConfiguration!.DataFreshnessInSeconds, 600);
    assert.deepEqual(updated.ChannelDescription!.LoggingConfiguration, { CloudWatchLogs: { Enabled: true, LogGroupName: '/channels/life' } });
    clock.advance(DELAY_MS);
    assert.equal(await status('life'), 'ACTIVE');

    const refused = await rejection(() => kinesis.send(new DeleteStreamCommand({ StreamName: 'source' })));
    assert.equal(refused.name, 'ResourceInUseException');
    assert.match(refused.message, /^Stream source under account 000000000000 has 1 channel\(s\) reading from it \(life\)/);

    await kinesis.send(new DeleteChannelCommand({ ChannelARN: channelArn('life') }));
    assert.equal(await status('life'), 'DELETING');
    const listed = await kinesis.send(new ListChannelsCommand({}));
    assert.deepEqual(
      listed.ChannelSummaries!.filter((c) => c.ChannelName === 'life').map((c) => c.ChannelStatus),
      ['DELETING'],
    );
    clock.advance(DELAY_MS);
    const gone = await rejection(() => kinesis.send(new DescribeChannelCommand({ ChannelARN: channelArn('life') })));
    assert.equal(gone.name, 'ResourceNotFoundException');
    assert.equal(gone.message, 'Channel life under account 000000000000 not found.');
    const after = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'source' }));
    assert.equal(after.StreamDescriptionSummary!.ChannelCount, 0);
  });

  it('lets DeleteStream through once the channels of the stream are gone', async () => {
    await createStream(kinesis, 'doomed');
    clock.advance(DELAY_MS);
    await createChannel(kinesis, channelRequest('doomed-channel', 'doomed', 'doomed-bucket'));
    await kinesis.send(new DeleteChannelCommand({ ChannelARN: channelArn('doomed-channel') }));
    const stillReading = await rejection(() => kinesis.send(new DeleteStreamCommand({ StreamName: 'doomed' })));
    assert.equal(stillReading.name, 'ResourceInUseException', 'a DELETING channel still reads the stream');
    clock.advance(DELAY_MS);
    await kinesis.send(new DeleteStreamCommand({ StreamName: 'doomed' }));
    assert.equal(await streamStatus(kinesis, 'doomed'), 'DELETING');
  });

  it('lists channels in name order, pages with NextToken, and filters by stream', async () => {
    await createStream(kinesis, 'other');
    clock.advance(DELAY_MS);
    for (const name of ['list-b', 'list-a']) await createChannel(kinesis, channelRequest(name, 'source', 'list-bucket'));
    await createChannel(kinesis, channelRequest('list-c', 'other', 'list-bucket'));
    const first = await kinesis.send(new ListChannelsCommand({ MaxResults: 2 }));
    assert.deepEqual(first.ChannelSummaries!.map((c) => c.ChannelName), ['list-a', 'list-b']);
    assert.ok(first.NextToken);
    const second = await kinesis.send(new ListChannelsCommand({ MaxResults: 2, NextToken: first.NextToken }));
    assert.deepEqual(second.ChannelSummaries!.map((c) => c.ChannelName), ['list-c']);
    assert.equal(second.NextToken, undefined);
    const summary = second.ChannelSummaries![0]!;
    assert.equal(summary.ChannelARN, channelArn('list-c'));
    assert.equal(summary.ChannelDestinationType, 'S3');
    assert.equal(summary.ChannelStatus, 'CREATING');
    assert.deepEqual(summary.Streams!.map((s) => s.StreamARN), [streamArn('other')]);
    const filtered = await kinesis.send(new ListChannelsCommand({ StreamFilter: [{ StreamARN: streamArn('other') }] }));
    assert.deepEqual(filtered.ChannelSummaries!.map((c) => c.ChannelName), ['list-c']);
    for (const name of ['list-a', 'list-b', 'list-c']) await kinesis.send(new DeleteChannelCommand({ ChannelARN: channelArn(name) }));
    clock.advance(DELAY_MS);
    assert.deepEqual((await kinesis.send(new ListChannelsCommand({}))).ChannelSummaries, []);
  });

  it('tags channels through TagResource, ListTagsForResource and UntagResource', async () => {
    await createChannel(kinesis, channelRequest('tagged', 'source', 'tag-bucket', { Tags: { team: 'data' } }));
    const arn = channelArn('tagged');
    await kinesis.send(new TagResourceCommand({ ResourceARN: arn, Tags: { env: 'test', owner: 'ops' } }));
    let tags = await kinesis.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    assert.deepEqual(tags.Tags, [
      { Key: 'env', Value: 'test' },
      { Key: 'owner', Value: 'ops' },
      { Key: 'team', Value: 'data' },
    ]);
    await kinesis.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['owner', 'missing'] }));
    tags = await kinesis.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    assert.deepEqual(tags.Tags!.map((t) => t.Key), ['env', 'team']);
    const missing = await rejection(() => kinesis.send(new ListTagsForResourceCommand({ ResourceARN: channelArn('nope') })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    await kinesis.send(new DeleteChannelCommand({ ChannelARN: arn }));
    clock.advance(DELAY_MS);
  });

  it('keeps a resource policy on a channel through PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy', async () => {
    await createChannel(kinesis, channelRequest('guarded', 'source', 'policy-bucket', { Tags: { team: 'data' } }));
    const arn = channelArn('guarded');
    assert.equal((await kinesis.send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, '{}', 'no policy yet');
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'reader', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kinesis:DescribeChannel', Resource: arn }],
    });
    await kinesis.send(new PutResourcePolicyCommand({ ResourceARN: arn, Policy: policy }));
    assert.equal((await kinesis.send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, policy, 'stored verbatim');
    // The policy and the tags live side by side.
    const tags = await kinesis.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'data' }]);
    const bad = await rejection(() => kinesis.send(new PutResourcePolicyCommand({ ResourceARN: arn, Policy: '{"Statement": [' })));
    assert.equal(bad.name, 'InvalidArgumentException');
    assert.equal((await kinesis.send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, policy, 'a refused policy changes nothing');
    await kinesis.send(new DeleteResourcePolicyCommand({ ResourceARN: arn }));
    assert.equal((await kinesis.send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, '{}');
    const again = await rejection(() => kinesis.send(new DeleteResourcePolicyCommand({ ResourceARN: arn })));
    assert.equal(again.name, 'ResourceNotFoundException');
    assert.equal(again.message, `No resource policy found for resource ${arn}.`);
    const missing = await rejection(() => kinesis.send(new GetResourcePolicyCommand({ ResourceARN: channelArn('nope') })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    const missingPut = await rejection(() => kinesis.send(new PutResourcePolicyCommand({ ResourceARN: channelArn('nope'), Policy: policy })));
    assert.equal(missingPut.name, 'ResourceNotFoundException');
    await kinesis.send(new DeleteChannelCommand({ ChannelARN: arn }));
    clock.advance(DELAY_MS);
  });

  it('refuses invalid requests with AWS errors', async () => {
    const cases: { what: string; input: Parameters<typeof channelRequest>; name: string; message: RegExp }[] = [
      {
        what: 'a provisioned stream',
        input: ['c1', 'provisioned', 'bkt'],
        name: 'InvalidArgumentException',
        message: /^Channels can only be created for streams in ON_DEMAND capacity mode\. Stream provisioned under account 000000000000 is in PROVISIONED mode\.$/,
      },
      { what: 'an unknown stream', input: ['c2', 'missing', 'bkt'], name: 'ResourceNotFoundException', message: /^Stream missing under account 000000000000 not found\.$/ },
      {
        what: 'a bad channel name',
        input: ['bad name!', 'source', 'bkt'],
        name: 'ValidationException',
        message: /^1 validation error detected: Value 'bad name!' at 'channelName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+$/,
      },
      {
        what: 'an S3 Tables destination with ZSTD',
        input: [
          'c4',
          'source',
          'bkt',
          {
            S3DestinationConfiguration: undefined,
            S3TablesDestinationConfiguration: {
              DeadLetterQueueS3Configuration: { BucketARN: 'arn:aws:s3:::dlq', ExpectedBucketOwner: '000000000000' },
              S3TablesConfigurationList: [{ TableBucketARN: 'arn:aws:s3tables:us-east-1:000000000000:bucket/tables', Namespace: 'ns', TableName: 't', CompressionType: 'ZSTD' }],
            },
          },
        ],
        name: 'InvalidArgumentException',
        message: /^CompressionType ZSTD is not supported by this server for S3 Tables destinations \(its Parquet writer has no Zstandard codec\)\. Use NONE or SNAPPY\.$/,
      },
      {
        what: 'no destination',
        input: ['c5', 'source', 'bkt', { S3DestinationConfiguration: undefined }],
        name: 'InvalidArgumentException',
        message: /^Exactly one of S3DestinationConfiguration or S3TablesDestinationConfiguration must be specified\.$/,
      },
      {
        what: 'a freshness out of range',
        input: ['c6', 'source', 'bkt', { S3DestinationConfiguration: { DataFreshnessInSeconds: 60, StorageConfiguration: { BucketARN: 'arn:aws:s3:::bkt', ExpectedBucketOwner: '000000000000', CompressionType: 'NONE' } } }],
        name: 'InvalidArgumentException',
        message: /^DataFreshnessInSeconds must be between 300 and 900 seconds\. Specified value was 60\.$/,
      },
      {
        what: 'an unknown template variable',
        input: ['c7', 'source', 'bkt', { S3DestinationConfiguration: { StorageConfiguration: { BucketARN: 'arn:aws:s3:::bkt', ExpectedBucketOwner: '000000000000', CompressionType: 'NONE', OutputKeyTemplate: 'x/!{topic}/y' } } }],
        name: 'InvalidArgumentException',
        message: /^OutputKeyTemplate uses the unknown variable !\{topic\}/,
      },
      {
        what: 'GSR_JSON to S3',
        input: ['c8', 'source', 'bkt', { StreamConfigurationList: [{ StreamARN: streamArn('source'), RecordConfiguration: { RecordFormatType: 'GSR_JSON' } }] }],
        name: 'InvalidArgumentException',
        message: /^RecordFormatType GSR_JSON is supported only for S3 Tables destinations\.$/,
      },
    ];
    for (const c of cases) {
      const err = await rejection(() => createChannel(kinesis, channelRequest(...c.input)));
      assert.equal(err.name, c.name, c.what);
      assert.match(err.message, c.message, c.what);
      assert.equal(err.$metadata?.httpStatusCode, 400, c.what);
    }
    await createChannel(kinesis, channelRequest('twice', 'source', 'bkt'));
    const dup = await rejection(() => createChannel(kinesis, channelRequest('twice', 'source', 'bkt')));
    assert.equal(dup.name, 'ResourceInUseException');
    assert.equal(dup.message, 'Channel twice under account 000000000000 already exists.');
    const unknown = await rejection(() => kinesis.send(new DeleteChannelCommand({ ChannelARN: channelArn('ghost') })));
    assert.equal(unknown.name, 'ResourceNotFoundException');
    const badArn = await rejection(() => kinesis.send(new DescribeChannelCommand({ ChannelARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/source' })));
    assert.equal(badArn.name, 'ValidationException');
    const noUpdate = await rejection(() => kinesis.send(new UpdateChannelCommand({ ChannelARN: channelArn('twice') })));
    assert.equal(noUpdate.name, 'InvalidArgumentException');
  });
});

describe('channel control-plane rates', () => {
  let server: S3TestServer;
  let kinesis: KinesisClient;
  const clock = new ManualClock(Date.UTC(2026, 4, 2, 8, 0, 0));
  before(async () => {
    server = await startS3TestServer({ limits: 'on' }, { clock });
    kinesis = server.client();
  });
  after(() => server.destroy());

  it('allows 5 ListChannels calls per second per account, then answers LimitExceededException', async () => {
    for (let i = 0; i < 5; i++) await kinesis.send(new ListChannelsCommand({}));
    const throttled = await rejection(() => kinesis.send(new ListChannelsCommand({})));
    assert.equal(throttled.name, 'LimitExceededException');
    assert.equal(throttled.message, 'Rate exceeded for account 000000000000.');
    clock.advance(1000);
    await kinesis.send(new ListChannelsCommand({}));
  });
});
