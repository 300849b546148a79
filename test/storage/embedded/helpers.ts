/** Shared fixtures for the embedded engine's tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogOptions, RecordInput, ShardLog, StoredRecord } from '../../../src/storage/types.js';
import type { EmbeddedHooks, LogWarning } from '../../../src/storage/embedded/index.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../../../src/storage/embedded/format.js';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-log-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function logOptions(overrides: Partial<LogOptions> = {}): LogOptions {
  return { fsync: 'never', fsyncIntervalMs: 1000, segmentBytes: 1 << 20, segmentMaxAgeMs: 3_600_000, ...overrides };
}

export function rec(partitionKey: string, data: string | Buffer): RecordInput {
  return { partitionKey, data: typeof data === 'string' ? Buffer.from(data) : data };
}

/** Bytes one append of `records` takes on disk. */
export function batchSize(records: readonly RecordInput[]): number {
  let size = HEADER_SIZE;
  for (const r of records) size += RECORD_OVERHEAD + Buffer.byteLength(r.partitionKey) + r.data.length;
  return size;
}

export function recordingHooks(): { hooks: EmbeddedHooks; warnings: LogWarning[] } {
  const warnings: LogWarning[] = [];
  return { hooks: { onWarning: (w) => warnings.push(w) }, warnings };
}

/** Every readable record from `from` on, read in calls of `per` records. */
export async function readAll(log: ShardLog, from = 0, per = 1000): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (;;) {
    const r = await log.read(from, per, Number.MAX_SAFE_INTEGER);
    if (r.records.length === 0) return out;
    out.push(...r.records);
    from = r.nextOffset;
  }
}

/** Records as plain values, to compare with assert.deepEqual. */
export function plain(records: readonly StoredRecord[]): { offset: number; timestamp: number; partitionKey: string; data: string }[] {
  return records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, partitionKey: r.partitionKey, data: r.data.toString('hex') }));
}
