import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { isValidSequenceNumber, type ExtendedSequenceNumber } from './sequence.js';

/** One item of the lease table, in the KCL's schema (see the lease attribute list in DynamoDBLeaseSerializer). */
export interface Lease {
  leaseKey: string;
  leaseOwner?: string;
  leaseCounter: number;
  checkpoint: ExtendedSequenceNumber;
  ownerSwitchesSinceCheckpoint: number;
  parentShardIds: string[];
  childShardIds: string[];
  pendingCheckpoint?: ExtendedSequenceNumber;
  startingHashKey?: string;
  endingHashKey?: string;
}

export type Item = Record<string, AttributeValue>;

function num(n: number): AttributeValue {
  return { N: String(n) };
}

/** The full item for a new lease. String sets are left out when empty (DynamoDB has no empty sets). */
export function toItem(lease: Lease): Item {
  const item: Item = {
    leaseKey: { S: lease.leaseKey },
    leaseCounter: num(lease.leaseCounter),
    checkpoint: { S: lease.checkpoint.sequenceNumber },
    checkpointSubSequenceNumber: num(lease.checkpoint.subSequenceNumber),
    ownerSwitchesSinceCheckpoint: num(lease.ownerSwitchesSinceCheckpoint),
  };
  if (lease.leaseOwner !== undefined) item.leaseOwner = { S: lease.leaseOwner };
  if (lease.parentShardIds.length) item.parentShardId = { SS: [...lease.parentShardIds] };
  if (lease.childShardIds.length) item.childShardIds = { SS: [...lease.childShardIds] };
  if (lease.pendingCheckpoint) {
    item.pendingCheckpoint = { S: lease.pendingCheckpoint.sequenceNumber };
    item.pendingCheckpointSubSequenceNumber = num(lease.pendingCheckpoint.subSequenceNumber);
  }
  if (lease.startingHashKey !== undefined) item.startingHashKey = { S: lease.startingHashKey };
  if (lease.endingHashKey !== undefined) item.endingHashKey = { S: lease.endingHashKey };
  return item;
}

function str(v: AttributeValue | undefined): string | undefined {
  return v && 'S' in v && typeof v.S === 'string' ? v.S : undefined;
}

function int(v: AttributeValue | undefined, fallback: number): number {
  if (!v || !('N' in v) || typeof v.N !== 'string') return fallback;
  const n = Number(v.N);
  return Number.isFinite(n) ? n : fallback;
}

function set(v: AttributeValue | undefined): string[] {
  if (!v) return [];
  if ('SS' in v && Array.isArray(v.SS)) return [...v.SS].sort();
  // Some writers store a single parent as a plain string.
  if ('S' in v && typeof v.S === 'string') return [v.S];
  return [];
}

/** Reads a lease item; undefined for items that are not leases (KCL ≥ 3.5 stores other entities too). */
export function fromItem(item: Item): Lease | undefined {
  const leaseKey = str(item.leaseKey);
  if (leaseKey === undefined) return undefined;
  const entityType = str(item.entityType);
  if (entityType !== undefined && entityType !== 'LEASE') return undefined;
  const cp = str(item.checkpoint);
  const pending = str(item.pendingCheckpoint);
  const lease: Lease = {
    leaseKey,
    leaseCounter: int(item.leaseCounter, 0),
    checkpoint: {
      sequenceNumber: cp !== undefined && isValidSequenceNumber(cp) ? cp : 'TRIM_HORIZON',
      subSequenceNumber: int(item.checkpointSubSequenceNumber, 0),
    },
    ownerSwitchesSinceCheckpoint: int(item.ownerSwitchesSinceCheckpoint, 0),
    parentShardIds: set(item.parentShardId),
    childShardIds: set(item.childShardIds),
  };
  const owner = str(item.leaseOwner);
  if (owner !== undefined) lease.leaseOwner = owner;
  if (pending !== undefined && isValidSequenceNumber(pending)) {
    lease.pendingCheckpoint = { sequenceNumber: pending, subSequenceNumber: int(item.pendingCheckpointSubSequenceNumber, 0) };
  }
  const start = str(item.startingHashKey);
  const end = str(item.endingHashKey);
  if (start !== undefined) lease.startingHashKey = start;
  if (end !== undefined) lease.endingHashKey = end;
  return lease;
}
