/**
 * The log of one shard in JetStream.
 *
 * Each shard has its own JetStream stream with one subject. A message holds the records of one or
 * more appends (see codec.ts); its headers carry the offset of its first record, its record count
 * and its first and last timestamps. Stream sequences are dense (messages are only ever removed
 * from the front, by trim), so message seq + 1 follows message seq and the offsets of consecutive
 * messages are consecutive.
 *
 * Appends are group-committed: one publish in flight per log, carrying every append queued since
 * the last one (up to the server's max_payload). Each publish expects the last stream sequence this
 * log knows; when another writer (another node, another handle) got there first, the publish is
 * refused, the log learns the new tail from the last message and publishes again with offsets and
 * timestamps recomputed. An append resolves once JetStream acknowledged the message, which in a
 * replicated stream means a majority of its replicas stored it. A publish whose acknowledgement is
 * lost is sent again with the same message id, so that the server's duplicate detection answers
 * with the original sequence rather than storing it twice.
 *
 * After each stored message the writer announces its sequence on the shard's core "appended"
 * subject (names.ts), so that other nodes serving SubscribeToShard learn of appends they did not
 * make. Reads of the tail ask the stream's leader, which has every acknowledged message.
 *
 * seal() closes the shard to appends from every node: it stores a message without records
 * (header HEADER_SEAL: closed) after the newest one. A writer elsewhere whose publish then fails the
 * expected-last-sequence check finds the seal at the tail and refuses its append with
 * ShardSealedError instead of writing past the shard's end. unseal() stores the opposite marker.
 *
 * trim() records the new start offset in the shard-state bucket first, then purges the messages
 * whose records are all before it, always keeping the newest message: it carries the offset the
 * next append gets, even when every record has expired.
 */
import { randomUUID } from 'node:crypto';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  ShardDeletedError,
  ShardSealedError,
  type AppendResult,
  type LogSealing,
  type ReadResult,
  type RecordInput,
  type ShardLog,
  type StoredRecord,
} from '../types.js';
import {
  decodeMessage,
  encodedSize,
  encodeMessage,
  HEADER_COUNT,
  HEADER_FIRST_TS,
  HEADER_LAST_TS,
  HEADER_OFFSET,
  HEADER_SEAL,
} from './codec.js';
import type { JetStreamContext } from './context.js';
import { appendedSubject, shardStreamName, shardSubject, trimKey } from './names.js';

const WRONG_LAST_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;
/** A newer server's answer to a resend whose first copy is proposed but not yet stored. */
const DUPLICATE_IN_FLIGHT = 10158;
/**
 * How many times (20 ms apart) a resend waits for its first copy, proposed but not stored yet, to
 * be stored: 30 s, because a loaded cluster can take seconds to commit a proposal.
 */
const MAX_IN_FLIGHT_WAITS = 1_500;
/** Messages fetched concurrently by one read: at least, and at most (when their sizes are known). */
const READ_WINDOW = 16;
const MAX_READ_WINDOW = 256;
/** Message headers kept in memory, for finding offsets without a round trip. */
const ENTRY_CACHE = 4096;
/** Room left in a message for its headers. */
const HEADER_ROOM = 512;
const MAX_CONFLICT_RETRIES = 1000;
/** A lost acknowledgement is resent at least this many times, and for at least this long. */
const MAX_LOST_ACK_RETRIES = 10;
const MIN_LOST_ACK_RETRY_MS = 5_000;
/** Times the newest message is asked for when the stream's state says there is one. */
const TAIL_ATTEMPTS = 5;
/** How long reads of the tail wait for a stream without a leader to elect one. */
const LEADER_WAIT_MS = 10_000;

/** Where one message sits in the shard. */
interface Entry {
  seq: number;
  offset: number;
  count: number;
  firstTs: number;
  lastTs: number;
  /** Set on a seal marker: the shard's state from this message on. */
  seal?: 'closed' | 'open';
}

