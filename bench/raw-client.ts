import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Decoder, Encoder, type Options } from 'cbor-x';
import { checkEndpoint, errorMessage, errorName, sleep } from './util.js';

/**
 * A lean Kinesis client for the benchmark: node:http with keep-alive sockets,
 * request bodies the caller serializes (once, ahead of time, where it can),
 * responses parsed with JSON.parse or cbor-x and nothing else. Requests carry
 * a fixed, well-formed SigV4-shaped Authorization header; the servers measured
 * here check that it is present, not the signature.
 */

export const JSON_TYPE = 'application/x-amz-json-1.1';
export const CBOR_TYPE = 'application/x-amz-cbor-1.1';
const TARGET_PREFIX = 'Kinesis_20131202.';
const ACCESS_KEY = 'AKIDBENCHMARK0000000';
const REGION = 'us-east-1';
const REQUEST_TIMEOUT_MS = 60_000;

const cborEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
} as Options);

const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as Options);

export function encodeCbor(value: unknown): Buffer {
  return cborEncoder.encode(value);
}

export function decodeCbor(body: Buffer): unknown {
  return cborDecoder.decode(body);
}

/** UTC time as SigV4 writes it: 20240131T235959Z. */
function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A failed call: `name` is the Kinesis error type, `$metadata` as the SDK reports it. */
export class RawCallError extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

export interface RawResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Error type from an error response: header first, then `__type` in the body. */
function errorOf(res: RawResponse, errorTypeHeader: string | undefined): RawCallError {
  let type = errorTypeHeader ?? '';
  let message = '';
  if (res.body.length > 0) {
    try {
      const doc = (res.contentType.startsWith(CBOR_TYPE)
        ? decodeCbor(res.body)
        : JSON.parse(res.body.toString('utf8'))) as { __type?: unknown; message?: unknown; Message?: unknown };
      if (!type && typeof doc?.__type === 'string') type = doc.__type;
      const m = doc?.message ?? doc?.Message;
      if (typeof m === 'string') message = m;
    } catch {
      message = res.body.subarray(0, 200).toString('utf8');
    }
  }
  // "com.amazon.coral.service#X" and "X:http://..." both name X.
  type = type.split('#').pop()?.split(':')[0] ?? '';
  const name = type || `HTTP${res.status}`;
  return new RawCallError(name, message || `HTTP ${res.status}${res.body.length ? '' : ' with an empty body'}`, res.status);
}

