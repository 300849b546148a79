/**
 * A producer in the model of the Kinesis Producer Library: put() user records one by one; the
 * producer buffers them per shard, aggregates them (KPL aggregation format), sends PutRecords
 * calls, retries what fails until each record's time to live runs out, and keeps every shard
 * under its write limits.
 *
 * Shard prediction. The producer lists the stream's open shards (ListShards) and routes each
 * record by the MD5 of its partition key (or its explicit hash key) to the shard whose hash range
 * holds it. It lists them again when a record lands in another shard than predicted, or when a
 * call fails with ResourceNotFoundException or InvalidArgumentException (resharding).
 *
 * Order per partition key holds by construction:
 *  1. Every record of a key goes to one shard queue, kept in arrival order.
 *  2. A shard has at most one PutRecords call in flight.
 *  3. A key has at most one entry in a call (several of its records may share one aggregated
 *     record, which Kinesis stores or refuses as a whole), and once a key cannot join the call
 *     its later records wait too (see batch.ts). So within a call, for each key, either its one
 *     entry is stored or nothing of the key is.
 *  4. Records that fail go back to the front of their queue in arrival order, ahead of every
 *     later record of their key, and only those are sent again: an acknowledged record is never
 *     sent twice. (A call that fails as a whole, e.g. on a network error, is retried whole; if
 *     Kinesis had stored it nonetheless, that retry duplicates it, as with any Kinesis client.)
 *  5. To change the shard map the producer stops sending, waits until no call is in flight,
 *     lists the shards, and redistributes every queued record in arrival order.
 *  6. An aggregated record is routed by its first user record's hash key. If it lands in another
 *     shard than predicted (the shard was split meanwhile), its user records are settled once the
 *     new map is known: those the landing shard covers are done; the others are in the wrong
 *     shard, where a consumer that keeps only its shard's hash range (as the KCL does) skips them,
 *     so they are sent again to their own shard, ahead of the later records of their keys. A
 *     consumer that does not filter so sees them twice.
 * A record that expires (time to live) is dropped; the records of its key that follow it still go.
 * The price of rule 3: without aggregation one key gets one record per round trip per shard.
 *
 * Rate limiting. Each shard has two token buckets, of 1 MiB/s and 1,000 records/s scaled by
 * rateLimitPercent (an aggregated record counts as one record); a call takes only what the
 * buckets hold, so against a service that enforces the limits throttling stays rare.
 *
 * Retries use exponential backoff with full jitter per shard: after a call with failures the shard
 * waits random(0, min(retryMaxMs, retryBaseMs * 2^(n-1))) ms, n counting consecutive such calls.
 */