interface PendingAppend {
  records: readonly RecordInput[];
  timestamp: number;
  size: number;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** Counters for tests and metrics. */
export interface JetStreamLogStats {
  /** Messages stored. */
  publishes: number;
  /** Publishes refused because another writer appended first. */
  conflicts: number;
  /** Publishes sent again after their acknowledgement was lost. */
  resends: number;
}

export class JetStreamShardLog implements ShardLog, LogSealing {
  /** Several nodes append to one shard, so resharding closes it to all of them (seal()). */
  readonly sealing: LogSealing = this;
  readonly stats: JetStreamLogStats = { publishes: 0, conflicts: 0, resends: 0 };
  readonly name: string;
  readonly subject: string;
  private start = 0;
  private next = 0;
  private last: number | undefined;
  /** Sequence of the newest message this log knows of; 0 when the stream never had one. */
  private lastSeq = 0;
  private firstSeq = 1;
  private readonly entries = new Map<number, Entry>();
  private pending: PendingAppend[] = [];
  private flushing = false;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The newest message this log knows of is a seal marker closing the shard. */
  private sealed = false;

  private constructor(
    private readonly ctx: JetStreamContext,
    readonly streamKey: string,
    readonly shardIndex: number,
    private readonly onClose: (log: JetStreamShardLog) => void,
  ) {
    this.name = shardStreamName(ctx.prefix, streamKey, shardIndex);
    this.subject = shardSubject(ctx.prefix, streamKey, shardIndex);
  }

  /** Opens the log of a shard, creating its JetStream stream when there is none. */
  static async open(
    ctx: JetStreamContext,
    streamKey: string,
    shardIndex: number,
    onClose: (log: JetStreamShardLog) => void = () => {},
  ): Promise<JetStreamShardLog> {
    const log = new JetStreamShardLog(ctx, streamKey, shardIndex, onClose);
    await log.ensureStream();
    await log.refreshTail();
    await log.refreshStart();
    return log;
  }

  get nextOffset(): number {
    return this.next;
  }

  get startOffset(): number {
    return this.start;
  }

  get lastTimestamp(): number | undefined {
    return this.last;
  }