export class RawClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly authorization: string;
  private readonly date: string;

  constructor(endpoint: string, sockets: number) {
    const url = checkEndpoint(endpoint);
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
    this.agent = new Agent({
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets: sockets,
      maxFreeSockets: sockets,
      scheduling: 'lifo',
    });
    this.date = amzDate(new Date());
    const signature = createHash('sha256').update(`tributary-bench-${this.date}`).digest('hex');
    this.authorization =
      `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${this.date.slice(0, 8)}/${REGION}/kinesis/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${signature}`;
  }

  /** One POST; resolves with whatever status the server answered. */
  post(operation: string, body: Buffer, contentType: string): Promise<RawResponse & { errorType?: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          method: 'POST',
          path: '/',
          headers: {
            'Content-Type': contentType,
            'Content-Length': body.length,
            'X-Amz-Target': TARGET_PREFIX + operation,
            'X-Amz-Date': this.date,
            Authorization: this.authorization,
          },
        },
        (res) => {
          const declared = Number(res.headers['content-length']);
          const known = Number.isSafeInteger(declared) && declared >= 0;
          const whole = known ? Buffer.allocUnsafe(declared) : null;
          const chunks: Buffer[] = [];
          let length = 0;
          res.on('data', (chunk: Buffer) => {
            if (whole && length + chunk.length <= whole.length) chunk.copy(whole, length);
            else chunks.push(chunk);
            length += chunk.length;
          });
          res.on('error', reject);
          res.on('end', () => {
            let out: Buffer;
            if (whole && length === whole.length) out = whole;
            else if (whole) out = Buffer.concat([whole.subarray(0, Math.min(length, whole.length)), ...chunks]);
            else out = Buffer.concat(chunks, length);
            const errorType = res.headers['x-amzn-errortype'];
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              body: out,
              ...(typeof errorType === 'string' ? { errorType } : {}),
            });
          });
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${operation} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A JSON call: throws RawCallError unless the status is 200, returns the parsed body (null when empty). */
  async json<T>(operation: string, body: Buffer): Promise<T | null> {
    const res = await this.post(operation, body, JSON_TYPE);
    if (res.status !== 200) throw errorOf(res, res.errorType);
    return res.body.length === 0 ? null : (JSON.parse(res.body.toString('utf8')) as T);
  }

  /** A CBOR call: throws RawCallError unless the status is 200, returns the decoded body (null when empty). */
  async cbor<T>(operation: string, body: Buffer): Promise<T | null> {
    const res = await this.post(operation, body, CBOR_TYPE);
    if (res.status !== 200) throw errorOf(res, res.errorType);
    if (res.body.length === 0) return null;
    if (!res.contentType.startsWith(CBOR_TYPE)) {
      throw new RawCallError('UnexpectedContentType', `${operation} answered ${res.contentType || 'no content type'}`, res.status);
    }
    try {
      return decodeCbor(res.body) as T;
    } catch (err) {
      throw new RawCallError(
        'UndecodableResponse',
        `${operation}, ${res.body.length} bytes: ${err instanceof Error ? err.message : String(err)}`,
        res.status,
      );
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A response that does not have the shape the API promises. */
export function malformed(operation: string, what: string): RawCallError {
  return new RawCallError('MalformedResponse', `${operation}: ${what}`, 200);
}

export type ReadFormat = 'cbor' | 'json';

export interface RecordsPage {
  records: Array<{ Data?: unknown }>;
  nextShardIterator: string | undefined;
}

/** JSON text of a GetRecords request, as bytes. */
function getRecordsJson(iterator: string, limit: number): Buffer {
  return Buffer.from(`{"ShardIterator":${JSON.stringify(iterator)},"Limit":${limit}}`);
}

/** One GetRecords call in the given wire format, response fully decoded and its shape checked. */
export async function getRecords(
  client: RawClient,
  format: ReadFormat,
  iterator: string,
  limit: number,
): Promise<RecordsPage> {
  const doc =
    format === 'cbor'
      ? await client.cbor<{ Records?: unknown; NextShardIterator?: unknown }>(
          'GetRecords',
          encodeCbor({ ShardIterator: iterator, Limit: limit }),
        )
      : await client.json<{ Records?: unknown; NextShardIterator?: unknown }>(
          'GetRecords',
          getRecordsJson(iterator, limit),
        );
  if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.Records)) {
    throw malformed('GetRecords', 'no Records list');
  }
  const next = doc.NextShardIterator;
  if (next !== undefined && next !== null && typeof next !== 'string') {
    throw malformed('GetRecords', 'NextShardIterator is not a string');
  }
  return { records: doc.Records as Array<{ Data?: unknown }>, nextShardIterator: next ?? undefined };
}

/**
 * The bytes of a record's Data: a CBOR byte string as it is, a base64 string
 * (JSON, or CBOR from a server that writes blobs as text) decoded; null when
 * Data is missing or of another type.
 */
export function recordBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  return null;
}

/**
 * GetRecords through the raw client: CBOR when the server answers it, else
 * JSON. `open` decides with one untimed CBOR call on an iterator the caller
 * does not use again; a later CBOR answer that does not decode (a server that
 * cuts long CBOR answers short) switches the reader to JSON for the rest of
 * the run. Either way `note()` says so, as it does when a server writes Data
 * as base64 text inside CBOR instead of a byte string.
 */
export class RecordsReader {
  /** CBOR records whose Data came as text. */
  textData = 0;
  /** Why the reader reads in JSON, when it does. */
  private reason: string | undefined;

  private constructor(
    private readonly client: RawClient,
    private current: ReadFormat,
    reason?: string,
  ) {
    this.reason = reason;
  }

  static async open(client: RawClient, probeIterator: string, probeLimit: number): Promise<RecordsReader> {
    for (let attempt = 0; ; attempt++) {
      try {
        await getRecords(client, 'cbor', probeIterator, probeLimit);
        return new RecordsReader(client, 'cbor');
      } catch (err) {
        if (attempt < 5 && /Throughput|Throttl|LimitExceeded/i.test(errorName(err))) {
          await sleep(250);
          continue;
        }
        return new RecordsReader(client, 'json', RecordsReader.why(err));
      }
    }
  }

  private static why(err: unknown): string {
    return errorName(err) === 'UndecodableResponse'
      ? `a CBOR answer did not decode: ${(err as Error).message}`
      : `CBOR GetRecords failed: ${errorMessage(err)}`;
  }

  get format(): ReadFormat {
    return this.current;
  }

