import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeLimitsCommand,
  type DescribeLimitsCommandOutput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { expectError } from '../../helpers/kinesis.js';
import { SIGNED } from '../../helpers/raw.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

describe('DescribeLimits', () => {
  let server: TestServer;
  let client: KinesisClient;
  before(async () => {
    server = await startTestServer({ shardLimit: 7 });
    client = server.client();
  });
  after(() => server.destroy());

  const limits = async () => {
    const r: Partial<DescribeLimitsCommandOutput> = await client.send(new DescribeLimitsCommand({}));
    delete r.$metadata;
    return r;
  };

  it('reports the shard limit, open shards and on-demand streams as they change', async () => {
    assert.deepEqual(await limits(), { ShardLimit: 7, OpenShardCount: 0, OnDemandStreamCount: 0, OnDemandStreamCountLimit: 50, ChannelCount: 0, ChannelCountLimit: 50 });

    await client.send(new CreateStreamCommand({ StreamName: 'dl-a', ShardCount: 2 }));
    await client.send(new CreateStreamCommand({ StreamName: 'dl-b', ShardCount: 1 }));
    assert.deepEqual(await limits(), { ShardLimit: 7, OpenShardCount: 3, OnDemandStreamCount: 0, OnDemandStreamCountLimit: 50, ChannelCount: 0, ChannelCountLimit: 50 });

    await client.send(new CreateStreamCommand({ StreamName: 'dl-od', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    assert.deepEqual(await limits(), { ShardLimit: 7, OpenShardCount: 7, OnDemandStreamCount: 1, OnDemandStreamCountLimit: 50, ChannelCount: 0, ChannelCountLimit: 50 });

    await expectError(client.send(new CreateStreamCommand({ StreamName: 'dl-c', ShardCount: 1 })), 'LimitExceededException');
    assert.equal((await limits()).OpenShardCount, 7, 'a refused stream takes no shards');

    await client.send(new DeleteStreamCommand({ StreamName: 'dl-a' }));
    await client.send(new DeleteStreamCommand({ StreamName: 'dl-od' }));
    assert.deepEqual(await limits(), { ShardLimit: 7, OpenShardCount: 1, OnDemandStreamCount: 0, OnDemandStreamCountLimit: 50, ChannelCount: 0, ChannelCountLimit: 50 });
  });

  it('ignores members it does not know', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        server.endpoint,
        { method: 'POST', agent: false, headers: { ...SIGNED, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.DescribeLimits' } },
        (res) => {
          assert.equal(res.statusCode, 200);
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text)).on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ StreamName: 'dl-b', Limit: 'x' }));
    });
    assert.equal(JSON.parse(body).ShardLimit, 7);
  });
});
