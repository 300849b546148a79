/**
 * The one-minute stream and shard metrics of every node, in one JetStream stream.
 *
 * Each append publishes, per stream key and minute, one message (more when it would exceed the
 * server's max_payload) on `<prefix>.metrics.<escaped stream key>.<minute>` holding that node's
 * rows as `[shard, name, sum, count, max]`. Rows add up, so nodes never read before they write:
 * several nodes (and several flushes of one node) may publish the same subject, and a read
 * combines every message of a stream within the minute range into one row per
 * (stream, shard, minute, name).
 *
 * A read lists the stream's minute subjects and their message counts (stream info with a subject
 * filter, answered by the stream's leader) and, when a minute of the range has any, reads the
 * stream's messages with one ordered consumer filtered on `<prefix>.metrics.<key>.*`. nats-server
 * 2.9 takes one filter subject per consumer and has no batch direct get, so the read covers every
 * stored minute of the stream: retention keeps that to `--metrics-retention-hours` of minutes.
 *
 * Deletion purges by subject (`<prefix>.metrics.*.<minute>` for each minute before the cut) rather
 * than by the stream's max age: minutes come from the server's clock (injectable) and may be
 * written late (a node flushing at shutdown), while message timestamps are the NATS server's.
 * Purging a subject that another node purged already does nothing, so nodes may delete at once.
 */
