import http2 from 'node:http2';
import { crc32 } from 'node:zlib';
import {
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  RegisterStreamConsumerCommand,
  type StartingPosition,
  SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';
import { type BenchClient, isUnsupported } from '../client.js';
import { checkEndpoint, errorMessage, errorName, nowMs, sleep } from '../util.js';
import { UnsupportedError } from './types.js';

/**
 * Enhanced fan-out for the benchmark. Consumers are registered through the SDK. Subscriptions are
 * read either by the AWS SDK v3 client with its default request handler, which is HTTP/2 (h2c
 * against an http:// endpoint, one connection per subscription), as applications use it
 * (`--client sdk`), or by a lean HTTP/2 reader that frames the event stream itself and parses
 * each event with JSON.parse (`--client raw`), which leaves more of the machine to the server.
 */

/** What the scenarios look at in a record: the first bytes of its data, and its size. */
export interface RecordView {
  head: Buffer;
  size: number;
}

/** Bytes of each record's data the scenarios need (their payload header). */
export const HEAD_BYTES = 21;

/** `promise`, or a rejection with `message` after `ms`; the timer never outlives the race. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Kinesis client for SubscribeToShard: the SDK's default HTTP/2 handler, no automatic retries. */
export function makeStreamingClient(endpoint: string): KinesisClient {
  checkEndpoint(endpoint);
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCHMARK0000000', secretAccessKey: 'benchmark-secret-key' },
    maxAttempts: 1,
  });
}

async function streamArn(c: BenchClient, stream: string): Promise<string> {
  const r = await c.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  const arn = r.StreamDescriptionSummary?.StreamARN;
  if (!arn) throw new Error(`no StreamARN for ${stream}`);
  return arn;
}

/** Registers a consumer and waits (bounded) until it is ACTIVE; returns its ARN. */
export async function registerConsumer(c: BenchClient, stream: string, name: string, timeoutMs = 60_000): Promise<string> {
  const arn = await streamArn(c, stream);
  let consumerArn: string | undefined;
  try {
    const r = await c.kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: name }));
    consumerArn = r.Consumer?.ConsumerARN;
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError(`RegisterStreamConsumer not supported (${errorMessage(err)})`);
    throw err;
  }
  if (!consumerArn) throw new Error('RegisterStreamConsumer returned no ConsumerARN');
  const deadline = nowMs() + timeoutMs;
  let wait = 10;
  for (;;) {
    try {
      const d = await c.kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerArn }));
      if (d.ConsumerDescription?.ConsumerStatus === 'ACTIVE') return consumerArn;
    } catch (err) {
      if (!/LimitExceeded|Throttl/i.test(errorName(err))) throw err;
    }
    if (nowMs() > deadline) throw new Error(`consumer ${name} not ACTIVE after ${timeoutMs} ms`);
    await sleep(wait);
    wait = Math.min(wait * 2, 250);
  }
}

/** Deregisters a consumer; never throws (the stream is deleted with EnforceConsumerDeletion anyway). */
export async function deregisterConsumer(c: BenchClient, consumerArn: string): Promise<void> {
  try {
    await c.kinesis.send(new DeregisterStreamConsumerCommand({ ConsumerARN: consumerArn }));
  } catch {
    // best effort
  }
}

export type EventHandler = (records: RecordView[], receivedNs: bigint) => void;

/** Something that reads one shard for one consumer until stopped. */
export interface ShardReader {
  readonly ready: Promise<void>;
  readonly subscriptions: number;
  readonly events: number;
  readonly errors: string[];
  stop(): Promise<void>;
}

/** A reader of the kind `--client` asks for. */
export function shardReader(
  kind: 'sdk' | 'raw',
  endpoint: string,
  sdk: KinesisClient,
  consumerArn: string,
  shardId: string,
  onEvent: EventHandler,
): ShardReader {
  return kind === 'raw'
    ? new RawShardReader(endpoint, consumerArn, shardId, onEvent)
    : new SdkShardReader(sdk, consumerArn, shardId, onEvent);
}

/**
 * The loop both readers share: subscribe, deliver events, and when a subscription ends (the
 * server ends them every 5 minutes) subscribe again after the last ContinuationSequenceNumber.
 */
abstract class ResubscribingReader implements ShardReader {
  protected stopped = false;
  protected continuation: string | undefined;
  subscriptions = 0;
  events = 0;
  errors: string[] = [];
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private failReady!: (err: unknown) => void;
  private firstSeen = false;
  private done: Promise<void> | undefined;

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    this.ready.catch(() => {});
    queueMicrotask(() => {
      this.done = this.run();
      this.done.catch(() => {});
    });
  }

  protected position(): StartingPosition {
    return this.continuation === undefined
      ? { Type: 'LATEST' }
      : { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.continuation };
  }

  protected sawEvent(continuation: string | undefined): void {
    this.events++;
    if (continuation) this.continuation = continuation;
    if (!this.firstSeen) {
      this.firstSeen = true;
      this.markReady();
    }
  }

  /** One subscription, from open to end; throws what refused or broke it. */
  protected abstract subscribeOnce(): Promise<void>;
  protected abstract cancel(): void;

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.subscribeOnce();
      } catch (err) {
        if (this.stopped) break;
        if (isUnsupported(err)) {
          const e = new UnsupportedError(`SubscribeToShard not supported (${errorMessage(err)})`);
          this.failReady(e);
          throw e;
        }
        this.errors.push(errorName(err));
        if (this.errors.length > 50) {
          this.failReady(err);
          throw err;
        }
        // Resubscribing too soon is refused (1 call/s, 5 s takeover): wait and try again.
        await sleep(/ResourceInUse/.test(errorName(err)) ? 1_000 : 200);
      } finally {
        this.cancel();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel();
    await this.done?.catch(() => {});
  }
}

