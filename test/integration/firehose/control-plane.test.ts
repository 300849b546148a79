/**
 * Firehose's control plane through @aws-sdk/client-firehose against a real server: create,
 * describe (with AWS's defaults), list (paging, type filter), update (version ids, merge),
 * tags, encryption, delete, and the errors AWS answers (spec: firehose.md §2, §12–§14).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  ListDeliveryStreamsCommand,
  ListTagsForDeliveryStreamCommand,
  PutRecordCommand,
  StartDeliveryStreamEncryptionCommand,
  StopDeliveryStreamEncryptionCommand,
  TagDeliveryStreamCommand,
  UntagDeliveryStreamCommand,
  UpdateDestinationCommand,
  type FirehoseClient,
} from '@aws-sdk/client-firehose';
import { ManualClock } from '../../../src/util/clock.js';
import { ROLE, rejection, startFirehoseServer, type FirehoseTestServer } from './helpers.js';

const s3Config = (bucket = 'control-bucket') => ({ RoleARN: ROLE, BucketARN: `arn:aws:s3:::${bucket}` });

describe('Firehose control plane', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  before(async () => {
    server = await startFirehoseServer();
    firehose = server.firehose();
  });
  after(() => server.destroy());

  it('creates a DirectPut stream and describes it with the defaults AWS fills in', async () => {
    const created = await firehose.send(
      new CreateDeliveryStreamCommand({ DeliveryStreamName: 'described', ExtendedS3DestinationConfiguration: s3Config() }),
    );
    assert.equal(created.DeliveryStreamARN, 'arn:aws:firehose:us-east-1:000000000000:deliverystream/described');
    const { DeliveryStreamDescription: d } = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'described' }));
    assert.ok(d);
    assert.equal(d.DeliveryStreamName, 'described');
    assert.equal(d.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(d.DeliveryStreamType, 'DirectPut');
    assert.equal(d.VersionId, '1');
    assert.equal(d.HasMoreDestinations, false);
    assert.ok(d.CreateTimestamp instanceof Date);
    assert.deepEqual(d.DeliveryStreamEncryptionConfiguration, { Status: 'DISABLED' });
    assert.equal(d.Destinations?.length, 1);
    const dest = d.Destinations![0]!;
    assert.equal(dest.DestinationId, 'destinationId-000000000001');
    const ext = dest.ExtendedS3DestinationDescription!;
    assert.equal(ext.BucketARN, 'arn:aws:s3:::control-bucket');
    assert.equal(ext.RoleARN, ROLE);
    assert.deepEqual(ext.BufferingHints, { SizeInMBs: 5, IntervalInSeconds: 300 });
    assert.equal(ext.CompressionFormat, 'UNCOMPRESSED');
    assert.deepEqual(ext.EncryptionConfiguration, { NoEncryptionConfig: 'NoEncryption' });
    assert.deepEqual(ext.CloudWatchLoggingOptions, { Enabled: false });
    assert.equal(ext.Prefix, '');
    assert.equal(ext.S3BackupMode, 'Disabled');
    // AWS lists the plain S3 view of the same destination beside the extended one.
    assert.equal(dest.S3DestinationDescription?.BucketARN, 'arn:aws:s3:::control-bucket');
  });

  it('refuses a second stream of the same name, and names it as AWS does', async () => {
    await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'twice', ExtendedS3DestinationConfiguration: s3Config() }));
    const err = await rejection(() =>
      firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'twice', ExtendedS3DestinationConfiguration: s3Config() })),
    );
    assert.equal(err.name, 'ResourceInUseException');
    assert.equal(err.message, 'Firehose twice under accountId 000000000000 already exists');
    assert.equal(err.$metadata?.httpStatusCode, 400);
  });

  it('refuses requests that name no destination or two', async () => {
    const none = await rejection(() => firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'nodest' })));
    assert.equal(none.name, 'InvalidArgumentException');
    const two = await rejection(() =>
      firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'twodest',
          ExtendedS3DestinationConfiguration: s3Config(),
          S3DestinationConfiguration: s3Config(),
        }),
      ),
    );
    assert.equal(two.name, 'InvalidArgumentException');
  });

  it('validates the input shape with AWS messages', async () => {
    const err = await rejection(() =>
      firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'bad name!',
          ExtendedS3DestinationConfiguration: { ...s3Config(), BufferingHints: { SizeInMBs: 129, IntervalInSeconds: 900 } },
        }),
      ),
    );
    assert.equal(err.name, 'ValidationException');
    assert.equal(
      err.message,
      "2 validation errors detected: Value 'bad name!' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128",
    );
  });

  it('wants both buffering hints or neither', async () => {
    const err = await rejection(() =>
      firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'onehint',
          ExtendedS3DestinationConfiguration: { ...s3Config(), BufferingHints: { SizeInMBs: 1 } },
        }),
      ),
    );
    assert.equal(err.name, 'InvalidArgumentException');
  });

  it('answers ResourceNotFoundException for an unknown stream', async () => {
    const err = await rejection(() => firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'nosuch' })));
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(err.message, 'Firehose nosuch under account 000000000000 not found.');
  });

  it('lists streams alphabetically, a page at a time, filtered by type', async () => {
    for (const name of ['list-c', 'list-a', 'list-b']) {
      await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, ExtendedS3DestinationConfiguration: s3Config() }));
    }
    const first = await firehose.send(new ListDeliveryStreamsCommand({ Limit: 2, ExclusiveStartDeliveryStreamName: 'list-' }));
    assert.deepEqual(first.DeliveryStreamNames, ['list-a', 'list-b']);
    assert.equal(first.HasMoreDeliveryStreams, true);
    const next = await firehose.send(new ListDeliveryStreamsCommand({ Limit: 2, ExclusiveStartDeliveryStreamName: 'list-b' }));
    assert.equal(next.DeliveryStreamNames?.[0], 'list-c');
    const kinesisOnly = await firehose.send(new ListDeliveryStreamsCommand({ DeliveryStreamType: 'KinesisStreamAsSource' }));
    assert.deepEqual(kinesisOnly.DeliveryStreamNames, []);
    assert.equal(kinesisOnly.HasMoreDeliveryStreams, false);
  });

  it('merges an update of the same destination type and raises the version id', async () => {
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'updated',
        ExtendedS3DestinationConfiguration: { ...s3Config(), Prefix: 'before/', CompressionFormat: 'GZIP' },
      }),
    );
    await firehose.send(
      new UpdateDestinationCommand({
        DeliveryStreamName: 'updated',
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: 'destinationId-000000000001',
        ExtendedS3DestinationUpdate: { Prefix: 'after/', BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 } },
      }),
    );
    const { DeliveryStreamDescription: d } = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'updated' }));
    assert.equal(d?.VersionId, '2');
    assert.ok(d?.LastUpdateTimestamp instanceof Date);
    const ext = d!.Destinations![0]!.ExtendedS3DestinationDescription!;
    assert.equal(ext.Prefix, 'after/');
    assert.equal(ext.CompressionFormat, 'GZIP', 'members the update leaves out keep their values');
    assert.deepEqual(ext.BufferingHints, { SizeInMBs: 1, IntervalInSeconds: 60 });

    const stale = await rejection(() =>
      firehose.send(
        new UpdateDestinationCommand({
          DeliveryStreamName: 'updated',
          CurrentDeliveryStreamVersionId: '1',
          DestinationId: 'destinationId-000000000001',
          ExtendedS3DestinationUpdate: { Prefix: 'again/' },
        }),
      ),
    );
    assert.equal(stale.name, 'ConcurrentModificationException');
    assert.equal(stale.message, 'Cannot update firehose: updated since the current version id: 2 and specified version id: 1 do not match');
  });

  it('tags, lists tags in key order with paging, and untags', async () => {
    await firehose.send(
      new CreateDeliveryStreamCommand({ DeliveryStreamName: 'tagged', ExtendedS3DestinationConfiguration: s3Config(), Tags: [{ Key: 'b', Value: '2' }] }),
    );
    await firehose.send(new TagDeliveryStreamCommand({ DeliveryStreamName: 'tagged', Tags: [{ Key: 'a', Value: '1' }, { Key: 'c' }] }));
    const page = await firehose.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'tagged', Limit: 2 }));
    assert.deepEqual(page.Tags, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
    assert.equal(page.HasMoreTags, true);
    await firehose.send(new UntagDeliveryStreamCommand({ DeliveryStreamName: 'tagged', TagKeys: ['a', 'b'] }));
    const rest = await firehose.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'tagged' }));
    assert.deepEqual(rest.Tags, [{ Key: 'c' }]);
    assert.equal(rest.HasMoreTags, false);
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const err = await rejection(() => firehose.send(new TagDeliveryStreamCommand({ DeliveryStreamName: 'tagged', Tags: many })));
    assert.equal(err.name, 'LimitExceededException');
  });

  it('deletes a stream; it is gone from describe and list', async () => {
    await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'deleted', ExtendedS3DestinationConfiguration: s3Config() }));
    await firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'deleted' }));
    const err = await rejection(() => firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'deleted' })));
    assert.equal(err.name, 'ResourceNotFoundException');
    const gone = await rejection(() => firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'deleted' })));
    assert.equal(gone.name, 'ResourceNotFoundException');
  });
});

describe('Firehose status changes on the injected clock', () => {
  let server: FirehoseTestServer;
  let firehose: FirehoseClient;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  before(async () => {
    server = await startFirehoseServer({ createDeliveryStreamDelayMs: 5_000 }, { clock });
    firehose = server.firehose();
  });
  after(() => server.destroy());

  it('stays CREATING until the delay has passed, refusing records and deletion meanwhile', async () => {
    await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'slow', ExtendedS3DestinationConfiguration: s3Config() }));
    const describe = async () => (await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'slow' }))).DeliveryStreamDescription!;
    assert.equal((await describe()).DeliveryStreamStatus, 'CREATING');
    const put = await rejection(() => firehose.send(new PutRecordCommand({ DeliveryStreamName: 'slow', Record: { Data: Buffer.from('x') } })));
    assert.equal(put.name, 'ResourceNotFoundException');
    const del = await rejection(() => firehose.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'slow' })));
    assert.equal(del.name, 'ResourceInUseException');
    clock.advance(5_000);
    assert.equal((await describe()).DeliveryStreamStatus, 'ACTIVE');
  });

  it('goes ENABLING → ENABLED and DISABLING → DISABLED for server-side encryption', async () => {
    await firehose.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'sse', ExtendedS3DestinationConfiguration: s3Config() }));
    clock.advance(5_000);
    const status = async () =>
      (await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'sse' }))).DeliveryStreamDescription!.DeliveryStreamEncryptionConfiguration;
    await firehose.send(new StartDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'sse', DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' } }));
    assert.deepEqual(await status(), { KeyType: 'AWS_OWNED_CMK', Status: 'ENABLING' });
    clock.advance(5_000);
    assert.deepEqual(await status(), { KeyType: 'AWS_OWNED_CMK', Status: 'ENABLED' });
    const put = await firehose.send(new PutRecordCommand({ DeliveryStreamName: 'sse', Record: { Data: Buffer.from('x') } }));
    assert.equal(put.Encrypted, true);
    await firehose.send(new StopDeliveryStreamEncryptionCommand({ DeliveryStreamName: 'sse' }));
    assert.equal((await status())?.Status, 'DISABLING');
    clock.advance(5_000);
    assert.deepEqual(await status(), { Status: 'DISABLED' });
  });
});
