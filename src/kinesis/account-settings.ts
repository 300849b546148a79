import { updateSetting } from '../storage/catalog.js';
import type { KinesisContext } from './context.js';

export type CommitmentStatus = 'ENABLED' | 'DISABLED' | 'ENABLED_UNTIL_EARLIEST_ALLOWED_END';

/** The account's minimum throughput billing commitment, as the catalog keeps it (epoch ms). */
export interface Commitment {
  status: CommitmentStatus;
  startedAt?: number;
  endedAt?: number;
  earliestAllowedEndAt?: number;
}

const SETTING = 'minimum-throughput-billing-commitment';
/** A commitment lasts at least this long before it can end. */
export const MIN_COMMITMENT_MS = 24 * 3_600_000;

/**
 * The commitment as of now. One whose disabling was scheduled is DISABLED once its earliest
 * allowed end has passed.
 */
export async function currentCommitment(k: KinesisContext): Promise<Commitment> {
  return commitmentAt(await k.catalog.getSetting(SETTING), k.now);
}

function commitmentAt(text: string | undefined, now: number): Commitment {
  const c: Commitment = text ? JSON.parse(text) : { status: 'DISABLED' };
  if (c.status === 'ENABLED_UNTIL_EARLIEST_ALLOWED_END' && c.endedAt !== undefined && c.endedAt <= now) {
    return { ...c, status: 'DISABLED' };
  }
  return c;
}

/** True while the account's commitment is in force (also while its end is scheduled). */
export async function commitmentInForce(k: KinesisContext): Promise<boolean> {
  return (await currentCommitment(k)).status !== 'DISABLED';
}

/**
 * Asks for the commitment to be ENABLED or DISABLED:
 * - enabling starts a commitment (StartedAt now, EarliestAllowedEndAt 24 h later), or cancels a
 *   scheduled end of the current one, or changes nothing if it is in force;
 * - disabling ends the commitment now (EndedAt) once it has lasted 24 h; before that it schedules
 *   the end at EarliestAllowedEndAt (ENABLED_UNTIL_EARLIEST_ALLOWED_END); a disabled commitment
 *   stays as it is.
 * The setting is written with compare-and-set, so nodes sharing the catalog cannot undo each
 * other's change: the rule runs again on the newer value.
 */
export function updateCommitment(k: KinesisContext, desired: 'ENABLED' | 'DISABLED'): Promise<Commitment> {
  return k.serially('account-settings', async () => {
    const now = k.now;
    let result: Commitment = { status: 'DISABLED' };
    await updateSetting(k.catalog, SETTING, (text) => {
      const c = commitmentAt(text, now);
      const next = decideCommitment(c, desired, now);
      result = next;
      return next === c ? undefined : JSON.stringify(next);
    });
    return result;
  });
}

function decideCommitment(c: Commitment, desired: 'ENABLED' | 'DISABLED', now: number): Commitment {
  let next: Commitment = c;
  if (desired === 'ENABLED') {
    if (c.status === 'DISABLED') {
      next = { status: 'ENABLED', startedAt: now, earliestAllowedEndAt: now + MIN_COMMITMENT_MS };
    } else if (c.status === 'ENABLED_UNTIL_EARLIEST_ALLOWED_END') {
      next = { status: 'ENABLED', startedAt: c.startedAt, earliestAllowedEndAt: c.earliestAllowedEndAt };
    }
  } else if (c.status === 'ENABLED') {
    const earliest = c.earliestAllowedEndAt ?? now;
    next =
      earliest <= now
        ? { ...c, status: 'DISABLED', endedAt: now }
        : { ...c, status: 'ENABLED_UNTIL_EARLIEST_ALLOWED_END', endedAt: earliest };
  }
  return next;
}

/** The commitment as DescribeAccountSettings and UpdateAccountSettings return it. */
export function commitmentOutput(c: Commitment) {
  const at = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));
  return {
    MinimumThroughputBillingCommitment: {
      Status: c.status,
      StartedAt: at(c.startedAt),
      EndedAt: at(c.endedAt),
      EarliestAllowedEndAt: at(c.earliestAllowedEndAt),
    },
  };
}
