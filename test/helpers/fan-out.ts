import assert from 'node:assert/strict';
import http2 from 'node:http2';
import {
  DescribeStreamConsumerCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type KinesisClient,
  type StartingPosition,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { arnOf } from './kinesis.js';
import { SIGNED } from './raw.js';
import { header, MessageReader, type DecodedMessage } from './eventstream.js';

/** Registers a consumer and waits (bounded) until it is ACTIVE; returns its ARN. */
export async function registerActive(client: KinesisClient, stream: string, name: string): Promise<string> {
  const r = await client.send(new RegisterStreamConsumerCommand({ StreamARN: arnOf(stream), ConsumerName: name }));
  const arn = r.Consumer!.ConsumerARN!;
  for (let i = 0; i < 200; i++) {
    const d = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }));
    if (d.ConsumerDescription!.ConsumerStatus === 'ACTIVE') return arn;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`consumer ${name} never became ACTIVE`);
}

/**
 * Something tests wait on: `wake()` on every event and at the end lets `until` look again, and a
 * timeout says how the event stream had ended, if it had (an exception there is the usual cause).
 */
abstract class Waitable {
  private waiters: Array<() => void> = [];

  protected wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** How the event stream ended, or undefined while it is open. */
  protected abstract endNote(): string | undefined;

  /** Waits until `predicate` holds (checked on every event and at the end), at most `ms`. */
  async until(predicate: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) {
        const end = this.endNote();
        throw new Error(`timed out waiting for ${what}${end === undefined ? '' : ` (the event stream had ended: ${end})`}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/**
 * A SubscribeToShard call through the SDK, with its events collected as they arrive. `next()`
 * returns the next SubscribeToShardEvent (bounded wait); the stream's end and errors are kept.
 */
export class SdkSubscription extends Waitable {
  readonly events: SubscribeToShardEvent[] = [];
  ended = false;
  error: unknown;
  private taken = 0;
  readonly abort = new AbortController();

  protected endNote(): string | undefined {
    if (!this.ended) return undefined;
    if (this.error === undefined) return 'cleanly';
    if (this.error instanceof Error) return `${this.error.name}: ${this.error.message}`;
    return JSON.stringify(this.error);
  }

  static async open(
    client: KinesisClient,
    consumerARN: string,
    shardId: string,
    position: StartingPosition,
  ): Promise<SdkSubscription> {
    const sub = new SdkSubscription();
    const out = await client.send(
      new SubscribeToShardCommand({ ConsumerARN: consumerARN, ShardId: shardId, StartingPosition: position }),
      { abortSignal: sub.abort.signal },
    );
    void sub.consume(out.EventStream!);
    return sub;
  }

  private async consume(stream: AsyncIterable<SubscribeToShardEventStream>): Promise<void> {
    try {
      for await (const ev of stream) {
        if (ev.SubscribeToShardEvent) this.events.push(ev.SubscribeToShardEvent);
        else this.error = ev;
        this.wake();
      }
    } catch (err) {
      this.error = err;
    } finally {
      this.ended = true;
      this.wake();
    }
  }



  /** The next event not yet taken. */
  async next(ms = 10_000): Promise<SubscribeToShardEvent> {
    await this.until(() => this.events.length > this.taken || this.ended, ms, 'an event');
    if (this.events.length <= this.taken) throw new Error(`the stream ended (${String(this.error)})`);
    return this.events[this.taken++]!;
  }

  /** Record data (as text) of every event so far. */
  texts(): string[] {
    return this.events.flatMap((e) => (e.Records ?? []).map((r) => Buffer.from(r.Data!).toString('utf8')));
  }

  /** The ContinuationSequenceNumber of the last event that had one. */
  lastContinuation(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const c = this.events[i]!.ContinuationSequenceNumber;
      if (c) return c;
    }
    return undefined;
  }

  close(): void {
    this.abort.abort();
  }
}

/** A SubscribeToShard call over raw HTTP/2 (h2c), with the response decoded message by message. */
export class RawSubscription extends Waitable {
  status = 0;
  headers: http2.IncomingHttpHeaders = {};
  readonly messages: DecodedMessage[] = [];
  body = Buffer.alloc(0);
  ended = false;
  closed = false;
  private readonly reader = new MessageReader();
  private readonly parsed: Array<Record<string, any>> = [];
  private parsedUpTo = 0;

  protected endNote(): string | undefined {
    return this.ended || this.closed ? `HTTP ${this.status}, ${this.messages.length} messages` : undefined;
  }

  constructor(
    readonly session: http2.ClientHttp2Session,
    readonly stream: http2.ClientHttp2Stream,
    readonly keepBody: boolean,
  ) {
    super();
    stream.on('response', (h) => {
      this.status = Number(h[':status']);
      this.headers = h;
      this.wake();
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.status === 200) {
        for (const m of this.reader.push(chunk)) this.messages.push(m);
      } else {
        this.body = Buffer.concat([this.body, chunk]);
      }
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('close', () => {
      this.closed = true;
      this.wake();
    });
    stream.on('error', () => {});
  }

  static open(
    endpoint: string,
    body: string | Buffer,
    opts: { contentType?: string; session?: http2.ClientHttp2Session; settings?: http2.Settings } = {},
  ): RawSubscription {
    const session = opts.session ?? http2.connect(endpoint, opts.settings ? { settings: opts.settings } : {});
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': '/',
      'content-type': opts.contentType ?? 'application/x-amz-json-1.1',
      'x-amz-target': 'Kinesis_20131202.SubscribeToShard',
      ...SIGNED,
    });
    stream.end(body);
    return new RawSubscription(session, stream, true);
  }



  /** Payloads of SubscribeToShardEvent messages, parsed as JSON (each message once). */
  jsonEvents(): Array<Record<string, any>> {
    for (; this.parsedUpTo < this.messages.length; this.parsedUpTo++) {
      const m = this.messages[this.parsedUpTo]!;
      if (header(m, ':event-type') === 'SubscribeToShardEvent') this.parsed.push(JSON.parse(m.payload.toString('utf8')));
    }
    return this.parsed;
  }

  /** Records delivered so far, counted from the parsed events. */
  recordCount(): number {
    return this.jsonEvents().reduce((n, e) => n + (e.Records as unknown[]).length, 0);
  }

  close(): void {
    this.session.destroy();
  }
}

/** The JSON body of a SubscribeToShard request. */
export function subscribeBody(consumerARN: string, shardId: string, position: Record<string, unknown>): string {
  return JSON.stringify({ ConsumerARN: consumerARN, ShardId: shardId, StartingPosition: position });
}

/** Polls `predicate` every few ms until it holds, at most `ms`. */
export async function eventually(predicate: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
