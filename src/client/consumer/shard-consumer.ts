import { createHash } from 'node:crypto';
import type { ChildShard, _Record } from '@aws-sdk/client-kinesis';
import { deaggregate } from '../aggregation.js';
import { ShardCheckpointer } from './checkpointer.js';
import { ShutdownException } from './errors.js';
import type { HeldLease } from './held-lease.js';
import type { Lease } from './lease.js';
import type { LeaseTable } from './lease-table.js';
import type { ShardReader, StartPosition } from './retrieval/types.js';
import { childLeases } from './shard-sync.js';
import { compareExtended, isShardEnd, SHARD_END, type ExtendedSequenceNumber } from './sequence.js';
import type { ConsumerLogger, InitialPosition, RecordProcessor, RecordProcessorFactory, UserRecord } from './types.js';
import { errorMessage, sleep } from './util.js';

export type ShutdownReason = 'LEASE_LOST' | 'REQUESTED';

export type ShardConsumerState = 'BLOCKED_ON_PARENTS' | 'INITIALIZING' | 'PROCESSING' | 'SHUTTING_DOWN' | 'SHUTDOWN_COMPLETE';

export interface ShardConsumerDeps {
  held: HeldLease;
  table: LeaseTable;
  workerId: string;
  read: ShardReader;
  recordProcessorFactory: RecordProcessorFactory;
  initialPosition: InitialPosition;
  parentShardPollIntervalMs: number;
  callProcessRecordsEvenForEmptyRecordList: boolean;
  logger: ConsumerLogger;
  now: () => number;
  /** Reports that a checkpoint failed because the lease is gone. */
  onLeaseLost: (held: HeldLease) => void;
}

/** Where a reader starts for a checkpoint: AT_SEQUENCE_NUMBER of a real one (records up to it are dropped), else the sentinel. */
export function startPositionFor(checkpoint: ExtendedSequenceNumber, initial: InitialPosition): StartPosition {
  switch (checkpoint.sequenceNumber) {
    case 'TRIM_HORIZON':
      return { type: 'TRIM_HORIZON' };
    case 'LATEST':
      return { type: 'LATEST' };
    case 'AT_TIMESTAMP':
      return initial.type === 'AT_TIMESTAMP' ? { type: 'AT_TIMESTAMP', timestamp: initial.timestamp } : { type: 'TRIM_HORIZON' };
    default:
      return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: checkpoint.sequenceNumber };
  }
}

/** The hash key a user record maps to: its explicit hash key, else MD5 of its partition key. */
export function effectiveHashKey(record: Pick<UserRecord, 'partitionKey' | 'explicitHashKey'>): bigint {
  if (record.explicitHashKey !== undefined) {
    try {
      return BigInt(record.explicitHashKey);
    } catch {
      return -1n;
    }
  }
  return BigInt('0x' + createHash('md5').update(record.partitionKey, 'utf8').digest('hex'));
}

/**
 * De-aggregates fetched records and keeps the user records after `after` (so a restart from a
 * checkpoint inside an aggregate skips what was checkpointed); aggregated user records whose hash
 * key lies outside the lease's range are dropped (they were written before a reshard moved their
 * key elsewhere, and are delivered by the shard that owns the key).
 */
export function userRecordsAfter(records: _Record[], after: ExtendedSequenceNumber, lease: Pick<Lease, 'startingHashKey' | 'endingHashKey'>): UserRecord[] {
  const start = lease.startingHashKey !== undefined ? BigInt(lease.startingHashKey) : undefined;
  const end = lease.endingHashKey !== undefined ? BigInt(lease.endingHashKey) : undefined;
  const out: UserRecord[] = [];
  for (const record of records) {
    for (const user of deaggregate(record)) {
      if (compareExtended(user, after) <= 0) continue;
      if (user.aggregated && start !== undefined && end !== undefined) {
        const h = effectiveHashKey(user);
        if (h < start || h > end) continue;
      }
      out.push(user);
    }
  }
  return out;
}

/**
 * Drives one leased shard (the KCL's ShardConsumer): BlockOnParent → Initialize → Process until
 * the shard ends or the consumer is stopped → shardEnded / leaseLost / shutdownRequested.
 */
export class ShardConsumer {
  state: ShardConsumerState = 'BLOCKED_ON_PARENTS';
  readonly shardId: string;
  private stopReason: ShutdownReason | undefined;
  private readonly abort = new AbortController();
  /** Settles when the consumer has finished, whatever the reason. */
  readonly done: Promise<void>;
  /** True when the shard was completed (SHARD_END checkpointed). */
  completed = false;

  constructor(private readonly deps: ShardConsumerDeps) {
    this.shardId = deps.held.leaseKey;
    this.done = this.run().catch((err: unknown) => {
      deps.logger.error({ shardId: this.shardId, err: errorMessage(err) }, 'shard consumer failed');
    });
  }

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /** Stops processing: after the current processRecords call, the processor hears why. */
  stop(reason: ShutdownReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abort.abort();
  }

  private log(): ConsumerLogger {
    return this.deps.logger;
  }

  private async blockingParents(): Promise<string[]> {
    const blocking: string[] = [];
    for (const parent of this.deps.held.lease.parentShardIds) {
      const lease = await this.deps.table.getLease(parent);
      if (lease && !isShardEnd(lease.checkpoint)) blocking.push(parent);
    }
    return blocking;
  }

