/**
 * One delivery stream's delivery: records accepted into its log are read in order, processed,
 * sorted into partition buffers, and each buffer is handed to the destination when it reaches the
 * size hint or its oldest record the interval hint (measured on the injected clock, from the
 * records' arrival times, so that a restart keeps the same deadlines). A destination that fails is
 * retried with backoff, keeping the buffer; records it refuses for good go to the error output.
 *
 * Progress is the offset below which every record has been delivered: the lowest first offset of
 * the buffers still pending, or the read position when none is. It is saved after each delivery;
 * after a crash, reading starts again there, so delivery is at least once (a record of a partition
 * that was delivered while a lower one was pending is delivered again), never less.
 */
import type { Logger } from 'pino';
import type { ShardLog } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import type { DeliveryRecord, FailedRecord } from './records.js';

/** What a pipeline needs of its processors: records in, records (with partition keys) or failures out. */
export interface RecordProcessor {
  process(records: DeliveryRecord[]): Promise<{ ok: DeliveryRecord[]; failed: FailedRecord[] }>;
}

/** A buffer ready for its destination. */
export interface DeliveryBatch {
  records: DeliveryRecord[];
  /** Bytes of the records' data. */
  bytes: number;
  /** Arrival time of the oldest record (epoch ms): `!{timestamp:…}` in prefixes reads it. */
  oldestArrival: number;
  /** The partition key values shared by the batch's records (dynamic partitioning). */
  keysFromQuery?: Record<string, string>;
  keysFromLambda?: Record<string, string>;
}

export interface BatchDestination {
  /** Delivers a batch; rejects to be retried. Records it refuses for good come back as failures. */
  deliver(batch: DeliveryBatch, now: number): Promise<{ failed: FailedRecord[] }>;
  /** Writes failed records to the error output; rejects to be retried. */
  deliverFailures(failed: FailedRecord[], now: number): Promise<void>;
  /** How long (ms after the first failure) a batch is retried before it is given up. */
  readonly retryForMs: number;
  /**
   * The failures a batch given up after `error` (its last attempt's) becomes in the error output;
   * without it, every record of the batch as `delivery-failed`.
   */
  failuresAfterRetries?(batch: DeliveryBatch, error: unknown, attemptsMade: number): FailedRecord[];
}

export interface ProgressStore {
  load(): Promise<number>;
  save(deliveredOffset: number): Promise<void>;
}

export interface PipelineOptions {
  log: ShardLog;
  clock: Clock;
  logger: Logger;
  progress: ProgressStore;
  destination: BatchDestination;
  processor?: RecordProcessor;
  /** The record id Firehose gives the record at an offset. */
  recordId(offset: number): string;
  /** The buffering hints: flush when a buffer holds this many bytes, or its oldest record is this old. */
  sizeBytes: number;
  intervalMs: number;
  /** At most this many partitions are buffered at once; records of others fail with activePartitionExceeded. */
  maxPartitions?: number;
  /** Told of every delivered batch and failure, for metrics. */
  observe?: (event: DeliveryEvent) => void;
}

export type DeliveryEvent =
  | { kind: 'delivered'; records: number; bytes: number; oldestArrival: number; now: number }
  | { kind: 'failed'; records: number; now: number }
  | { kind: 'retry'; error: unknown; now: number };

interface PendingBuffer {
  key: string;
  records: DeliveryRecord[];
  /** Offsets of the records still pending in this buffer (the lowest bounds progress). */
  firstOffset: number;
  bytes: number;
  oldestArrival: number;
  keysFromQuery?: Record<string, string>;
  keysFromLambda?: Record<string, string>;
  /** When the destination first failed it (clock ms), and when to try again. */
  failingSince?: number;
  retryAt?: number;
  attempts: number;
}

/** Records read from the log per step. */
const READ_RECORDS = 10_000;
const READ_BYTES = 16 * 1024 * 1024;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 120_000;

export class DeliveryPipeline {
  private readOffset = 0;
  private delivered = 0;
  private readonly buffers = new Map<string, PendingBuffer>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private started: Promise<void> | undefined;

  constructor(private readonly o: PipelineOptions) {}

  /** The offset below which every record is delivered. */
  get deliveredOffset(): number {
    return this.delivered;
  }