class SdkShardReader extends ResubscribingReader {
  private abort: AbortController | null = null;

  constructor(
    private readonly client: KinesisClient,
    private readonly consumerArn: string,
    private readonly shardId: string,
    private readonly onEvent: EventHandler,
  ) {
    super();
  }

  protected async subscribeOnce(): Promise<void> {
    this.abort = new AbortController();
    const out = await this.client.send(
      new SubscribeToShardCommand({ ConsumerARN: this.consumerArn, ShardId: this.shardId, StartingPosition: this.position() }),
      { abortSignal: this.abort.signal },
    );
    this.subscriptions++;
    for await (const ev of out.EventStream ?? []) {
      const t = process.hrtime.bigint();
      const e = ev.SubscribeToShardEvent;
      if (!e) {
        this.errors.push(Object.keys(ev).join(','));
        return;
      }
      const views: RecordView[] = [];
      for (const r of e.Records ?? []) {
        const d = r.Data;
        if (!d) continue;
        const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        views.push({ head: b.subarray(0, HEAD_BYTES), size: b.length });
      }
      this.sawEvent(e.ContinuationSequenceNumber);
      this.onEvent(views, t);
      if (this.stopped) return;
    }
  }

  protected cancel(): void {
    // Leaving the loop early does not close the HTTP/2 stream by itself.
    this.abort?.abort();
  }
}

const AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK0000000/20260101/us-east-1/kinesis/aws4_request, ' +
  'SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=' + '0'.repeat(64);

class EventFrameError extends Error {}

/** A lean reader: one h2c session per subscription, event-stream frames split and checked here. */
class RawShardReader extends ResubscribingReader {
  private session: http2.ClientHttp2Session | null = null;

  constructor(
    private readonly endpoint: string,
    private readonly consumerArn: string,
    private readonly shardId: string,
    private readonly onEvent: EventHandler,
  ) {
    super();
  }

  protected subscribeOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const session = http2.connect(this.endpoint);
      this.session = session;
      session.on('error', reject);
      const stream = session.request({
        ':method': 'POST',
        ':path': '/',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Kinesis_20131202.SubscribeToShard',
        'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''),
        authorization: AUTHORIZATION,
      });
      let status = 0;
      let chunks: Buffer[] = [];
      let length = 0;
      stream.on('response', (h) => {
        status = Number(h[':status']);
        if (status === 200) this.subscriptions++;
      });
      stream.on('data', (chunk: Buffer) => {
        const t = process.hrtime.bigint();
        chunks.push(chunk);
        length += chunk.length;
        if (status !== 200) return;
        try {
          while (length >= 4) {
            const total = (chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks)).readUInt32BE(0);
            if (length < total) break;
            const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
            this.message(all.subarray(0, total), t);
            const rest = all.subarray(total);
            chunks = rest.length > 0 ? [rest] : [];
            length = rest.length;
          }
        } catch (err) {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(err);
        }
      });
      stream.on('end', () => {
        if (status === 200) {
          resolve();
          return;
        }
        let type = `HTTP ${status}`;
        try {
          type = (JSON.parse(Buffer.concat(chunks).toString()) as { __type?: string }).__type ?? type;
        } catch {
          // not JSON
        }
        const err = new Error(type);
        err.name = type;
        reject(err);
      });
      stream.on('error', reject);
      stream.end(JSON.stringify({ ConsumerARN: this.consumerArn, ShardId: this.shardId, StartingPosition: this.position() }));
    });
  }

  private message(frame: Buffer, t: bigint): void {
    const total = frame.length;
    const headersLength = frame.readUInt32BE(4);
    if (crc32(frame.subarray(0, 8)) !== frame.readUInt32BE(8) || crc32(frame.subarray(0, total - 4)) !== frame.readUInt32BE(total - 4)) {
      throw new EventFrameError('event-stream CRC mismatch');
    }
    const headers = new Map<string, string>();
    for (let pos = 12; pos < 12 + headersLength; ) {
      const n = frame[pos]!;
      const name = frame.toString('utf8', pos + 1, pos + 1 + n);
      pos += 1 + n;
      if (frame[pos] !== 7) throw new EventFrameError(`unexpected header type ${frame[pos]}`);
      const v = frame.readUInt16BE(pos + 1);
      headers.set(name, frame.toString('utf8', pos + 3, pos + 3 + v));
      pos += 3 + v;
    }
    if (headers.get(':message-type') !== 'event') {
      const err = new Error(headers.get(':exception-type') ?? headers.get(':error-code') ?? 'error');
      err.name = err.message;
      throw err;
    }
    if (headers.get(':event-type') !== 'SubscribeToShardEvent') return;
    const doc = JSON.parse(frame.toString('utf8', 12 + headersLength, total - 4)) as {
      Records: Array<{ Data: string }>;
      ContinuationSequenceNumber?: string;
    };
    const views: RecordView[] = new Array(doc.Records.length);
    for (let i = 0; i < doc.Records.length; i++) {
      const b64 = doc.Records[i]!.Data;
      const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
      views[i] = { head: Buffer.from(b64.slice(0, 28), 'base64'), size: (b64.length / 4) * 3 - pad };
    }
    this.sawEvent(doc.ContinuationSequenceNumber);
    this.onEvent(views, t);
  }

  protected cancel(): void {
    this.session?.destroy();
    this.session = null;
  }
}
