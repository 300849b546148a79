import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeAccountSettingsCommand, UpdateAccountSettingsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DAY = 24 * 3_600_000;

describe('DescribeAccountSettings', () => {
  let server: TestServer;
  let client: KinesisClient;
  const start = wholeSecond();
  const clock = new ManualClock(start);
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const describeSettings = async () => (await client.send(new DescribeAccountSettingsCommand({}))).MinimumThroughputBillingCommitment;

  it('reports a DISABLED commitment for a new account', async () => {
    assert.deepEqual(await describeSettings(), { Status: 'DISABLED' });
  });

  it('reports an enabled commitment with its start and earliest allowed end', async () => {
    await client.send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: 'ENABLED' } }));
    clock.advance(60_000);
    assert.deepEqual(await describeSettings(), {
      Status: 'ENABLED',
      StartedAt: new Date(start),
      EarliestAllowedEndAt: new Date(start + DAY),
    });
  });

  it('turns a scheduled end into DISABLED once its time has come, and keeps it across a restart', async () => {
    await client.send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: 'DISABLED' } }));
    const scheduled = { Status: 'ENABLED_UNTIL_EARLIEST_ALLOWED_END', StartedAt: new Date(start), EndedAt: new Date(start + DAY), EarliestAllowedEndAt: new Date(start + DAY) };
    assert.deepEqual(await describeSettings(), scheduled);
    clock.set(start + DAY - 1);
    assert.equal((await describeSettings())!.Status, 'ENABLED_UNTIL_EARLIEST_ALLOWED_END');
    clock.set(start + DAY);
    assert.deepEqual(await describeSettings(), { ...scheduled, Status: 'DISABLED' });

    await server.close();
    const again = await startTestServer({}, { clock, dataDir: server.dataDir });
    try {
      const r = await again.client().send(new DescribeAccountSettingsCommand({}));
      assert.deepEqual(r.MinimumThroughputBillingCommitment, { ...scheduled, Status: 'DISABLED' });
    } finally {
      await again.close();
    }
  });
});