import {
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { DEFAULT_AGGREGATION_MAX_BYTES, DEFAULT_AGGREGATION_MAX_COUNT, MAX_KINESIS_RECORD_BYTES } from '../aggregation.js';
import { type Batch, buildBatch } from './batch.js';
import { LatencyHistogram } from './histogram.js';
import { HASH_KEY_MAX, recordHashKey, ShardMap } from './shard-map.js';
import { TokenBucket } from '../../util/token-bucket.js';
import {
  type Attempt,
  InvalidUserRecordError,
  type PendingRecord,
  type PutResult,
  UserRecordFailedError,
} from './types.js';

export interface ProducerClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface ProducerOptions {
  streamName?: string;
  streamARN?: string;
  /** A client to use (the producer leaves it open); otherwise one is made from clientConfig. */
  kinesisClient?: KinesisClient;
  /** Settings for the client the producer makes (its SDK retries are turned off: the producer retries). */
  clientConfig?: KinesisClientConfig;
  /** Pack user records into KPL aggregated records. Default true. */
  aggregation?: boolean;
  /** Largest aggregated record (bytes of data). Default 51,200, as the KPL. */
  aggregationMaxBytes?: number;
  /** Most user records in one aggregated record. Default 4,294,967,295, as the KPL. */
  aggregationMaxCount?: number;
  /** How long a record may wait for others to fill a call. Default 100 ms. */
  maxBufferedTimeMs?: number;
  /** Entries in one PutRecords call. Default 500 (the Kinesis limit). */
  maxRecordsPerRequest?: number;
  /** Bytes (data + partition keys) in one PutRecords call. Default 5 MiB. */
  maxBytesPerRequest?: number;
  /** Largest user record (data + partition key). Default 1 MiB. */
  maxRecordBytes?: number;
  /** How long put() keeps trying before it rejects. Default 30,000 ms. */
  recordTtlMs?: number;
  /** Percentage of the shard write limits to send at. Default 100. */
  rateLimitPercent?: number;
  /** The shard write limits the rate limiter is scaled from. Defaults 1 MiB/s and 1,000 records/s. */
  shardWriteBytesPerSecond?: number;
  shardWriteRecordsPerSecond?: number;
  /** PutRecords calls in flight at once, across shards. Default 24, as the KPL. */
  maxConnections?: number;
  /** A PutRecords or ListShards call taking longer is aborted and retried. Default 6,000 ms, as the KPL. */
  requestTimeoutMs?: number;
  /** Backoff after failures: full jitter on base * 2^(n-1), capped. Defaults 100 ms and 5,000 ms. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Clock for buffering, time to live and rate limiting (timers still run in real time). */
  clock?: ProducerClock;
  /** Source of randomness for the jitter; default Math.random. */
  random?: () => number;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
}

export interface ProducerMetrics {
  /** User records acknowledged by Kinesis. */
  userRecordsPut: number;
  /** User records put() rejected (expired, or refused for good). */
  userRecordsFailed: number;
  /** Kinesis records acknowledged (an aggregated record counts once). */
  recordsPut: number;
  /** Of recordsPut, those that were aggregated records. */
  aggregatedRecordsPut: number;
  /** PutRecords calls made. */
  requests: number;
  /** User records sent again after a failed attempt. */
  retries: number;
  /** Entries or calls refused for throughput (ProvisionedThroughputExceededException, throttled calls). */
  throttles: number;
  /** Failed entries and calls by error code. */
  errorsByCode: Record<string, number>;
  /** ListShards refreshes of the shard map that succeeded. */
  shardMapRefreshes: number;
  /** User records not yet settled. */
  outstanding: number;
  /** From put() to acknowledgement, in milliseconds. */
  putLatencyMs: LatencySummary;
}

interface ShardState {
  id: string;
  queue: PendingRecord[];
  queuedBytes: number;
  inFlight: boolean;
  backoffUntil: number;
  failures: number;
  bytes: TokenBucket;
  records: TokenBucket;
}

/** An aggregated record stored in another shard than predicted: its user records wait for the new map. */
interface Misrouted {
  records: PendingRecord[];
  shardId: string;
  sequenceNumber: string;
  started: number;
  ended: number;
}

interface FlushWaiter {
  maxId: number;
  remaining: number;
  resolve: () => void;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const MiB = 1024 * 1024;
const THROTTLE_CODES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'TooManyRequestsException',
]);
const EHK_PATTERN = /^(0|[1-9][0-9]{0,38})$/;
const MAX_PARTITION_KEY_LENGTH = 256;
/** How far into a shard queue one call looks for records of keys not yet in it (aggregated: to fill its entries). */
const SCAN_LIMIT = 4096;
const SCAN_LIMIT_AGGREGATED = 65_536;
/** A shard waits for this share of its buckets (or all it has queued) before sending a call. */
const SEND_QUANTUM = 0.1;
const MIN_REFRESH_INTERVAL_MS = 100;

export class Producer {
  private readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private readonly streamRef: { StreamName?: string; StreamARN?: string };
  private readonly clock: ProducerClock;
  private readonly random: () => number;
  private readonly o: {
    aggregation: boolean;
    aggregationMaxBytes: number;
    aggregationMaxCount: number;
    maxBufferedTimeMs: number;
    maxRecordsPerRequest: number;
    maxBytesPerRequest: number;
    maxRecordBytes: number;
    recordTtlMs: number;
    bytesPerSecond: number;
    recordsPerSecond: number;
    maxConnections: number;
    requestTimeoutMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
  };

  private map: ShardMap | undefined;
  private readonly shards = new Map<string, ShardState>();
  /** Records put before the first shard map arrived. */
  private unassigned: PendingRecord[] = [];
  private nextId = 0;
  private outstanding = 0;
  private inFlightCalls = 0;
  private refreshWanted = true;
  private listing = false;
  private refreshFailures = 0;
  private nextRefreshAt = 0;
  private flushWaiters: FlushWaiter[] = [];
  private misrouted: Misrouted[] = [];
  private pumpQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  private readonly latency = new LatencyHistogram();
  private readonly counters = {
    userRecordsPut: 0,
    userRecordsFailed: 0,
    recordsPut: 0,
    aggregatedRecordsPut: 0,
    requests: 0,
    retries: 0,
    throttles: 0,
    shardMapRefreshes: 0,
  };
  private readonly errorsByCode: Record<string, number> = {};