  private async writeCheckpoint(value: ExtendedSequenceNumber): Promise<void> {
    const held = this.deps.held;
    await held.exclusive(async () => {
      if (held.lost) throw new ShutdownException(`Can't update checkpoint - instance doesn't hold the lease for this shard (${this.shardId})`);
      const next = await this.deps.table.checkpoint(held.lease, value);
      if (!next) {
        this.deps.onLeaseLost(held);
        throw new ShutdownException(`Can't update checkpoint - instance doesn't hold the lease for this shard (${this.shardId})`);
      }
      held.lease = next;
      held.lastRenewedAt = this.deps.now();
    });
  }

  private async run(): Promise<void> {
    const { held, logger } = this.deps;
    // BlockOnParent
    while (!this.stopped) {
      let blocking: string[];
      try {
        blocking = await this.blockingParents();
      } catch (err) {
        logger.warn({ shardId: this.shardId, err: errorMessage(err) }, 'reading parent leases failed');
        blocking = ['?'];
      }
      if (!blocking.length) break;
      logger.debug({ shardId: this.shardId, blocking }, 'blocked on parent shards');
      await sleep(this.deps.parentShardPollIntervalMs, this.abort.signal);
    }
    if (this.stopped) {
      this.state = 'SHUTDOWN_COMPLETE';
      return;
    }

    // Initialize
    this.state = 'INITIALIZING';
    const lease = held.lease;
    const processor = this.deps.recordProcessorFactory(this.shardId);
    const checkpointer = new ShardCheckpointer((v) => this.writeCheckpoint(v), lease.checkpoint);
    await processor.initialize({
      shardId: this.shardId,
      extendedSequenceNumber: lease.checkpoint,
      sequenceNumber: lease.checkpoint.sequenceNumber,
      subSequenceNumber: lease.checkpoint.subSequenceNumber,
      ...(lease.pendingCheckpoint ? { pendingCheckpointSequenceNumber: lease.pendingCheckpoint } : {}),
    });

    // Process
    this.state = 'PROCESSING';
    let children: ChildShard[] | undefined = isShardEnd(lease.checkpoint) ? [] : undefined;
    let delivered: ExtendedSequenceNumber = lease.checkpoint;
    if (!children) {
      const reader = this.deps.read(this.shardId, startPositionFor(lease.checkpoint, this.deps.initialPosition), this.abort.signal);
      for await (const batch of reader) {
        if (this.stopped) break;
        const records = userRecordsAfter(batch.records, delivered, held.lease);
        if (records.length || this.deps.callProcessRecordsEvenForEmptyRecordList) {
          if (records.length) {
            const last = records[records.length - 1];
            delivered = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber };
            checkpointer.advance(delivered);
          }
          try {
            await processor.processRecords({
              records,
              checkpointer,
              cacheEntryTime: new Date(this.deps.now()),
              ...(batch.millisBehindLatest !== undefined ? { millisBehindLatest: batch.millisBehindLatest } : {}),
            });
          } catch (err) {
            logger.error({ shardId: this.shardId, err: errorMessage(err) }, 'processRecords threw; continuing with the next batch');
          }
        }
        if (batch.childShards) {
          children = batch.childShards;
          break;
        }
        if (this.stopped) break;
      }
    }

    this.state = 'SHUTTING_DOWN';
    if (children && !this.stopped) await this.shardEnd(processor, checkpointer, children);
    if (this.stopReason === 'LEASE_LOST') await this.call('leaseLost', () => processor.leaseLost({}));
    else if (this.stopReason === 'REQUESTED' && !this.completed) {
      await this.call('shutdownRequested', () => processor.shutdownRequested({ checkpointer }));
    }
    this.state = 'SHUTDOWN_COMPLETE';
  }

  private async call(what: string, fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log().error({ shardId: this.shardId, err: errorMessage(err) }, `${what} threw`);
    }
  }

  /**
   * The end of the shard: leases for its children, childShardIds on its own lease, then
   * shardEnded(), which must checkpoint SHARD_END; retried until it does (or the lease is lost).
   */
  private async shardEnd(processor: RecordProcessor, checkpointer: ShardCheckpointer, children: ChildShard[]): Promise<void> {
    const { table, held, logger } = this.deps;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        for (const child of childLeases(children)) await table.createLeaseIfNotExists(child);
        await table.updateChildShards(this.shardId, children.map((c) => c.ShardId!).filter(Boolean));
        break;
      } catch (err) {
        logger.warn({ shardId: this.shardId, err: errorMessage(err) }, 'creating child leases failed; retrying');
        await sleep(Math.min(100 * 2 ** attempt, 5_000), this.abort.signal);
      }
    }
    checkpointer.advance(SHARD_END);
    while (!this.stopped) {
      if (!isShardEnd(held.lease.checkpoint)) await this.call('shardEnded', () => processor.shardEnded({ checkpointer }));
      if (isShardEnd(held.lease.checkpoint)) {
        this.completed = true;
        logger.info({ shardId: this.shardId }, 'shard completed');
        return;
      }
      if (this.stopped) return;
      logger.error({ shardId: this.shardId }, 'shardEnded did not checkpoint at SHARD_END; calling it again');
      await sleep(this.deps.parentShardPollIntervalMs, this.abort.signal);
    }
  }
}
