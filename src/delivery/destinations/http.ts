/**
 * The HTTP endpoint destination (spec firehose.md §9, after AWS's "HTTP endpoint delivery request
 * and response specifications", protocol version 1.0).
 *
 * A batch is POSTed to the endpoint's URL as JSON, `{"requestId", "timestamp", "records":
 * [{"data": base64}]}`, at most 10,000 records a request (a larger buffer is sent as several
 * requests, in order). The request id is a name-based UUID of the records a request carries, so
 * every attempt at the same records, after a restart too, sends the same id, and an endpoint can
 * tell a resend by it. Headers: `X-Amz-Firehose-Protocol-Version: 1.0`, `-Request-Id`,
 * `-Source-Arn`, `-Access-Key` (when configured), `-Common-Attributes` (when configured),
 * `Content-Type: application/json`, and `Content-Encoding: gzip` when the body is compressed.
 *
 * Only a 200 whose body is `application/json`, not content-encoded, names the request's id and
 * carries a numeric timestamp is a delivery. A 413 is a permanent failure: the records are
 * neither retried nor written to the error output (as AWS documents). Every other status, a
 * malformed answer, a response over 1 MiB, a refused or reset connection, a failed TLS handshake
 * and a request not answered within 3 minutes fail the attempt: the pipeline retries with backoff
 * for the retry duration, then the records that were not delivered go to the S3 backup as
 * `http-endpoint-failed` error records. Requests already answered with 200 are not sent again
 * when a later request of the same batch, or the all-data backup, fails.
 *
 * The backup is an S3 destination: with `AllData` every delivered batch is also written to it as
 * an object; failures are written under its error output prefix either way.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Logger } from 'pino';
import type { BatchDestination, DeliveryBatch } from '../pipeline.js';
import { errorRecordFields } from '../processors.js';
import type { DeliveryRecord, FailedRecord } from '../records.js';

const gzip = promisify(gzipCallback);

/** The error output type (`!{firehose:error-output-type}`) of records the endpoint did not take. */
export const HTTP_ENDPOINT_FAILED = 'http-endpoint-failed';
/** How long an endpoint has to answer a request (AWS: 3 minutes). */
export const HTTP_REQUEST_TIMEOUT_MS = 180_000;
/** The largest response body an endpoint may send (AWS: 1 MiB). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Records per request (AWS: 1..10,000). */
export const MAX_REQUEST_RECORDS = 10_000;
/** How much of a response body an error message quotes. */
const QUOTED_RESPONSE_CHARS = 1024;
/** Request ids remembered as answered while the rest of their batch is still pending. */
const MAX_ANSWERED_IDS = 10_000;
/** The namespace of request-id UUIDs (a random UUID fixed for this purpose). */
const REQUEST_ID_NAMESPACE = '6f1d2c3e8a4b4f6c9d0e7a1b2c3d4e5f';

export type HttpEndpointErrorCode =
  | 'HttpEndpoint.DestinationException'
  | 'HttpEndpoint.InvalidResponseFromDestination'
  | 'HttpEndpoint.RequestTimeout'
  | 'HttpEndpoint.ResponseTooLarge'
  | 'HttpEndpoint.ConnectionFailed'
  | 'HttpEndpoint.ConnectionReset'
  | 'HttpEndpoint.SSLHandshakeFailure';

/** A failed attempt, with the error code and message AWS records for it. */
export class HttpEndpointError extends Error {
  constructor(
    readonly errorCode: HttpEndpointErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpEndpointError';
  }
}

/** What came back from the endpoint. */
export interface EndpointResponse {
  status: number;
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  body: Buffer;
}

export type ResponseOutcome =
  | { ok: true }
  | { ok: false; /** 413: neither retried nor written to the error output. */ permanent: boolean; errorCode: HttpEndpointErrorCode; errorMessage: string };

const RESPONSE_FIELDS: ReadonlySet<string> = new Set(['requestId', 'timestamp', 'errorMessage']);

/** Judges a response to the request `requestId` by AWS's response rules. */
export function judgeResponse(requestId: string, response: EndpointResponse): ResponseOutcome {
  const text = response.body.toString('utf8');
  const quoted = text.length > QUOTED_RESPONSE_CHARS ? `${text.slice(0, QUOTED_RESPONSE_CHARS)}…` : text;
  if (response.status !== 200) {
    return {
      ok: false,
      permanent: response.status === 413,
      errorCode: 'HttpEndpoint.DestinationException',
      errorMessage: `Received the following response from the endpoint destination. ${response.status}: ${quoted}`,
    };
  }
  const problem = responseProblem(requestId, response, text);
  if (problem === undefined) return { ok: true };
  return {
    ok: false,
    permanent: false,
    errorCode: 'HttpEndpoint.InvalidResponseFromDestination',
    errorMessage:
      'The response received from the specified endpoint is invalid. Contact the owner of the endpoint to resolve the issue. ' +
      `Response for request ${requestId} ${problem}. Raw response received: 200 ${quoted}`,
  };
}