import { randomUUID } from 'node:crypto';
import { JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { MetricRow } from '../catalog.js';
import { escapeKey } from './names.js';
import type { JetStreamConnection } from './store.js';

/** JetStream's API error code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;
/** Publishes of one append in flight at once. */
const PUBLISH_PARALLEL = 32;
const PUBLISH_TIMEOUT_MS = 5_000;
const PUBLISH_ATTEMPTS = 2;
/** Room left in a message for the publish protocol and headers. */
const PAYLOAD_MARGIN = 4_096;
/** Largest metrics message, even where the server would accept more. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Messages one fetch of a read asks for. */
const FETCH_BATCH = 1_000;
const FETCH_EXPIRES_MS = 2_000;
/**
 * How often (in minutes of the cut) a deletion lists every stored minute instead of purging only
 * the minutes the cut passed since the last one: rows written late for a minute already purged
 * are removed then.
 */
const FULL_SWEEP_MINUTES = 60;

/** One row of a message: the stream and minute are in its subject. */
type StoredRow = [shard: number, name: string, sum: number, count: number, max: number];

export class JetStreamMetrics {
  readonly streamName: string;
  private readonly subjectPrefix: string;
  private readonly js: JetStreamClient;
  private readonly maxMessageBytes: number;
  private ready: Promise<JetStreamManager> | undefined;
  /** Every minute before this one has been purged by this process (undefined: nothing yet). */
  private purgedBefore: number | undefined;
  private lastFullSweep = Number.NEGATIVE_INFINITY;

  constructor(private readonly conn: JetStreamConnection) {
    this.streamName = `${conn.prefix}-metrics`;
    this.subjectPrefix = `${conn.prefix.toLowerCase()}.metrics`;
    this.js = jetstream(conn.nc);
    this.maxMessageBytes = Math.min(MAX_MESSAGE_BYTES, (conn.nc.info?.max_payload ?? MAX_MESSAGE_BYTES) - PAYLOAD_MARGIN);
  }

  /** The subject of a stream's rows of one minute. */
  subject(streamKey: string, minute: number): string {
    return `${this.subjectPrefix}.${escapeKey(streamKey)}.${minute}`;
  }

  async append(rows: readonly MetricRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.stream();
    const groups = new Map<string, StoredRow[]>();
    for (const r of rows) {
      if (!Number.isSafeInteger(r.minute) || r.minute < 0) throw new RangeError(`metric minute ${r.minute} is not a non-negative integer`);
      const subject = this.subject(r.stream, r.minute);
      let group = groups.get(subject);
      if (!group) groups.set(subject, (group = []));
      group.push([r.shard, r.name, r.sum, r.count, r.max]);
    }
    const messages: { subject: string; payload: string }[] = [];
    for (const [subject, group] of groups) {
      for (const payload of this.split(group)) messages.push({ subject, payload });
    }
    for (let i = 0; i < messages.length; i += PUBLISH_PARALLEL) {
      await Promise.all(messages.slice(i, i + PUBLISH_PARALLEL).map((m) => this.publish(m.subject, m.payload)));
    }
  }

  /**
   * Publishes one message, trying again once when no acknowledgement came (the stream electing a
   * leader): the message ID makes the stream drop the second copy if the first was stored, so a
   * retry never counts rows twice.
   */
  private async publish(subject: string, payload: string): Promise<void> {
    const msgID = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.js.publish(subject, payload, { msgID, timeout: PUBLISH_TIMEOUT_MS });
        return;
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS) throw err;
      }
    }
  }

  async read(streamKey: string, fromMinute: number, toMinute: number): Promise<MetricRow[]> {
    if (!(fromMinute <= toMinute)) return [];
    const jsm = await this.stream();
    const filter = `${this.subjectPrefix}.${escapeKey(streamKey)}.*`;
    const info = await jsm.streams.info(this.streamName, { subjects_filter: filter });
    let wanted = 0;
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      const minute = minuteOfSubject(subject);
      if (minute >= fromMinute && minute <= toMinute) wanted += count;
    }
    if (wanted === 0) return [];

    const combined = new Map<string, MetricRow>();
    const consumer = await this.js.consumers.get(this.streamName, { filter_subjects: filter });
    try {
      let more = true;
      while (more) {
        let got = 0;
        const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
        for await (const m of batch) {
          got++;
          const minute = minuteOfSubject(m.subject);
          if (minute >= fromMinute && minute <= toMinute) {
            for (const [shard, name, sum, count, max] of decode(m.data)) {
              const id = `${minute}\u0000${shard}\u0000${name}`;
              const have = combined.get(id);
              if (!have) combined.set(id, { stream: streamKey, shard, minute, name, sum, count, max });
              else {
                have.sum += sum;
                have.count += count;
                if (max > have.max) have.max = max;
              }
            }
          }
          if (m.info.pending === 0) {
            more = false;
            break;
          }
        }
        // Nothing more arrived before the fetch expired: the messages were purged meanwhile.
        if (got === 0) more = false;
      }
    } finally {
      await consumer.delete().catch(() => false);
    }
    // The embedded catalog's order: by minute, shard, then name.
    return [...combined.values()].sort(
      (a, b) => a.minute - b.minute || a.shard - b.shard || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }

  async deleteBefore(minute: number): Promise<void> {
    const jsm = await this.stream();
    const purge = (m: number) => jsm.streams.purge(this.streamName, { filter: `${this.subjectPrefix}.*.${m}` });
    const from = this.purgedBefore;
    if (from === undefined || minute - this.lastFullSweep >= FULL_SWEEP_MINUTES || minute - from > FULL_SWEEP_MINUTES) {
      const info = await jsm.streams.info(this.streamName, { subjects_filter: `${this.subjectPrefix}.*.*` });
      const minutes = new Set<number>();
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        const m = minuteOfSubject(subject);
        if (m < minute) minutes.add(m);
      }
      for (const m of minutes) await purge(m);
      this.lastFullSweep = minute;
    } else {
      for (let m = from; m < minute; m++) await purge(m);
    }
    this.purgedBefore = Math.max(minute, from ?? minute);
  }

  /** Splits a group's rows into payloads within the largest message. */
  private split(rows: StoredRow[]): string[] {
    const out: string[] = [];
    let parts: string[] = [];
    let size = 2;
    for (const row of rows) {
      const part = JSON.stringify(row);
      const bytes = Buffer.byteLength(part) + 1;
      if (parts.length > 0 && size + bytes > this.maxMessageBytes) {
        out.push(`[${parts.join(',')}]`);
        parts = [];
        size = 2;
      }
      parts.push(part);
      size += bytes;
    }
    if (parts.length > 0) out.push(`[${parts.join(',')}]`);
    return out;
  }

  /** The metrics stream's manager, once the stream exists (created by whichever node comes first). */
  private stream(): Promise<JetStreamManager> {
    this.ready ??= (async () => {
      const jsm = await jetstreamManager(this.conn.nc);
      try {
        await jsm.streams.info(this.streamName);
      } catch (err) {
        if (!(err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)) throw err;
        // Adding a stream with the same configuration as an existing one succeeds, so two nodes
        // creating it at once both do.
        await jsm.streams.add({
          name: this.streamName,
          subjects: [`${this.subjectPrefix}.*.*`],
          num_replicas: this.conn.replicas,
        });
      }
      return jsm;
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }
}

/** The minute in a metrics subject (its last token); NaN for anything else. */
function minuteOfSubject(subject: string): number {
  const token = subject.slice(subject.lastIndexOf('.') + 1);
  return /^\d+$/.test(token) ? Number(token) : Number.NaN;
}

function decode(data: Uint8Array): StoredRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (r): r is StoredRow =>
      Array.isArray(r) &&
      r.length === 5 &&
      Number.isInteger(r[0]) &&
      typeof r[1] === 'string' &&
      typeof r[2] === 'number' &&
      typeof r[3] === 'number' &&
      typeof r[4] === 'number',
  );
}