  append(records: readonly RecordInput[], timestamp: number): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error(`log ${this.name} is closed`));
    if (records.length === 0) return Promise.reject(new RangeError('append needs at least one record'));
    if (!Number.isSafeInteger(timestamp)) return Promise.reject(new TypeError(`timestamp ${timestamp} is not an integer`));
    const size = encodedSize(records);
    if (size + HEADER_ROOM > this.ctx.maxPayload) {
      return Promise.reject(
        new RangeError(`append of ${size} bytes exceeds the NATS server's max_payload of ${this.ctx.maxPayload} bytes`),
      );
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ records, timestamp, size, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        void this.exclusive(() => this.flush());
      }
    });
  }

  async read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ReadResult> {
    this.checkOpen();
    try {
      return await this.readOnce(fromOffset, maxRecords, maxBytes);
    } catch (err) {
      if (!(err instanceof MissingMessageError)) throw err;
      // A trim (here or on another node) purged messages meanwhile: start again from what is left.
      await this.refreshStart();
      return this.readOnce(fromOffset, maxRecords, maxBytes);
    }
  }

  private async readOnce(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ReadResult> {
    let from = Math.max(fromOffset, this.start);
    if (from >= this.next) {
      // Another writer may have appended since this log last looked.
      await this.refreshTail();
      from = Math.max(fromOffset, this.start);
      if (from >= this.next) return { records: [], nextOffset: from, bytes: 0 };
    }
    const records: StoredRecord[] = [];
    let bytes = 0;
    let seq = await this.seqOf(from);
    let offset = from;
    const end = this.lastSeq;
    while (seq <= end && records.length < maxRecords) {
      const batch: Promise<{ entry: Entry; msg: StoredMsg }>[] = [];
      const window = this.window(seq, maxRecords - records.length);
      for (let s = seq; s <= end && s < seq + window; s++) batch.push(this.fetch(s));
      const fetched = await Promise.all(batch);
      for (const { entry, msg } of fetched) {
        for (const r of decodeMessage(msg.data, entry.offset)) {
          if (r.offset < offset) continue;
          const size = r.data.length + Buffer.byteLength(r.partitionKey);
          if (records.length >= maxRecords || (records.length > 0 && bytes + size > maxBytes)) {
            return { records, nextOffset: offset, bytes };
          }
          records.push(r);
          bytes += size;
          offset = r.offset + 1;
        }
      }
      seq += fetched.length;
    }
    return { records, nextOffset: offset, bytes };
  }

  async offsetAtTimestamp(timestamp: number): Promise<number> {
    this.checkOpen();
    if (this.last === undefined || timestamp > this.last) return this.next;
    // The first message whose last timestamp reaches `timestamp`.
    let lo = this.firstSeq;
    let hi = this.lastSeq;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await this.entry(mid)).lastTs >= timestamp) hi = mid;
      else lo = mid + 1;
    }
    const entry = await this.entry(lo);
    let offset = entry.offset;
    if (entry.firstTs < timestamp) {
      const msg = await this.getMessage(entry.seq);
      const hit = decodeMessage(msg.data, entry.offset).find((r) => r.timestamp >= timestamp);
      offset = hit ? hit.offset : entry.offset + entry.count;
    }
    return Math.max(offset, this.start);
  }

  async timestampAt(offset: number): Promise<number | undefined> {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || offset < this.start || offset >= this.next) return undefined;
    const entry = await this.entry(await this.seqOf(offset));
    if (entry.firstTs === entry.lastTs) return entry.firstTs;
    const msg = await this.getMessage(entry.seq);
    return decodeMessage(msg.data, entry.offset)[offset - entry.offset]?.timestamp;
  }

  trim(before: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`log ${this.name} is closed`));
    return this.exclusive(async () => {
      const target = await this.offsetAtTimestamp(before);
      if (target <= this.start) return;
      await this.saveTrimPoint(target);
      this.start = target;
      // Every message before the one holding `target` goes; the newest message always stays.
      const keepFrom = target >= this.next ? this.lastSeq : await this.seqOf(target);
      if (keepFrom > this.firstSeq) {
        await this.ctx.jsm.streams.purge(this.name, { seq: keepFrom });
        for (const seq of this.entries.keys()) if (seq < keepFrom) this.entries.delete(seq);
        this.firstSeq = keepFrom;
      }
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.onClose(this);
    }
    // Appends queued before close() still complete.
    return this.exclusive(async () => {});
  }

  /** How many messages from `seq` on hold `wanted` more records, as far as the cached headers tell. */
  private window(seq: number, wanted: number): number {
    let n = 0;
    let records = 0;
    for (let s = seq; n < MAX_READ_WINDOW && records < wanted; s++, n++) {
      const entry = this.entries.get(s);
      if (!entry) return Math.max(n + 1, READ_WINDOW);
      records += entry.count;
    }
    return Math.max(n, 1);
  }

  // --- appends

  private exclusive<T>(op: () => Promise<T>): Promise<T> {
    const result = this.chain.then(op);
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const budget = this.ctx.maxPayload - HEADER_ROOM;
      let size = 0;
      let n = 0;
      while (n < this.pending.length && (n === 0 || size + this.pending[n].size <= budget)) size += this.pending[n++].size;
      const group = this.pending.splice(0, n);
      try {
        const results = await this.publish(group);
        group.forEach((p, i) => p.resolve(results[i]));
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
    this.flushing = false;
  }

  /** Publishes appends as one message after the newest one; returns where each landed. */
  private async publish(group: PendingAppend[]): Promise<AppendResult[]> {
    // The shard may have been opened again since this log saw it sealed.
    if (this.sealed) await this.refreshTail(true);
    for (let conflicts = 0; ; conflicts++) {
      if (this.sealed) throw new ShardSealedError(`shard ${this.name} is closed`);
      const results: AppendResult[] = [];
      const stamped = [];
      let offset = this.next;
      let last = this.last ?? -Infinity;
      let count = 0;
      for (const p of group) {
        const timestamp = Math.max(p.timestamp, last);
        stamped.push({ records: p.records, timestamp });
        results.push({ firstOffset: offset, timestamp });
        offset += p.records.length;
        count += p.records.length;
        last = timestamp;
      }
      const entry: Entry = { seq: this.lastSeq + 1, offset: this.next, count, firstTs: stamped[0].timestamp, lastTs: last };
      const h = natsHeaders();
      h.set(HEADER_OFFSET, String(entry.offset));
      h.set(HEADER_COUNT, String(count));
      h.set(HEADER_FIRST_TS, String(entry.firstTs));
      h.set(HEADER_LAST_TS, String(entry.lastTs));
      const seq = await this.publishAfterLast(encodeMessage(stamped), h, true);
      if (seq === undefined) {
        this.stats.conflicts++;
        if (conflicts >= MAX_CONFLICT_RETRIES) throw new Error(`shard ${this.name}: too many concurrent appends`);
        await this.refreshTail();
        continue;
      }
      if (seq !== entry.seq) throw new Error(`shard ${this.name}: message stored at sequence ${seq}, expected ${entry.seq}`);
      this.stats.publishes++;
      this.remember(entry);
      this.lastSeq = seq;
      this.next = offset;
      this.last = last;
      this.announce(seq);
      return results;
    }
  }

  /**
   * Closes the shard to appends from every writer, after the appends already queued here; resolves
   * to its end offset (see the module comment). Sealing a sealed shard changes nothing.
   */
  seal(): Promise<number> {
    this.checkOpen();
    return this.exclusive(async () => {
      await this.mark('closed');
      return this.next;
    });
  }

  /** Opens a sealed shard to appends again. */
  unseal(): Promise<void> {
    this.checkOpen();
    return this.exclusive(() => this.mark('open'));
  }

  /** Stores a seal marker after the newest message, unless the shard is already in that state. */
  private async mark(state: 'closed' | 'open'): Promise<void> {
    await this.refreshTail(true);
    for (let conflicts = 0; ; conflicts++) {
      if (this.sealed === (state === 'closed')) return;
      const last = this.last ?? 0;
      const h = natsHeaders();
      h.set(HEADER_OFFSET, String(this.next));
      h.set(HEADER_COUNT, '0');
      h.set(HEADER_FIRST_TS, String(last));
      h.set(HEADER_LAST_TS, String(last));
      h.set(HEADER_SEAL, state);
      const seq = await this.publishAfterLast(new Uint8Array(0), h, false);
      if (seq === undefined) {
        if (conflicts >= MAX_CONFLICT_RETRIES) throw new Error(`shard ${this.name}: too many concurrent appends`);
        await this.refreshTail(true);
        continue;
      }
      this.remember({ seq, offset: this.next, count: 0, firstTs: last, lastTs: last, seal: state });
      this.lastSeq = seq;
      this.sealed = state === 'closed';
      this.announce(seq);
      return;
    }
  }

  /**
   * Publishes one message to follow the newest this log knows (expected last sequence), resending
   * it under the same message id while acknowledgements are lost; resolves to its sequence, or to
   * undefined when another writer appended first. With `detectDeleted`, a subject nobody takes
   * because the shard's stream is gone fails with ShardDeletedError.
   */
  private async publishAfterLast(payload: Uint8Array, headers: ReturnType<typeof natsHeaders>, detectDeleted: boolean): Promise<number | undefined> {
    const msgID = randomUUID();
    const started = Date.now();
    let inFlight = 0;
    for (let lost = 0; ; lost++) {
      try {
        const ack = await this.ctx.js.publish(this.subject, payload, {
          headers,
          msgID,
          expect: { lastSequence: this.lastSeq },
          timeout: this.ctx.publishTimeoutMs,
        });
        // A resend that reaches a clustered stream while its first copy is proposed but not yet
        // stored is answered as a duplicate without a sequence (servers before 2.10): the first
        // copy will be stored, so ask again until the server knows where.
        if (ack.duplicate && ack.seq === 0) throw new DuplicateInFlight();
        return ack.seq;
      } catch (err) {
        if (err instanceof DuplicateInFlight || (err instanceof JetStreamApiError && err.code === DUPLICATE_IN_FLIGHT)) {
          if (++inFlight > MAX_IN_FLIGHT_WAITS) throw new Error(`shard ${this.name}: a resent append stayed in flight`);
          lost--;
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) return undefined;
        // Counted and timed both: a short acknowledgement deadline on a slow cluster must not use
        // up its resends before a replicated store can complete.
        if (err instanceof JetStreamApiError || (lost >= MAX_LOST_ACK_RETRIES && Date.now() - started >= MIN_LOST_ACK_RETRY_MS)) throw err;
        // Nobody takes the subject: the stream was deleted (the Kinesis stream with it, by
        // another node), or it is electing a leader.
        if (detectDeleted && isNoResponders(err) && (await this.deleted())) throw new ShardDeletedError(`shard ${this.name} was deleted`);
        this.stats.resends++;
        // No answer: the message may or may not be stored; the same id makes a resend safe.
        // Without a leader (an election) there may be no responder at all: give it a moment.
        if (!isTimeout(err)) await pause(lost);
      }
    }
  }

  /** True when the shard's JetStream stream no longer exists. */
  private async deleted(): Promise<boolean> {
    try {
      await this.ctx.jsm.streams.info(this.name);
      return false;
    } catch (err) {
      return err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND;
    }
  }

  /** Tells other nodes' subscribers that message `seq` is stored (fire and forget). */
  private announce(seq: number): void {
    try {
      this.ctx.nc.publish(appendedSubject(this.ctx.prefix, this.streamKey, this.shardIndex), String(seq));
    } catch {
      // A closed or reconnecting connection: subscribers fall back on their heartbeat reads.
    }
  }

  // --- finding messages

  /**
   * Learns the newest message from the stream's leader (another writer may have appended): a
   * direct get may be answered by a replica that has not stored the newest acknowledged message
   * yet. `force` re-reads the seal state even when the tail did not move.
   */
  private async refreshTail(force = false): Promise<void> {
    let msg = await this.tailMessage();
    for (let attempt = 1; !msg; attempt++) {
      // No message: either the stream never had one, or its first one was stored between the two
      // questions (an append racing this read, from this node or another). Its state tells which.
      const info = await this.ctx.jsm.streams.info(this.name);
      if (info.state.last_seq === 0) return;
      if (info.state.messages === 0 || attempt >= TAIL_ATTEMPTS) {
        throw new Error(`shard ${this.name}: its newest message is missing`);
      }
      msg = await this.tailMessage();
    }
    const entry = entryOf(msg);
    this.remember(entry);
    if (entry.seq < this.lastSeq || (entry.seq === this.lastSeq && !force)) return;
    this.sealed = entry.seal === 'closed';
    if (entry.seq === this.lastSeq) return;
    this.lastSeq = entry.seq;
    this.next = entry.offset + entry.count;
    // A marker on a shard that never had a record carries no timestamp.
    if (entry.count > 0 || entry.lastTs > 0) this.last = entry.lastTs;
    const info = await this.ctx.jsm.streams.info(this.name);
    this.firstSeq = Math.max(this.firstSeq, info.state.first_seq);
  }

  /**
   * The newest message, as the stream's leader has it. While the stream has no leader (an
   * election), requests go unanswered: they are repeated for up to LEADER_WAIT_MS.
   */
  private async tailMessage(): Promise<StoredMsg | null> {
    const until = performance.now() + LEADER_WAIT_MS;
    for (;;) {
      try {
        return await this.ctx.leaderJsm.streams.getMessage(this.name, { last_by_subj: this.subject });
      } catch (err) {
        if (!isTimeout(err) || performance.now() >= until) throw err;
      }
    }
  }

  /** The sequence of the message holding `offset` (which must be below nextOffset). */
  private async seqOf(offset: number): Promise<number> {
    let lo = this.firstSeq;
    let hi = this.lastSeq;
    // A read usually continues where the last one ended, or near the tail: try the cache first.
    for (const e of this.entries.values()) {
      if (offset >= e.offset && offset < e.offset + e.count) return e.seq;
      if (offset === e.offset + e.count && e.seq < this.lastSeq) return e.seq + 1;
      if (e.offset + e.count <= offset) lo = Math.max(lo, e.seq + 1);
      else if (e.offset > offset) hi = Math.min(hi, e.seq - 1);
    }
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((await this.entry(mid)).offset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private async entry(seq: number): Promise<Entry> {
    const cached = this.entries.get(seq);
    if (cached) return cached;
    return (await this.fetch(seq)).entry;
  }

  private async fetch(seq: number): Promise<{ entry: Entry; msg: StoredMsg }> {
    const msg = await this.getMessage(seq);
    const entry = entryOf(msg);
    this.remember(entry);
    return { entry, msg };
  }

  private async getMessage(seq: number): Promise<StoredMsg> {
    // Any replica may answer a direct get; one that lags behind may not have the message yet.
    const msg =
      (await this.ctx.jsm.direct.getMessage(this.name, { seq })) ?? (await this.ctx.jsm.streams.getMessage(this.name, { seq }));
    if (!msg) throw new MissingMessageError(`shard ${this.name}: message ${seq} is missing`);
    return msg;
  }

  /** Learns the first message and the trim point from the server. */
  private async refreshStart(): Promise<void> {
    const info = await this.ctx.jsm.streams.info(this.name);
    this.firstSeq = Math.max(this.firstSeq, info.state.first_seq);
    for (const seq of this.entries.keys()) if (seq < this.firstSeq) this.entries.delete(seq);
    const trimmed = await this.ctx.shardState.get(trimKey(this.streamKey, this.shardIndex));
    const trimPoint = trimmed && trimmed.operation === 'PUT' ? Number(trimmed.string()) : 0;
    const first = this.firstSeq <= this.lastSeq ? await this.entry(this.firstSeq) : undefined;
    this.start = Math.min(this.next, Math.max(this.start, trimPoint, first?.offset ?? 0));
  }

  private remember(entry: Entry): void {
    if (this.entries.has(entry.seq)) return;
    this.entries.set(entry.seq, entry);
    if (this.entries.size > ENTRY_CACHE) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  // --- setup

  private async ensureStream(): Promise<void> {
    try {
      await this.ctx.jsm.streams.info(this.name);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)) throw err;
    }
    await this.ctx.jsm.streams.add({
      name: this.name,
      subjects: [this.subject],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: this.ctx.replicas,
      max_age: 0,
      allow_direct: true,
      deny_delete: true,
      duplicate_window: 120 * 1_000_000_000,
    });
  }

  private async saveTrimPoint(offset: number): Promise<void> {
    const key = trimKey(this.streamKey, this.shardIndex);
    for (let attempt = 1; ; attempt++) {
      const current = await this.ctx.shardState.get(key);
      try {
        if (!current || current.operation !== 'PUT') {
          await this.ctx.shardState.create(key, String(offset));
        } else if (Number(current.string()) < offset) {
          await this.ctx.shardState.update(key, String(offset), current.revision);
        }
        return;
      } catch (err) {
        // Another writer moved it meanwhile (a compare-and-set failed): look again.
        if (attempt >= 10) throw err;
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`log ${this.name} is closed`);
  }
}

class MissingMessageError extends Error {}

/** See publishAfterLast: the first copy of a resent message is not stored yet. */
class DuplicateInFlight extends Error {}

/** Waits before the n-th resend of a publish that failed without a timeout (0.1 s, doubling, at most 1 s). */
function pause(n: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** n, 1_000)));
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || /timeout/i.test(err.message));
}

function isNoResponders(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === 'JetStreamNotEnabled' || /no responders/i.test(e.message)) return true;
  }
  return false;
}

function entryOf(msg: StoredMsg): Entry {
  const h = msg.header;
  const offset = Number(h.get(HEADER_OFFSET));
  const count = Number(h.get(HEADER_COUNT));
  const firstTs = Number(h.get(HEADER_FIRST_TS));
  const lastTs = Number(h.get(HEADER_LAST_TS));
  if (![offset, count, firstTs, lastTs].every(Number.isSafeInteger)) {
    throw new Error(`message ${msg.seq} of ${msg.subject} is not a Tributary message`);
  }
  const seal = h.get(HEADER_SEAL);
  const entry: Entry = { seq: msg.seq, offset, count, firstTs, lastTs };
  if (seal === 'closed' || seal === 'open') entry.seal = seal;
  return entry;
}