function responseProblem(requestId: string, response: EndpointResponse, text: string): string | undefined {
  const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') return 'does not have the content type application/json';
  if (response.contentEncoding !== undefined && response.contentEncoding.toLowerCase() !== 'identity') return 'is content-encoded';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'is not recognized as valid JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'is not recognized as a JSON object';
  const body = parsed as Record<string, unknown>;
  const unexpected = Object.keys(body).filter((k) => !RESPONSE_FIELDS.has(k));
  if (unexpected.length > 0) return `has unexpected fields (${unexpected.join(', ')})`;
  if (typeof body.requestId !== 'string') return 'has no requestId';
  if (body.requestId !== requestId) return `names another request (${body.requestId})`;
  if (typeof body.timestamp !== 'number' || !Number.isFinite(body.timestamp)) return 'has no timestamp (a number)';
  if (body.errorMessage !== undefined && typeof body.errorMessage !== 'string') return 'has an errorMessage that is not a string';
  return undefined;
}

/** The request id of a request carrying these records: a name-based (version 5) UUID of their ids and sizes. */
export function requestIdOf(records: readonly DeliveryRecord[]): string {
  const name = createHash('sha256');
  for (const r of records) name.update(`${r.id}:${r.data.length};`);
  const hash = createHash('sha1').update(REQUEST_ID_NAMESPACE, 'hex').update(name.digest()).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The request body: `{"requestId","timestamp","records":[{"data":base64}]}`. */
export function requestBody(requestId: string, timestamp: number, records: readonly DeliveryRecord[]): Buffer {
  const parts = [`{"requestId":${JSON.stringify(requestId)},"timestamp":${timestamp},"records":[`];
  for (let i = 0; i < records.length; i++) parts.push(`${i === 0 ? '' : ','}{"data":"${records[i]!.data.toString('base64')}"}`);
  parts.push(']}');
  return Buffer.from(parts.join(''));
}

export interface CommonAttribute {
  AttributeName: string;
  AttributeValue: string;
}

/** `X-Amz-Firehose-Common-Attributes`: `{"commonAttributes":{name:value}}`, non-ASCII escaped to fit a header. */
export function commonAttributesHeader(attributes: readonly CommonAttribute[]): string {
  const map: Record<string, string> = {};
  for (const a of attributes) map[a.AttributeName] = a.AttributeValue;
  return JSON.stringify({ commonAttributes: map }).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One record the endpoint did not take, as the JSON line AWS writes under `http-endpoint-failed`. */
export function httpEndpointErrorLine(failed: FailedRecord, now: number): string {
  const kinesis = failed.record.kinesis;
  const subsequenceNumber = kinesis?.subsequenceNumber ?? 0;
  return JSON.stringify({
    ...errorRecordFields(failed, now),
    subsequenceNumber,
    dataId: `${kinesis?.sequenceNumber ?? failed.record.id}.${subsequenceNumber}`,
  });
}

export interface HttpEndpointDestinationOptions {
  url: string;
  /** Sent verbatim as `X-Amz-Firehose-Access-Key`. */
  accessKey?: string | undefined;
  /** The delivery stream's ARN (`X-Amz-Firehose-Source-Arn`). */
  sourceArn: string;
  commonAttributes?: readonly CommonAttribute[] | undefined;
  /** `RequestConfiguration.ContentEncoding` GZIP. */
  gzip: boolean;
  /** `RetryOptions.DurationInSeconds` in ms. */
  retryForMs: number;
  /** The S3 backup: failures go to its error output, and with `backupAll` every delivered batch to it too. */
  backup: BatchDestination;
  backupAll: boolean;
  /** Certificates to trust besides Node's root certificates (PEM). */
  trustedCertificates?: readonly string[] | undefined;
  requestTimeoutMs?: number;
  logger?: Pick<Logger, 'error' | 'warn'>;
}

export class HttpEndpointDestination implements BatchDestination {
  readonly retryForMs: number;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly aborter = new AbortController();
  /** Requests answered with 200 whose batch is still pending (a later request or the backup failed). */
  private readonly answered = new Set<string>();

  constructor(private readonly o: HttpEndpointDestinationOptions) {
    this.retryForMs = o.retryForMs;
    this.url = new URL(o.url);
    const trusted = o.trustedCertificates ?? [];
    this.agent =
      this.url.protocol === 'http:'
        ? new http.Agent({ keepAlive: true })
        : new https.Agent({ keepAlive: true, ...(trusted.length > 0 ? { ca: [...rootCertificates, ...trusted] } : {}) });
  }

  async deliver(batch: DeliveryBatch, now: number): Promise<{ failed: FailedRecord[] }> {
    const requests = chunks(batch.records);
    for (const { requestId, records } of requests) {
      if (this.answered.has(requestId)) continue;
      const outcome = judgeResponse(requestId, await this.post(requestId, records, now));
      if (!outcome.ok) {
        if (!outcome.permanent) throw new HttpEndpointError(outcome.errorCode, outcome.errorMessage);
        this.o.logger?.error(
          { requestId, records: records.length, error: outcome.errorMessage },
          'the endpoint refused the request as too large (413): its records are dropped, as Firehose drops them',
        );
      }
      this.remember(requestId);
    }
    const failed = this.o.backupAll ? (await this.o.backup.deliver(batch, now)).failed : [];
    for (const { requestId } of requests) this.answered.delete(requestId);
    return { failed };
  }

  deliverFailures(failed: FailedRecord[], now: number): Promise<void> {
    return this.o.backup.deliverFailures(failed, now);
  }

  failuresAfterRetries(batch: DeliveryBatch, error: unknown, attemptsMade: number): FailedRecord[] {
    const errorCode = error instanceof HttpEndpointError ? error.errorCode : 'HttpEndpoint.DestinationException';
    const errorMessage = error instanceof Error ? error.message : String(error);
    const failed: FailedRecord[] = [];
    for (const { requestId, records } of chunks(batch.records)) {
      // Records the endpoint took are not failures, even if the all-data backup of them failed.
      if (this.answered.delete(requestId)) continue;
      for (const record of records) failed.push({ record, errorCode, errorMessage, errorOutputType: HTTP_ENDPOINT_FAILED, attemptsMade });
    }
    return failed;
  }

  /** Aborts requests in flight and closes idle connections. */
  close(): void {
    this.aborter.abort();
    this.agent.destroy();
  }

  private remember(requestId: string): void {
    if (this.answered.size >= MAX_ANSWERED_IDS) this.answered.delete(this.answered.values().next().value!);
    this.answered.add(requestId);
  }

  private async post(requestId: string, records: readonly DeliveryRecord[], now: number): Promise<EndpointResponse> {
    const json = requestBody(requestId, now, records);
    const body = this.o.gzip ? await gzip(json) : json;
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      'X-Amz-Firehose-Protocol-Version': '1.0',
      'X-Amz-Firehose-Request-Id': requestId,
      'X-Amz-Firehose-Source-Arn': this.o.sourceArn,
    };
    if (this.o.gzip) headers['Content-Encoding'] = 'gzip';
    if (this.o.accessKey !== undefined) headers['X-Amz-Firehose-Access-Key'] = this.o.accessKey;
    if (this.o.commonAttributes !== undefined) headers['X-Amz-Firehose-Common-Attributes'] = commonAttributesHeader(this.o.commonAttributes);
    return send(this.url, { method: 'POST', headers, agent: this.agent, signal: this.aborter.signal }, body, this.o.requestTimeoutMs ?? HTTP_REQUEST_TIMEOUT_MS);
  }
}

/** The requests a batch is sent as, in order, with their ids. */
function chunks(records: readonly DeliveryRecord[]): { requestId: string; records: DeliveryRecord[] }[] {
  const out: { requestId: string; records: DeliveryRecord[] }[] = [];
  for (let at = 0; at < records.length; at += MAX_REQUEST_RECORDS) {
    const part = records.slice(at, at + MAX_REQUEST_RECORDS);
    out.push({ requestId: requestIdOf(part), records: part });
  }
  return out;
}

/** One request: its response (body at most 1 MiB), or an HttpEndpointError. Redirects are not followed. */
function send(url: URL, options: http.RequestOptions, body: Buffer, timeoutMs: number): Promise<EndpointResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown, response?: EndpointResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (response) resolve(response);
      else reject(connectionError(err));
    };
    const request = (url.protocol === 'http:' ? http : https).request(url, options, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          request.destroy();
          finish(new HttpEndpointError('HttpEndpoint.ResponseTooLarge', `The response from the endpoint is larger than ${MAX_RESPONSE_BYTES} bytes.`));
          return;
        }
        parts.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          contentEncoding: res.headers['content-encoding'],
          body: Buffer.concat(parts),
        }),
      );
      res.on('error', (err) => finish(err));
      res.on('close', () => {
        if (!res.complete) finish(Object.assign(new Error('the endpoint closed the connection mid-response'), { code: 'ECONNRESET' }));
      });
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish(new HttpEndpointError('HttpEndpoint.RequestTimeout', `The endpoint did not answer within ${Math.round(timeoutMs / 1000)} seconds.`));
    }, timeoutMs);
    request.on('error', (err) => finish(err));
    request.end(body);
  });
}

/** TLS errors Node reports by these codes (the handshake failed or the certificate was not trusted). */
const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** The AWS error of a request that got no (whole) response. */
function connectionError(err: unknown): HttpEndpointError {
  if (err instanceof HttpEndpointError) return err;
  const code = String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
  const detail = (err as Error | undefined)?.message ?? String(err);
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new HttpEndpointError('HttpEndpoint.SSLHandshakeFailure', `The SSL handshake with the endpoint failed: ${detail}`);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ABORT_ERR') {
    return new HttpEndpointError('HttpEndpoint.ConnectionReset', `The connection to the endpoint was reset or closed early: ${detail}`);
  }
  return new HttpEndpointError('HttpEndpoint.ConnectionFailed', `Unable to connect to the endpoint: ${detail}`);
}
