/**
 * The Lambda data-transformation processor (spec firehose.md §6.1): records go to a function in
 * invocations of at most BufferSizeInMBs of record data (and never more than Lambda's 6 MiB
 * synchronous payload), as the event Firehose sends:
 *   {invocationId, deliveryStreamArn, [sourceKinesisStreamArn], region,
 *    records: [{recordId, approximateArrivalTimestamp, data (base64), [kinesisRecordMetadata]}]}
 * and the reply `{records: [{recordId, result: Ok|Dropped|ProcessingFailed, data, metadata?}]}`
 * decides each record: Ok replaces its data (and `metadata.partitionKeys` feed
 * `!{partitionKeyFromLambda:k}`), Dropped removes it, anything else sends it to the error output
 * as `processing-failed` with the function's ARN.
 *
 * A failed invocation (the function is not there, throws, or answers other than 200) is tried
 * NumberOfRetries more times, at once; then the whole invocation's records fail. A reply that
 * arrives but is not the documented shape is final: retrying a function that answered gives the
 * same answer.
 */
import { randomUUID } from 'node:crypto';
import type { DeliveryRecord, FailedRecord } from './records.js';

/** What a function returned, or why it did not: thrown by LambdaFunction.invoke. */
export class LambdaInvokeError extends Error {
  constructor(
    readonly errorCode: 'Lambda.ResourceNotFound' | 'Lambda.FunctionError' | 'Lambda.JsonProcessingException',
    message: string,
  ) {
    super(message);
  }
}

/** A function to invoke; resolves with its reply parsed from JSON, or throws LambdaInvokeError. */
export interface LambdaFunction {
  invoke(event: LambdaEvent, context: { functionArn: string; invocationId: string }): Promise<unknown>;
}

/** Where function ARNs (or names) lead; undefined for a function that is not there. */
export interface LambdaFunctions {
  resolve(functionArn: string): LambdaFunction | undefined;
}

export interface LambdaEvent {
  invocationId: string;
  deliveryStreamArn: string;
  sourceKinesisStreamArn?: string;
  region: string;
  records: {
    recordId: string;
    approximateArrivalTimestamp: number;
    data: string;
    kinesisRecordMetadata?: {
      shardId: string;
      partitionKey: string;
      approximateArrivalTimestamp: number;
      sequenceNumber: string;
      subsequenceNumber: number;
    };
  }[];
}

export interface LambdaProcessorSettings {
  /** The LambdaArn parameter as configured. */
  functionArn: string;
  /** Retries after the first attempt (NumberOfRetries, default 3). */
  numberOfRetries: number;
  /** Record bytes per invocation (BufferSizeInMBs, default 1 MB). */
  bufferBytes: number;
}

export interface LambdaProcessorOptions extends LambdaProcessorSettings {
  functions: LambdaFunctions | undefined;
  deliveryStreamArn: string;
  region: string;
  sourceKinesisStreamArn?: string;
}

/** Lambda's limit on a synchronous invocation's request (and reply) payload. */
export const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** Room for one record's members besides its data in the event JSON. */
const RECORD_OVERHEAD = 512;
const EVENT_OVERHEAD = 1024;

export const MISSING_FUNCTION_MESSAGE = 'The Lambda function does not exist or Firehose is not mapped to it.';
export const FUNCTION_ERROR_MESSAGE = 'The Lambda function was successfully invoked but it returned an error result.';
export const MISSING_RECORD_ID_MESSAGE = 'One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.';
export const DUPLICATED_RECORD_ID_MESSAGE = 'Multiple records were returned with the same record Id. Ensure that the Lambda function returns a unique record Id for each record.';
export const PROCESSING_FAILED_MESSAGE = 'ProcessingFailed status set for record';

/** The processor's settings from the Lambda processor's parameters (defaults per the API reference). */
export function lambdaProcessorSettings(param: (name: string) => string | undefined): LambdaProcessorSettings | undefined {
  const functionArn = param('LambdaArn');
  if (!functionArn) return undefined;
  const retries = Number(param('NumberOfRetries') ?? '3');
  const mb = Number(param('BufferSizeInMBs') ?? '1');
  return {
    functionArn,
    numberOfRetries: Number.isInteger(retries) && retries >= 0 ? Math.min(retries, 300) : 3,
    // 0.2 to 3 MB; out of range values are held to the range.
    bufferBytes: Math.round((Number.isFinite(mb) ? Math.min(3, Math.max(0.2, mb)) : 1) * 1024 * 1024),
  };
}

export class LambdaProcessor {
  constructor(private readonly o: LambdaProcessorOptions) {}

  async process(records: DeliveryRecord[]): Promise<{ ok: DeliveryRecord[]; failed: FailedRecord[] }> {
    const ok: DeliveryRecord[] = [];
    const failed: FailedRecord[] = [];
    for (const batch of this.invocations(records)) {
      const result = await this.transform(batch);
      ok.push(...result.ok);
      failed.push(...result.failed);
    }
    return { ok, failed };
  }

  /** The records in invocations of at most bufferBytes of data and LAMBDA_PAYLOAD_LIMIT of event. */
  private *invocations(records: DeliveryRecord[]): Generator<DeliveryRecord[]> {
    let batch: DeliveryRecord[] = [];
    let bytes = 0;
    let payload = EVENT_OVERHEAD;
    for (const record of records) {
      const size = Math.ceil(record.data.length / 3) * 4 + RECORD_OVERHEAD;
      if (batch.length > 0 && (bytes + record.data.length > this.o.bufferBytes || payload + size > LAMBDA_PAYLOAD_LIMIT)) {
        yield batch;
        batch = [];
        bytes = 0;
        payload = EVENT_OVERHEAD;
      }
      batch.push(record);
      bytes += record.data.length;
      payload += size;
    }
    if (batch.length > 0) yield batch;
  }