  constructor(options: ProducerOptions) {
    if ((options.streamName === undefined) === (options.streamARN === undefined)) {
      throw new TypeError('Producer: give exactly one of streamName and streamARN');
    }
    this.streamRef = options.streamARN !== undefined ? { StreamARN: options.streamARN } : { StreamName: options.streamName! };
    if (options.kinesisClient) {
      this.client = options.kinesisClient;
      this.ownsClient = false;
    } else {
      this.client = new KinesisClient({ maxAttempts: 1, ...options.clientConfig });
      this.ownsClient = true;
    }
    this.clock = options.clock ?? { now: () => Date.now() };
    this.random = options.random ?? Math.random;
    const pct = options.rateLimitPercent ?? 100;
    if (!(pct > 0)) throw new RangeError('Producer: rateLimitPercent must be above 0');
    this.o = {
      aggregation: options.aggregation ?? true,
      aggregationMaxBytes: options.aggregationMaxBytes ?? DEFAULT_AGGREGATION_MAX_BYTES,
      aggregationMaxCount: options.aggregationMaxCount ?? DEFAULT_AGGREGATION_MAX_COUNT,
      maxBufferedTimeMs: options.maxBufferedTimeMs ?? 100,
      maxRecordsPerRequest: Math.min(options.maxRecordsPerRequest ?? 500, 500),
      maxBytesPerRequest: options.maxBytesPerRequest ?? 5 * MiB,
      maxRecordBytes: options.maxRecordBytes ?? MAX_KINESIS_RECORD_BYTES,
      recordTtlMs: options.recordTtlMs ?? 30_000,
      bytesPerSecond: ((options.shardWriteBytesPerSecond ?? MiB) * pct) / 100,
      recordsPerSecond: ((options.shardWriteRecordsPerSecond ?? 1000) * pct) / 100,
      maxConnections: options.maxConnections ?? 24,
      requestTimeoutMs: options.requestTimeoutMs ?? 6000,
      retryBaseMs: options.retryBaseMs ?? 100,
      retryMaxMs: options.retryMaxMs ?? 5000,
    };
  }

  /** Queues a user record; resolves once Kinesis holds it, rejects when its time to live runs out. */
  put(partitionKey: string, data: Uint8Array | string, explicitHashKey?: string): Promise<PutResult> {
    if (this.closed) return Promise.reject(new Error('Producer is closed'));
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const invalid = this.validate(partitionKey, bytes, explicitHashKey);
    if (invalid) return Promise.reject(new InvalidUserRecordError(invalid));
    const now = this.clock.now();
    const pkBytes = Buffer.byteLength(partitionKey, 'utf8');
    return new Promise<PutResult>((resolve, reject) => {
      const record: PendingRecord = {
        id: this.nextId++,
        partitionKey,
        explicitHashKey,
        hashKey: recordHashKey(partitionKey, explicitHashKey),
        data: bytes,
        bytes: bytes.length + pkBytes,
        pkBytes,
        putAt: now,
        deadline: now + this.o.recordTtlMs,
        lastActivity: now,
        settled: false,
        attempts: [],
        resolve,
        reject,
      };
      this.outstanding++;
      this.assign(record);
      this.schedulePump();
    });
  }