  /** Reads, buffers and delivers what is due; a call while one runs makes it run once more. */
  step(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.runOnce();
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops after the step under way; pending buffers stay in the log for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => {});
  }

  private async runOnce(): Promise<void> {
    this.started ??= this.o.progress.load().then((offset) => {
      this.readOffset = offset;
      this.delivered = offset;
    });
    await this.started;
    // Read even when the log's nextOffset says there is nothing new: on a log that several nodes
    // append to, only a read learns of the others' appends.
    while (!this.closed) {
      const read = await this.o.log.read(this.readOffset, READ_RECORDS, READ_BYTES);
      if (read.records.length === 0) {
        this.readOffset = read.nextOffset;
        break;
      }
      const records: DeliveryRecord[] = read.records.map((r) => ({
        id: this.o.recordId(r.offset),
        offset: r.offset,
        data: r.data,
        arrival: r.timestamp,
        ...(r.partitionKey ? { kinesis: JSON.parse(r.partitionKey) } : {}),
      }));
      this.readOffset = read.nextOffset;
      await this.accept(records);
      await this.flushDue(false);
      // Saved as deliveries happen, so that a crash during a long backlog redelivers little.
      await this.commit();
    }
    await this.flushDue(true);
    await this.commit();
  }

  private async accept(records: DeliveryRecord[]): Promise<void> {
    const processed = this.o.processor ? await this.o.processor.process(records) : { ok: records, failed: [] };
    const failed = [...processed.failed];
    const max = this.o.maxPartitions ?? Infinity;
    for (const record of processed.ok) {
      const key = partitionKey(record);
      let buffer = this.buffers.get(key);
      if (buffer === undefined) {
        if (this.buffers.size >= max) {
          failed.push({ record, errorCode: 'DynamicPartitioning.ActivePartitionsLimitExceeded', errorMessage: 'The number of active partitions exceeded the limit.', errorOutputType: 'activePartitionExceeded', attemptsMade: 1 });
          continue;
        }
        buffer = { key, records: [], firstOffset: record.offset, bytes: 0, oldestArrival: record.arrival, attempts: 0 };
        if (record.keysFromQuery) buffer.keysFromQuery = record.keysFromQuery;
        if (record.keysFromLambda) buffer.keysFromLambda = record.keysFromLambda;
        this.buffers.set(key, buffer);
      } else if (buffer.bytes > 0 && buffer.bytes + record.data.length > this.o.sizeBytes) {
        // The record would take the buffer past the size hint: the buffer goes first.
        await this.flush(buffer);
        if (this.buffers.has(key)) {
          // The destination failed it: keep the record in the same (retrying) buffer.
          addTo(buffer, record);
          continue;
        }
        buffer = { key, records: [], firstOffset: record.offset, bytes: 0, oldestArrival: record.arrival, attempts: 0 };
        if (record.keysFromQuery) buffer.keysFromQuery = record.keysFromQuery;
        if (record.keysFromLambda) buffer.keysFromLambda = record.keysFromLambda;
        this.buffers.set(key, buffer);
      }
      addTo(buffer, record);
    }
    if (failed.length > 0) await this.writeFailures(failed);
  }

  /** Flushes the buffers that are full or old enough (with `all`, also those only due by time). */
  private async flushDue(timed: boolean): Promise<void> {
    const now = this.o.clock.now();
    for (const buffer of [...this.buffers.values()]) {
      if (buffer.retryAt !== undefined && now < buffer.retryAt) continue;
      const full = buffer.bytes >= this.o.sizeBytes;
      const old = timed && now - buffer.oldestArrival >= this.o.intervalMs;
      if (full || old || buffer.retryAt !== undefined) await this.flush(buffer);
    }
  }

  private async flush(buffer: PendingBuffer): Promise<void> {
    const now = this.o.clock.now();
    const batch: DeliveryBatch = { records: buffer.records, bytes: buffer.bytes, oldestArrival: buffer.oldestArrival };
    if (buffer.keysFromQuery) batch.keysFromQuery = buffer.keysFromQuery;
    if (buffer.keysFromLambda) batch.keysFromLambda = buffer.keysFromLambda;
    buffer.attempts++;
    try {
      const { failed } = await this.o.destination.deliver(batch, now);
      if (failed.length > 0) await this.writeFailures(failed);
      this.buffers.delete(buffer.key);
      this.o.observe?.({ kind: 'delivered', records: buffer.records.length - failed.length, bytes: buffer.bytes, oldestArrival: buffer.oldestArrival, now });
    } catch (err) {
      // An attempt cut short by close() is neither retried nor given up: the log keeps the batch.
      if (this.closed) return;
      buffer.failingSince ??= now;
      if (now - buffer.failingSince >= this.o.destination.retryForMs) {
        this.o.logger.error({ err, records: buffer.records.length, attempts: buffer.attempts }, 'delivery failed for the whole retry period; the batch goes to the error output');
        const failed =
          this.o.destination.failuresAfterRetries?.(batch, err, buffer.attempts) ??
          buffer.records.map((record) => ({ record, errorCode: 'DeliveryFailed', errorMessage: String((err as Error)?.message ?? err), errorOutputType: 'delivery-failed', attemptsMade: buffer.attempts }));
        if (failed.length > 0) await this.writeFailures(failed);
        this.buffers.delete(buffer.key);
        return;
      }
      const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(buffer.attempts - 1, 20));
      buffer.retryAt = now + wait;
      this.o.observe?.({ kind: 'retry', error: err, now });
      if (buffer.attempts === 1 || buffer.attempts % 10 === 0) this.o.logger.warn({ err, attempts: buffer.attempts }, 'delivery failed; retrying');
    }
  }

  private async writeFailures(failed: FailedRecord[]): Promise<void> {
    // The error output is retried until it succeeds: records are never dropped silently.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.destination.deliverFailures(failed, this.o.clock.now());
        this.o.observe?.({ kind: 'failed', records: failed.length, now: this.o.clock.now() });
        return;
      } catch (err) {
        if (this.closed) throw err;
        if (attempt === 1 || attempt % 10 === 0) this.o.logger.warn({ err, attempt }, 'writing failed records to the error output failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * attempt)));
      }
    }
  }

  private async commit(): Promise<void> {
    let low = this.readOffset;
    for (const buffer of this.buffers.values()) low = Math.min(low, buffer.firstOffset);
    if (low !== this.delivered) {
      await this.o.progress.save(low);
      this.delivered = low;
    }
  }
}

function addTo(buffer: PendingBuffer, record: DeliveryRecord): void {
  if (buffer.records.length === 0) {
    buffer.firstOffset = record.offset;
    buffer.oldestArrival = record.arrival;
  }
  buffer.records.push(record);
  buffer.bytes += record.data.length;
  buffer.oldestArrival = Math.min(buffer.oldestArrival, record.arrival);
}

/** The buffer a record belongs to: one per distinct set of partition key values. */
function partitionKey(record: DeliveryRecord): string {
  if (!record.keysFromQuery && !record.keysFromLambda) return '';
  return JSON.stringify([record.keysFromQuery ?? null, record.keysFromLambda ?? null]);
}