  async read(iterator: string, limit: number): Promise<RecordsPage> {
    let page: RecordsPage;
    try {
      page = await getRecords(this.client, this.current, iterator, limit);
    } catch (err) {
      if (this.current !== 'cbor' || errorName(err) !== 'UndecodableResponse') throw err;
      this.current = 'json';
      this.reason = RecordsReader.why(err);
      page = await getRecords(this.client, this.current, iterator, limit);
    }
    if (this.current === 'cbor') {
      for (const r of page.records) if (typeof r.Data === 'string') this.textData++;
    }
    return page;
  }

  /** What a reader of the figures should know about the wire format, or null. */
  note(): string | null {
    const why: string[] = [];
    if (this.reason) why.push(`read in JSON (${this.reason})`);
    if (this.textData > 0) {
      why.push(
        `CBOR answers carried Data as base64 text, not a byte string (${this.textData.toLocaleString('en-US')} ` +
          'records); the client decoded it',
      );
    }
    return why.length > 0 ? why.join('; ') : null;
  }

  details(): Record<string, unknown> {
    return {
      readFormat: this.current,
      ...(this.reason ? { jsonBecause: this.reason } : {}),
      cborTextDataRecords: this.textData,
    };
  }
}

/** A PutRecords request body, serialized once. */
export function putRecordsBody(stream: string, records: ReadonlyArray<{ data: Uint8Array; key: string }>): Buffer {
  return Buffer.from(
    JSON.stringify({
      StreamName: stream,
      Records: records.map((r) => ({ Data: Buffer.from(r.data).toString('base64'), PartitionKey: r.key })),
    }),
  );
}

/** A PutRecord request body, serialized once. */
export function putRecordBody(stream: string, data: Uint8Array, key: string): Buffer {
  return Buffer.from(
    JSON.stringify({ StreamName: stream, PartitionKey: key, Data: Buffer.from(data).toString('base64') }),
  );
}

export interface PutRecordsOutcome {
  /** FailedRecordCount as the server reported it. */
  failed: number;
  /** The ErrorCode of each failed entry, in order (as many as failed). */
  errorCodes: string[];
  /** Per entry: true when it carries an ErrorCode. */
  rejected: boolean[];
}

/**
 * Checks a PutRecords response for `sent` entries: FailedRecordCount present,
 * one result per entry, each with a SequenceNumber or an ErrorCode, and as many
 * ErrorCodes as FailedRecordCount says.
 */
export function checkPutRecords(doc: unknown, sent: number): PutRecordsOutcome {
  const d = doc as { FailedRecordCount?: unknown; Records?: unknown } | null;
  if (d === null || typeof d !== 'object') throw malformed('PutRecords', 'not an object');
  if (typeof d.FailedRecordCount !== 'number') throw malformed('PutRecords', 'no FailedRecordCount');
  if (!Array.isArray(d.Records) || d.Records.length !== sent) {
    throw malformed('PutRecords', `expected ${sent} results, got ${Array.isArray(d.Records) ? d.Records.length : 'none'}`);
  }
  const errorCodes: string[] = [];
  const rejected: boolean[] = new Array(sent);
  for (let i = 0; i < sent; i++) {
    const r = d.Records[i] as { SequenceNumber?: unknown; ErrorCode?: unknown } | null;
    const code = r?.ErrorCode;
    if (typeof code === 'string' && code) {
      errorCodes.push(code);
      rejected[i] = true;
    } else if (typeof r?.SequenceNumber === 'string' && r.SequenceNumber) {
      rejected[i] = false;
    } else {
      throw malformed('PutRecords', `result ${i} has neither SequenceNumber nor ErrorCode`);
    }
  }
  if (errorCodes.length !== d.FailedRecordCount) {
    throw malformed('PutRecords', `FailedRecordCount ${d.FailedRecordCount} but ${errorCodes.length} ErrorCodes`);
  }
  return { failed: d.FailedRecordCount, errorCodes, rejected };
}

/** Checks a PutRecord response: SequenceNumber and ShardId present. */
export function checkPutRecord(doc: unknown): void {
  const d = doc as { SequenceNumber?: unknown; ShardId?: unknown } | null;
  if (d === null || typeof d !== 'object') throw malformed('PutRecord', 'not an object');
  if (typeof d.SequenceNumber !== 'string' || !d.SequenceNumber) throw malformed('PutRecord', 'no SequenceNumber');
  if (typeof d.ShardId !== 'string' || !d.ShardId) throw malformed('PutRecord', 'no ShardId');
}