  private async transform(records: DeliveryRecord[]): Promise<{ ok: DeliveryRecord[]; failed: FailedRecord[] }> {
    const fail = (errorCode: string, errorMessage: string, attemptsMade: number, which = records): FailedRecord[] =>
      which.map((record) => ({ record, errorCode, errorMessage, errorOutputType: 'processing-failed', attemptsMade, lambdaArn: this.o.functionArn }));
    const event = this.event(records);
    const fn = this.o.functions?.resolve(this.o.functionArn);
    let reply: unknown;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        if (!fn) throw new LambdaInvokeError('Lambda.ResourceNotFound', MISSING_FUNCTION_MESSAGE);
        reply = await fn.invoke(event, { functionArn: this.o.functionArn, invocationId: event.invocationId });
        break;
      } catch (err) {
        const e = err instanceof LambdaInvokeError ? err : new LambdaInvokeError('Lambda.FunctionError', FUNCTION_ERROR_MESSAGE);
        if (e.errorCode === 'Lambda.JsonProcessingException') return { ok: [], failed: fail(e.errorCode, e.message, attempts) };
        if (attempts > this.o.numberOfRetries) return { ok: [], failed: fail(e.errorCode, e.message, attempts) };
      }
    }
    const entries = (reply as { records?: unknown } | null)?.records;
    if (typeof reply !== 'object' || reply === null || Array.isArray(reply) || !Array.isArray(entries)) {
      return { ok: [], failed: fail('Lambda.JsonProcessingException', 'The Lambda function returned a response that is not a JSON object with a records array.', attempts) };
    }
    const byId = new Map<string, unknown>();
    const duplicated = new Set<string>();
    for (const entry of entries) {
      const id = (entry as { recordId?: unknown } | null)?.recordId;
      if (typeof id !== 'string') continue;
      if (byId.has(id)) duplicated.add(id);
      else byId.set(id, entry);
    }
    const ok: DeliveryRecord[] = [];
    const failed: FailedRecord[] = [];
    for (const record of records) {
      if (duplicated.has(record.id)) {
        failed.push(...fail('Lambda.DuplicatedRecordId', DUPLICATED_RECORD_ID_MESSAGE, attempts, [record]));
        continue;
      }
      const entry = byId.get(record.id);
      if (entry === undefined) {
        failed.push(...fail('Lambda.MissingRecordId', MISSING_RECORD_ID_MESSAGE, attempts, [record]));
        continue;
      }
      const verdict = verdictOf(entry as Record<string, unknown>);
      if (verdict.kind === 'dropped') continue;
      if (verdict.kind === 'failed') failed.push(...fail(verdict.errorCode, verdict.errorMessage, attempts, [record]));
      else {
        const transformed: DeliveryRecord = { ...record, data: verdict.data };
        if (verdict.keys) transformed.keysFromLambda = verdict.keys;
        ok.push(transformed);
      }
    }
    return { ok, failed };
  }

  private event(records: DeliveryRecord[]): LambdaEvent {
    return {
      invocationId: randomUUID(),
      deliveryStreamArn: this.o.deliveryStreamArn,
      ...(this.o.sourceKinesisStreamArn ? { sourceKinesisStreamArn: this.o.sourceKinesisStreamArn } : {}),
      region: this.o.region,
      records: records.map((r) => ({
        recordId: r.id,
        approximateArrivalTimestamp: r.arrival,
        data: r.data.toString('base64'),
        ...(r.kinesis
          ? {
              kinesisRecordMetadata: {
                shardId: r.kinesis.shardId,
                partitionKey: r.kinesis.partitionKey,
                approximateArrivalTimestamp: r.kinesis.approximateArrivalTimestamp,
                sequenceNumber: r.kinesis.sequenceNumber,
                subsequenceNumber: r.kinesis.subsequenceNumber ?? 0,
              },
            }
          : {}),
      })),
    };
  }
}

type Verdict =
  | { kind: 'ok'; data: Buffer; keys?: Record<string, string> }
  | { kind: 'dropped' }
  | { kind: 'failed'; errorCode: string; errorMessage: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function verdictOf(entry: Record<string, unknown>): Verdict {
  const shape = (message: string): Verdict => ({ kind: 'failed', errorCode: 'Lambda.JsonProcessingException', errorMessage: message });
  switch (entry.result) {
    case 'Dropped':
      return { kind: 'dropped' };
    case 'ProcessingFailed':
      return { kind: 'failed', errorCode: 'Lambda.ProcessingFailedStatus', errorMessage: PROCESSING_FAILED_MESSAGE };
    case 'Ok':
      break;
    default:
      return shape(`The result of record ${String(entry.recordId)} must be Ok, Dropped or ProcessingFailed, not ${JSON.stringify(entry.result ?? null)}.`);
  }
  if (typeof entry.data !== 'string') return shape('The data field cannot be null when the processing result is Ok.');
  if (!BASE64.test(entry.data)) return shape(`The data of record ${String(entry.recordId)} is not valid base64.`);
  const data = Buffer.from(entry.data, 'base64');
  const metadata = entry.metadata as { partitionKeys?: unknown } | undefined | null;
  if (metadata === undefined || metadata === null || metadata.partitionKeys === undefined || metadata.partitionKeys === null) return { kind: 'ok', data };
  const partitionKeys = metadata.partitionKeys;
  if (typeof partitionKeys !== 'object' || Array.isArray(partitionKeys)) return shape('metadata.partitionKeys must be an object of string values.');
  const keys: Record<string, string> = {};
  for (const [k, v] of Object.entries(partitionKeys)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return shape(`The partition key ${k} must have a string value.`);
    keys[k] = String(v);
  }
  return { kind: 'ok', data, keys };
}
