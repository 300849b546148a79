import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpdateAccountSettingsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '../../../src/util/clock.js';
import { expectError, NOT_NULL, validationMessage, violation, wholeSecond } from '../../helpers/kinesis.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const DAY = 24 * 3_600_000;

describe('UpdateAccountSettings', () => {
  let server: TestServer;
  let client: KinesisClient;
  const t0 = wholeSecond();
  const clock = new ManualClock(t0);
  before(async () => {
    server = await startTestServer({}, { clock });
    client = server.client();
  });
  after(() => server.destroy());

  const update = async (Status: 'ENABLED' | 'DISABLED') =>
    (await client.send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status } }))).MinimumThroughputBillingCommitment;

  it('leaves a disabled commitment disabled', async () => {
    assert.deepEqual(await update('DISABLED'), { Status: 'DISABLED' });
  });

  it('starts a commitment of at least 24 hours; enabling again changes nothing', async () => {
    const enabled = { Status: 'ENABLED', StartedAt: new Date(t0), EarliestAllowedEndAt: new Date(t0 + DAY) };
    assert.deepEqual(await update('ENABLED'), enabled);
    clock.advance(3_600_000);
    assert.deepEqual(await update('ENABLED'), enabled);
  });

  it('schedules an early disable for the earliest allowed end, and enabling again cancels it', async () => {
    assert.deepEqual(await update('DISABLED'), {
      Status: 'ENABLED_UNTIL_EARLIEST_ALLOWED_END',
      StartedAt: new Date(t0),
      EndedAt: new Date(t0 + DAY),
      EarliestAllowedEndAt: new Date(t0 + DAY),
    });
    assert.equal((await update('DISABLED'))!.Status, 'ENABLED_UNTIL_EARLIEST_ALLOWED_END', 'asking again changes nothing');
    assert.deepEqual(await update('ENABLED'), { Status: 'ENABLED', StartedAt: new Date(t0), EarliestAllowedEndAt: new Date(t0 + DAY) });
  });

  it('ends a commitment at once after 24 hours, and a later enable starts a new one', async () => {
    clock.set(t0 + DAY + 5_000);
    assert.deepEqual(await update('DISABLED'), {
      Status: 'DISABLED',
      StartedAt: new Date(t0),
      EndedAt: new Date(t0 + DAY + 5_000),
      EarliestAllowedEndAt: new Date(t0 + DAY),
    });
    clock.advance(1_000);
    const now = t0 + DAY + 6_000;
    assert.deepEqual(await update('ENABLED'), { Status: 'ENABLED', StartedAt: new Date(now), EarliestAllowedEndAt: new Date(now + DAY) });
  });

  it('validates its input as the model says', async () => {
    await expectError(
      client.send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: undefined })),
      'ValidationException',
      validationMessage(violation(null, 'minimumThroughputBillingCommitment', NOT_NULL)),
    );
    await expectError(
      client.send(
        new UpdateAccountSettingsCommand({
          MinimumThroughputBillingCommitment: { Status: 'ENABLED_UNTIL_EARLIEST_ALLOWED_END' as 'ENABLED' },
        }),
      ),
      'ValidationException',
      validationMessage(
        violation(
          'ENABLED_UNTIL_EARLIEST_ALLOWED_END',
          'minimumThroughputBillingCommitment.status',
          'Member must satisfy enum value set: [ENABLED, DISABLED]',
        ),
      ),
    );
  });
});
