import {
  compareExtended,
  formatExtended,
  isValidSequenceNumber,
  SHARD_END,
  type ExtendedSequenceNumber,
} from './sequence.js';
import type { Checkpointer, UserRecord } from './types.js';

export type CheckpointWriter = (value: ExtendedSequenceNumber) => Promise<void>;

/**
 * A shard's checkpointer: accepts values between the last checkpoint and the largest extended
 * sequence number delivered so far (SHARD_END once the shard has ended).
 */
export class ShardCheckpointer implements Checkpointer {
  lastCheckpoint: ExtendedSequenceNumber;
  largestPermittedCheckpoint: ExtendedSequenceNumber;

  constructor(
    private readonly write: CheckpointWriter,
    initial: ExtendedSequenceNumber,
  ) {
    this.lastCheckpoint = initial;
    this.largestPermittedCheckpoint = initial;
  }

  /** Called as records are delivered, and with SHARD_END when the shard has ended. */
  advance(value: ExtendedSequenceNumber): void {
    if (compareExtended(value, this.largestPermittedCheckpoint) > 0) this.largestPermittedCheckpoint = value;
  }

  async checkpoint(sequenceNumber?: string, subSequenceNumber?: number): Promise<void> {
    let target: ExtendedSequenceNumber;
    if (sequenceNumber === undefined) target = this.largestPermittedCheckpoint;
    else {
      if (typeof sequenceNumber !== 'string' || !isValidSequenceNumber(sequenceNumber)) {
        throw new RangeError(`Could not checkpoint at invalid sequence number ${String(sequenceNumber)}`);
      }
      const sub = subSequenceNumber ?? 0;
      if (!Number.isInteger(sub) || sub < 0) throw new RangeError(`Could not checkpoint at invalid sub-sequence number ${sub}`);
      target = { sequenceNumber, subSequenceNumber: sub };
      if (sequenceNumber === SHARD_END.sequenceNumber && compareExtended(this.largestPermittedCheckpoint, SHARD_END) !== 0) {
        throw new RangeError('Could not checkpoint at SHARD_END: the shard has not ended');
      }
      if (compareExtended(target, this.lastCheckpoint) < 0 || compareExtended(target, this.largestPermittedCheckpoint) > 0) {
        throw new RangeError(
          `Could not checkpoint at extended sequence number ${formatExtended(target)} as it did not fall into acceptable range ` +
            `between the last checkpoint ${formatExtended(this.lastCheckpoint)} and the greatest extended sequence number passed ` +
            `to this record processor ${formatExtended(this.largestPermittedCheckpoint)}`,
        );
      }
    }
    await this.write(target);
    this.lastCheckpoint = target;
  }

  checkpointRecord(record: Pick<UserRecord, 'sequenceNumber' | 'subSequenceNumber'>): Promise<void> {
    return this.checkpoint(record.sequenceNumber, record.subSequenceNumber ?? 0);
  }
}
