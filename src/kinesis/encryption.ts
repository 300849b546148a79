import { InvalidArgumentException, LimitExceededException } from '../protocol/errors.js';
import type { StreamMeta } from '../storage/catalog.js';
import type { KinesisContext } from './context.js';
import { changeStream, requireStatus } from './stream-state.js';
import type { Stream } from './stream.js';

/** How many times encryption may be started, and stopped, per stream in a rolling 24 hours. */
export const ENCRYPTION_CHANGES_PER_DAY = 25;
const DAY_MS = 24 * 3_600_000;
/** The most KMS period boundaries kept per stream (older ones are forgotten). */
const MAX_PERIOD_BOUNDS = 100;

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const KEY = `(?:${GUID}|mrk-[0-9a-fA-F]{32})`;
const ALIAS = 'alias/[a-zA-Z0-9/_-]+';
/** A key id, key ARN, alias name (including alias/aws/kinesis) or alias ARN. */
const KEY_ID = new RegExp(`^(?:${KEY}|${ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(?:key/${KEY}|${ALIAS}))$`);

function checkRequest(encryptionType: string, keyId: string): void {
  if (encryptionType !== 'KMS') {
    throw new InvalidArgumentException(`Invalid EncryptionType ${encryptionType}. The only valid EncryptionType is KMS.`);
  }
  if (!KEY_ID.test(keyId)) {
    throw new InvalidArgumentException(
      `Invalid KeyId ${keyId}. Specify a key id, a key ARN, an alias name (alias/...) or an alias ARN.`,
    );
  }
}

/** The calls in `times` that fall in the 24 hours before `now`. */
function lastDay(times: readonly number[] | undefined, now: number): number[] {
  return (times ?? []).filter((t) => t > now - DAY_MS);
}

function keepBounds(bounds: number[]): number[] {
  return bounds.length > MAX_PERIOD_BOUNDS ? bounds.slice(bounds.length - MAX_PERIOD_BOUNDS) : bounds;
}

/**
 * StartStreamEncryption: the stream turns UPDATING and records written once it is ACTIVE again
 * are encrypted with the key (which may replace an earlier key). The setting is recorded; the
 * records themselves are stored as before.
 */
export async function startEncryption(k: KinesisContext, stream: Stream, encryptionType: string, keyId: string): Promise<void> {
  checkRequest(encryptionType, keyId);
  requireStatus(k, stream);
  const now = k.now;
  const effective = now + k.settings.updateStreamDelayMs;
  await changeStream(k, stream, (meta) => {
    requireStatus(k, stream);
    const starts = lastDay(meta.encryptionStarts, now);
    if (starts.length >= ENCRYPTION_CHANGES_PER_DAY) {
      throw new LimitExceededException(
        `Exceeded the limit of ${ENCRYPTION_CHANGES_PER_DAY} StartStreamEncryption calls in a rolling 24-hour period ` +
          `for stream ${stream.name} under account ${k.settings.accountId}.`,
      );
    }
    const bounds = [...(meta.kmsPeriods ?? [])];
    if (bounds.length % 2 === 0) bounds.push(effective);
    return {
      ...meta,
      encryptionType: 'KMS',
      keyId,
      status: 'UPDATING',
      statusUntil: effective,
      encryptionStarts: [...starts, now],
      kmsPeriods: keepBounds(bounds),
    };
  });
}

/** StopStreamEncryption: records written once the stream is ACTIVE again are not encrypted. */
export async function stopEncryption(k: KinesisContext, stream: Stream, encryptionType: string, keyId: string): Promise<void> {
  checkRequest(encryptionType, keyId);
  requireStatus(k, stream);
  const now = k.now;
  const effective = now + k.settings.updateStreamDelayMs;
  await changeStream(k, stream, (meta) => {
    requireStatus(k, stream);
    if (meta.encryptionType !== 'KMS') return undefined;
    const stops = lastDay(meta.encryptionStops, now);
    if (stops.length >= ENCRYPTION_CHANGES_PER_DAY) {
      throw new LimitExceededException(
        `Exceeded the limit of ${ENCRYPTION_CHANGES_PER_DAY} StopStreamEncryption calls in a rolling 24-hour period ` +
          `for stream ${stream.name} under account ${k.settings.accountId}.`,
      );
    }
    const bounds = [...(meta.kmsPeriods ?? [])];
    if (bounds.length % 2 === 1) bounds.push(effective);
    const next: StreamMeta = {
      ...meta,
      encryptionType: 'NONE',
      status: 'UPDATING',
      statusUntil: effective,
      encryptionStops: [...stops, now],
      kmsPeriods: keepBounds(bounds),
    };
    delete next.keyId;
    return next;
  });
}

/** Whether a record written at `timestamp` was written encrypted. */
export function encryptedAt(meta: StreamMeta, timestamp: number): boolean {
  const bounds = meta.kmsPeriods;
  if (bounds === undefined) return false;
  for (let i = 0; i < bounds.length; i += 2) {
    if (timestamp >= bounds[i]! && (i + 1 >= bounds.length || timestamp < bounds[i + 1]!)) return true;
  }
  return false;
}

/** The EncryptionType PutRecord and PutRecords report for records written at `now`. */
export function writeEncryption(meta: StreamMeta, now: number): 'KMS' | undefined {
  return meta.kmsPeriods !== undefined && encryptedAt(meta, now) ? 'KMS' : undefined;
}

/** Marks the records of a GetRecords response that were written encrypted. */
export function markEncryptedRecords(
  meta: StreamMeta,
  records: { ApproximateArrivalTimestamp: Date; EncryptionType?: 'KMS' }[],
): void {
  if (meta.kmsPeriods === undefined || meta.kmsPeriods.length === 0) return;
  for (const r of records) {
    if (encryptedAt(meta, r.ApproximateArrivalTimestamp.getTime())) r.EncryptionType = 'KMS';
  }
}