  /** Sends everything buffered now; resolves once every record put before the call is settled. */
  flush(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.flushWaiters.push({ maxId: this.nextId - 1, remaining: this.outstanding, resolve });
      this.schedulePump();
    });
  }

  /** Flushes, then stops: later put() calls reject, timers stop, and a client the producer made is closed. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.ownsClient) this.client.destroy();
  }

  metrics(): ProducerMetrics {
    return {
      ...this.counters,
      errorsByCode: { ...this.errorsByCode },
      outstanding: this.outstanding,
      putLatencyMs: {
        count: this.latency.count,
        mean: this.latency.mean,
        p50: this.latency.quantile(0.5),
        p99: this.latency.quantile(0.99),
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Records

  private validate(partitionKey: string, data: Uint8Array, explicitHashKey: string | undefined): string | undefined {
    if (typeof partitionKey !== 'string' || partitionKey.length < 1 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
      return `Partition key must be 1 to ${MAX_PARTITION_KEY_LENGTH} characters long`;
    }
    if (!(data instanceof Uint8Array)) return 'Data must be a Uint8Array or a string';
    const size = data.length + Buffer.byteLength(partitionKey, 'utf8');
    if (size > this.o.maxRecordBytes) {
      return `Record size ${size} (data and partition key) exceeds the limit of ${this.o.maxRecordBytes} bytes`;
    }
    if (explicitHashKey !== undefined && (!EHK_PATTERN.test(explicitHashKey) || BigInt(explicitHashKey) > HASH_KEY_MAX)) {
      return `Explicit hash key must be a decimal integer from 0 to ${HASH_KEY_MAX}`;
    }
    return undefined;
  }

  /** Puts a record in the queue of its predicted shard (queues stay sorted by arrival). */
  private assign(record: PendingRecord): void {
    const range = this.map?.shardFor(record.hashKey);
    if (range === undefined) {
      this.unassigned.push(record);
      return;
    }
    const shard = this.shardState(range.shardId);
    shard.queue.push(record);
    shard.queuedBytes += record.bytes;
  }

  private shardState(id: string): ShardState {
    let s = this.shards.get(id);
    if (s === undefined) {
      const now = this.clock.now();
      s = {
        id,
        queue: [],
        queuedBytes: 0,
        inFlight: false,
        backoffUntil: 0,
        failures: 0,
        bytes: new TokenBucket(this.o.bytesPerSecond, this.o.bytesPerSecond, now),
        records: new TokenBucket(this.o.recordsPerSecond, Math.max(1, this.o.recordsPerSecond), now),
      };
      this.shards.set(id, s);
    }
    return s;
  }

  private settle(record: PendingRecord): void {
    record.settled = true;
    this.outstanding--;
    if (this.flushWaiters.length === 0) return;
    for (const w of this.flushWaiters) if (record.id <= w.maxId) w.remaining--;
    const done = this.flushWaiters.filter((w) => w.remaining <= 0);
    if (done.length > 0) {
      this.flushWaiters = this.flushWaiters.filter((w) => w.remaining > 0);
      for (const w of done) w.resolve();
    }
  }

  private succeed(record: PendingRecord, result: PutResult, now: number): void {
    this.counters.userRecordsPut++;
    this.latency.record(now - record.putAt);
    this.settle(record);
    record.resolve(result);
  }

  private fail(record: PendingRecord, message: string): void {
    this.counters.userRecordsFailed++;
    this.settle(record);
    record.reject(new UserRecordFailedError(message, record.partitionKey, record.attempts));
  }

  private expire(record: PendingRecord, now: number): void {
    record.attempts.push({
      delayMs: now - record.lastActivity,
      durationMs: 0,
      success: false,
      errorCode: 'Expired',
      errorMessage: 'Record has reached expiration',
    });
    this.fail(record, `Record has reached expiration after ${record.attempts.length - 1} attempt(s)`);
  }

  /** Rejects the expired records at the head of a queue (deadlines grow with arrival); returns how many. */
  private expireHead(queue: PendingRecord[], now: number): number {
    let n = 0;
    while (n < queue.length && queue[n]!.deadline <= now) n++;
    if (n === 0) return 0;
    const gone = queue.splice(0, n);
    for (const r of gone) this.expire(r, now);
    return gone.reduce((sum, r) => sum + r.bytes, 0);
  }

  // -------------------------------------------------------------------------------------------
  // Scheduling

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private wakeAt(at: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, Math.ceil(at - this.clock.now())),
    );
  }

  /** Starts every call that may start now and sets a timer for the next moment something may. */
  private pump(): void {
    const now = this.clock.now();
    let wake = Infinity;
    this.expireHead(this.unassigned, now);
    if (this.unassigned.length > 0) wake = Math.min(wake, this.unassigned[0]!.deadline);
    const flushing = this.flushWaiters.length > 0;
    const paused = this.refreshWanted;
    if (paused && this.outstanding > 0 && this.inFlightCalls === 0 && !this.listing) {
      if (now >= this.nextRefreshAt) void this.refresh();
      else wake = Math.min(wake, this.nextRefreshAt);
    }
    for (const shard of this.shards.values()) {
      shard.queuedBytes -= this.expireHead(shard.queue, now);
      if (shard.queue.length === 0) continue;
      const head = shard.queue[0]!;
      wake = Math.min(wake, head.deadline);
      if (paused || shard.inFlight) continue;
      if (now < shard.backoffUntil) {
        wake = Math.min(wake, shard.backoffUntil);
        continue;
      }
      const full = this.o.aggregation
        ? shard.queuedBytes >= this.o.maxBytesPerRequest
        : shard.queue.length >= this.o.maxRecordsPerRequest || shard.queuedBytes >= this.o.maxBytesPerRequest;
      const due = head.putAt + this.o.maxBufferedTimeMs;
      if (!flushing && !full && now < due) {
        wake = Math.min(wake, due);
        continue;
      }
      if (this.inFlightCalls >= this.o.maxConnections) continue; // a call completing pumps again
      // Wait for a useful share of the buckets rather than sending many tiny calls.
      const wantRecords = Math.min(shard.queue.length, Math.max(1, this.o.recordsPerSecond * SEND_QUANTUM));
      const wantBytes = Math.min(shard.queuedBytes, this.o.bytesPerSecond * SEND_QUANTUM);
      const wait = Math.max(msUntilHolds(shard.records, wantRecords, now), msUntilHolds(shard.bytes, wantBytes, now));
      if (wait > 0) {
        wake = Math.min(wake, now + wait);
        continue;
      }
      const recordTokens = Math.floor(shard.records.tokens(now));
      const byteTokens = shard.bytes.tokens(now);
      const batch = buildBatch(shard.queue, {
        maxEntries: Math.min(this.o.maxRecordsPerRequest, Math.max(1, recordTokens)),
        maxBytes: Math.min(this.o.maxBytesPerRequest, byteTokens),
        allowOversizeFirst: byteTokens >= shard.bytes.capacity,
        aggregation: this.o.aggregation,
        aggregationMaxBytes: this.o.aggregationMaxBytes,
        aggregationMaxCount: this.o.aggregationMaxCount,
        scanLimit: this.o.aggregation ? SCAN_LIMIT_AGGREGATED : SCAN_LIMIT,
      });
      if (batch.entries.length === 0) {
        wake = Math.min(wake, now + Math.max(1, msUntilHolds(shard.bytes, head.bytes, now)));
        continue;
      }
      this.send(shard, batch, now);
    }
    this.wakeAt(wake);
  }

  private backoffMs(failures: number): number {
    const cap = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(failures - 1, 30));
    return this.random() * cap;
  }

  // -------------------------------------------------------------------------------------------
  // PutRecords

  private send(shard: ShardState, batch: Batch, now: number): void {
    // Take the records out of the queue.
    const taken = new Set(batch.taken);
    shard.queue = shard.queue.filter((_, i) => !taken.has(i));
    for (const e of batch.entries) for (const r of e.records) shard.queuedBytes -= r.bytes;
    shard.records.charge(batch.entries.length, now);
    shard.bytes.charge(batch.bytes, now);
    shard.inFlight = true;
    this.inFlightCalls++;
    this.counters.requests++;
    const entries: PutRecordsRequestEntry[] = batch.entries.map((e) => {
      const entry: PutRecordsRequestEntry = { Data: e.data, PartitionKey: e.partitionKey };
      if (e.explicitHashKey !== undefined) entry.ExplicitHashKey = e.explicitHashKey;
      return entry;
    });
    const started = now;
    this.client
      .send(new PutRecordsCommand({ ...this.streamRef, Records: entries }), {
        abortSignal: AbortSignal.timeout(this.o.requestTimeoutMs),
      })
      .then(
        (out) => this.onResult(shard, batch, out, started),
        (err: unknown) => this.onCallError(shard, batch, err, started),
      )
      .catch((err: unknown) => {
        // A bug in result handling must not leave the shard stuck.
        this.onCallError(shard, batch, err, started);
      })
      .finally(() => this.schedulePump());
  }

  private onResult(shard: ShardState, batch: Batch, out: PutRecordsCommandOutput, started: number): void {
    const results = out.Records ?? [];
    if (results.length !== batch.entries.length) {
      this.onCallError(shard, batch, new Error(`PutRecords returned ${results.length} results for ${batch.entries.length} records`), started);
      return;
    }
    const now = this.clock.now();
    const failed: PendingRecord[] = [];
    let misrouted = false;
    for (let i = 0; i < results.length; i++) {
      const res = results[i]!;
      const entry = batch.entries[i]!;
      if (res.ErrorCode !== undefined || res.SequenceNumber === undefined || res.ShardId === undefined) {
        const code = res.ErrorCode ?? 'InternalFailure';
        this.countError(code);
        for (const r of entry.records) {
          this.addAttempt(r, started, now, { errorCode: code, errorMessage: res.ErrorMessage ?? '' });
          failed.push(r);
        }
        continue;
      }
      this.counters.recordsPut++;
      if (entry.aggregated) this.counters.aggregatedRecordsPut++;
      if (res.ShardId !== shard.id) {
        misrouted = true;
        if (entry.aggregated) {
          this.misrouted.push({ records: entry.records, shardId: res.ShardId, sequenceNumber: res.SequenceNumber, started, ended: now });
          continue;
        }
      }
      for (let j = 0; j < entry.records.length; j++) {
        const r = entry.records[j]!;
        this.addAttempt(r, started, now, undefined);
        const result: PutResult = { shardId: res.ShardId, sequenceNumber: res.SequenceNumber, attempts: r.attempts };
        if (entry.aggregated) result.subSequenceNumber = j;
        this.succeed(r, result, now);
      }
    }
    this.finishCall(shard, failed, now);
    if (misrouted) this.requestRefresh();
  }

  private onCallError(shard: ShardState, batch: Batch, err: unknown, started: number): void {
    if (!shard.inFlight) return; // already handled
    const now = this.clock.now();
    const e = (err ?? {}) as SdkError;
    const code = errorCode(e);
    const message = e.message ?? String(err);
    this.countError(code);
    if (e.$retryable?.throttling === true && !THROTTLE_CODES.has(code)) this.counters.throttles++;
    const records = batch.entries.flatMap((x) => x.records).filter((r) => !r.settled);
    for (const r of records) this.addAttempt(r, started, now, { errorCode: code, errorMessage: message });
    if (code === 'ValidationException') {
      // Kinesis refuses this request whatever happens: retrying cannot help.
      shard.inFlight = false;
      this.inFlightCalls--;
      for (const r of records) this.fail(r, `PutRecords failed: ${code}: ${message}`);
      return;
    }
    if (code === 'ResourceNotFoundException' || code === 'InvalidArgumentException') this.requestRefresh();
    this.finishCall(shard, records, now);
  }

  private countError(code: string): void {
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    if (THROTTLE_CODES.has(code)) this.counters.throttles++;
  }

  private addAttempt(r: PendingRecord, started: number, now: number, error: { errorCode: string; errorMessage: string } | undefined): void {
    const attempt: Attempt = {
      delayMs: Math.max(0, started - r.lastActivity),
      durationMs: now - started,
      success: error === undefined,
    };
    if (error) {
      attempt.errorCode = error.errorCode;
      attempt.errorMessage = error.errorMessage;
    }
    r.attempts.push(attempt);
    r.lastActivity = now;
  }

  /** Ends a call: the failed records go back to the front of the queue, in arrival order. */
  private finishCall(shard: ShardState, failed: PendingRecord[], now: number): void {
    shard.inFlight = false;
    this.inFlightCalls--;
    if (failed.length === 0) {
      shard.failures = 0;
      return;
    }
    shard.failures++;
    shard.backoffUntil = now + this.backoffMs(shard.failures);
    const retry: PendingRecord[] = [];
    for (const r of failed) {
      if (r.deadline <= now) this.expire(r, now);
      else retry.push(r);
    }
    this.counters.retries += retry.length;
    retry.sort((a, b) => a.id - b.id);
    shard.queue = mergeById(retry, shard.queue);
    for (const r of retry) shard.queuedBytes += r.bytes;
  }

  // -------------------------------------------------------------------------------------------
  // Shard map

  private requestRefresh(): void {
    if (this.refreshWanted) return;
    this.refreshWanted = true;
    this.nextRefreshAt = Math.max(this.nextRefreshAt, this.clock.now());
    this.schedulePump();
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const out: ListShardsCommandOutput = await this.client.send(
        new ListShardsCommand(token === undefined ? { ...this.streamRef } : { NextToken: token }),
        { abortSignal: AbortSignal.timeout(this.o.requestTimeoutMs) },
      );
      shards.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token !== undefined);
    return shards;
  }

  /**
   * Settles the user records of aggregated records stored in another shard than predicted. Those
   * whose hash key that shard covers are done; the others are in the wrong shard (a consumer that
   * keeps only the user records of its shard's hash range, as the KCL does, skips them) and are
   * returned to be sent again to their own shard. Without a map (listing failed) all count as done.
   */
  private settleMisrouted(map: ShardMap | undefined): PendingRecord[] {
    const again: PendingRecord[] = [];
    const groups = this.misrouted;
    this.misrouted = [];
    for (const g of groups) {
      const range = map?.shards.find((s) => s.shardId === g.shardId);
      g.records.forEach((r, j) => {
        if (map === undefined || (range !== undefined && r.hashKey >= range.start && r.hashKey <= range.end)) {
          this.addAttempt(r, g.started, g.ended, undefined);
          this.succeed(r, { shardId: g.shardId, sequenceNumber: g.sequenceNumber, subSequenceNumber: j, attempts: r.attempts }, g.ended);
        } else {
          this.addAttempt(r, g.started, g.ended, {
            errorCode: 'WrongShard',
            errorMessage: `Stored in ${g.shardId}, whose hash key range does not hold the record's hash key`,
          });
          this.countError('WrongShard');
          this.counters.retries++;
          again.push(r);
        }
      });
    }
    return again;
  }

  /** Lists the shards and moves every queued record to the queue of its shard in the new map. */
  private async refresh(): Promise<void> {
    this.listing = true;
    const started = this.clock.now();
    try {
      const map = new ShardMap(await this.listShards());
      if (!map.complete) throw Object.assign(new Error('The open shards do not cover the hash-key space'), { name: 'IncompleteShardMap' });
      const all: PendingRecord[] = [...this.unassigned];
      for (const s of this.shards.values()) all.push(...s.queue);
      all.push(...this.settleMisrouted(map));
      all.sort((a, b) => a.id - b.id);
      const keep = new Map<string, ShardState>();
      for (const range of map.shards) {
        const s = this.shards.get(range.shardId);
        if (s) {
          s.queue = [];
          s.queuedBytes = 0;
          keep.set(s.id, s);
        }
      }
      this.shards.clear();
      for (const [id, s] of keep) this.shards.set(id, s);
      this.map = map;
      this.unassigned = [];
      for (const r of all) this.assign(r);
      this.refreshWanted = false;
      this.refreshFailures = 0;
      this.counters.shardMapRefreshes++;
      this.nextRefreshAt = this.clock.now() + MIN_REFRESH_INTERVAL_MS;
    } catch (err) {
      const e = (err ?? {}) as SdkError;
      const code = errorCode(e);
      this.countError(code);
      this.refreshFailures++;
      const now = this.clock.now();
      // Records still waiting for a first map carry the failure in their attempts.
      for (const r of this.unassigned) this.addAttempt(r, started, now, { errorCode: code, errorMessage: e.message ?? String(err) });
      this.nextRefreshAt = now + Math.max(MIN_REFRESH_INTERVAL_MS, this.backoffMs(this.refreshFailures));
      // With a map in hand, keep sending with it (calls that fail ask for another refresh).
      if (this.map !== undefined) this.refreshWanted = false;
      this.settleMisrouted(undefined);
    } finally {
      this.listing = false;
      this.schedulePump();
    }
  }
}

function errorCode(e: SdkError): string {
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'RequestTimeout';
  if (typeof e.name === 'string' && e.name !== 'Error' && e.name !== '') return e.name;
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined ? `Http${status}` : 'NetworkError';
}

/** Merges two lists sorted by id. */
function mergeById(a: PendingRecord[], b: PendingRecord[]): PendingRecord[] {
  if (a.length === 0) return b;
  if (b.length === 0 || a[a.length - 1]!.id < b[0]!.id) return a.concat(b);
  const out: PendingRecord[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]!.id < b[j]!.id ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * Whole milliseconds from `now` until `bucket` holds `n` tokens, or is full for an `n` above its
 * capacity (one record larger than the bucket is sent from a full bucket, and paid for after).
 */
export function msUntilHolds(bucket: TokenBucket, n: number, now: number): number {
  return Math.ceil(bucket.msUntil(Math.min(n, bucket.capacity), now));
}
