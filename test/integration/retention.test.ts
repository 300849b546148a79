import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { OffsetClock } from '../../src/util/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const HOUR = 3_600_000;

describe('retention (injected clock)', () => {
  let server: TestServer;
  let client: KinesisClient;
  const clock = new OffsetClock();
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
    await client.send(new CreateStreamCommand({ StreamName: 'ret', ShardCount: 1 }));
  });
  after(() => server.destroy());

  async function read(type: 'TRIM_HORIZON' | 'AT_TIMESTAMP', timestamp?: Date) {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: 'ret', ShardId: 'shardId-000000000000', ShardIteratorType: type, Timestamp: timestamp }),
    );
    const r = await client.send(new GetRecordsCommand({ ShardIterator }));
    return (r.Records ?? []).map((x) => Buffer.from(x.Data!).toString());
  }

  it('stops serving records once they are older than the retention period', async () => {
    const put = (s: string) => client.send(new PutRecordCommand({ StreamName: 'ret', PartitionKey: 'k', Data: Buffer.from(s) }));
    const start = clock.now();
    await put('old-1');
    await put('old-2');
    clock.advance(23 * HOUR);
    await put('young');
    assert.deepEqual(await read('TRIM_HORIZON'), ['old-1', 'old-2', 'young']);
    clock.advance(2 * HOUR); // old records are now 25 h old, 'young' 2 h
    assert.deepEqual(await read('TRIM_HORIZON'), ['young']);
    assert.deepEqual(await read('AT_TIMESTAMP', new Date(start)), ['young']);
    clock.advance(23 * HOUR);
    assert.deepEqual(await read('TRIM_HORIZON'), []);
    await put('new');
    assert.deepEqual(await read('TRIM_HORIZON'), ['new']);
  });
});
