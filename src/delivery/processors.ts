/**
 * The record processors of a ProcessingConfiguration, applied in Firehose's order:
 * RecordDeAggregation (JSON or DELIMITED sub-records), Lambda (lambda.ts), MetadataExtraction (a
 * jq query whose object result gives the partition keys), then AppendDelimiterToRecord. A record
 * a processor cannot handle goes to the error output; the others go on.
 *
 * jq runs through a JqRunner (jq.ts): a batch of records is one call (or a few), each record that
 * parses as JSON one input, and a query error fails its own record only. A record that is not
 * JSON, or whose query fails or gives no single object of scalar values, goes to the error output
 * as `processing-failed` (the error output types AWS documents have no other for it).
 */
import type { JqRunner } from './jq.js';
import { lambdaProcessorSettings, type LambdaProcessorSettings } from './lambda.js';
import type { DeliveryRecord, FailedRecord } from './records.js';
import type { RecordProcessor } from './pipeline.js';

export interface ProcessorConfig {
  Type: string;
  Parameters?: { ParameterName: string; ParameterValue: string }[];
}

export interface ProcessingSettings {
  deaggregation?: { type: 'JSON' } | { type: 'DELIMITED'; delimiter: Buffer };
  lambda?: LambdaProcessorSettings;
  metadataQuery?: string;
  appendDelimiter?: Buffer;
  /** Processor types configured that this engine does not run (Decompression, …). */
  unsupported: string[];
}

/** The processors of a configuration, or undefined when processing is off. */
export function processingSettings(config: { Enabled?: boolean; Processors?: ProcessorConfig[] } | undefined): ProcessingSettings | undefined {
  if (!config || config.Enabled === false || !config.Processors?.length) return undefined;
  const settings: ProcessingSettings = { unsupported: [] };
  for (const p of config.Processors) {
    const param = (name: string) => p.Parameters?.find((x) => x.ParameterName === name)?.ParameterValue;
    switch (p.Type) {
      case 'RecordDeAggregation':
        settings.deaggregation =
          param('SubRecordType') === 'DELIMITED' ? { type: 'DELIMITED', delimiter: Buffer.from(param('Delimiter') ?? 'Cg==', 'base64') } : { type: 'JSON' };
        break;
      case 'Lambda': {
        const lambda = lambdaProcessorSettings(param);
        if (lambda) settings.lambda = lambda;
        else settings.unsupported.push('Lambda (no LambdaArn)');
        break;
      }
      case 'MetadataExtraction': {
        const query = param('MetadataExtractionQuery');
        if (query) settings.metadataQuery = query;
        break;
      }
      case 'AppendDelimiterToRecord':
        settings.appendDelimiter = Buffer.from(unescape(param('Delimiter') ?? '\\n'));
        break;
      default:
        settings.unsupported.push(p.Type);
    }
  }
  return settings;
}

/** `\n`, `\t`, `\r` and `\\` in a Delimiter parameter stand for the characters. */
function unescape(text: string): string {
  return text.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
}

export class BuiltInProcessor implements RecordProcessor {
  constructor(
    private readonly settings: ProcessingSettings,
    private readonly jq: JqRunner | undefined,
    /** The Lambda stage, when the configuration has one. */
    private readonly lambda?: RecordProcessor,
  ) {}

  async process(records: DeliveryRecord[]): Promise<{ ok: DeliveryRecord[]; failed: FailedRecord[] }> {
    const failed: FailedRecord[] = [];
    let ok = records;
    if (this.settings.deaggregation) ok = ok.flatMap((r) => splitRecord(r, this.settings.deaggregation!, failed));
    if (this.lambda && ok.length > 0) {
      const transformed = await this.lambda.process(ok);
      ok = transformed.ok;
      failed.push(...transformed.failed);
    }
    if (this.settings.metadataQuery) ok = await extractKeys(ok, this.settings.metadataQuery, this.jq, failed);
    const delimiter = this.settings.appendDelimiter;
    if (delimiter) ok = ok.map((r) => ({ ...r, data: Buffer.concat([r.data, delimiter]) }));
    return { ok, failed };
  }
}

function splitRecord(record: DeliveryRecord, how: NonNullable<ProcessingSettings['deaggregation']>, failed: FailedRecord[]): DeliveryRecord[] {
  const pieces: Buffer[] = [];
  if (how.type === 'DELIMITED') {
    let at = 0;
    for (;;) {
      const next = record.data.indexOf(how.delimiter, at);
      if (next < 0) break;
      pieces.push(record.data.subarray(at, next));
      at = next + how.delimiter.length;
    }
    if (at < record.data.length) pieces.push(record.data.subarray(at));
  } else {
    const text = record.data.toString('utf8');
    const bounds = jsonObjectBounds(text);
    if (bounds === undefined) {
      failed.push({ record, errorCode: 'Processor.RecordDeAggregation', errorMessage: 'The record is not a sequence of JSON objects.', errorOutputType: 'processing-failed', attemptsMade: 1 });
      return [];
    }
    for (const [start, end] of bounds) pieces.push(Buffer.from(text.slice(start, end)));
  }
  return pieces.map((data, i) => ({ ...record, id: i === 0 ? record.id : `${record.id}.${i}`, data }));
}

/** The [start, end) of each top-level JSON object in concatenated JSON, or undefined if it is not that. */
function jsonObjectBounds(text: string): [number, number][] | undefined {
  const out: [number, number][] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (depth === 0) return undefined;
      inString = true;
    } else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) out.push([start, i + 1]);
    } else if (depth === 0 && !/\s/.test(c)) {
      return undefined;
    }
  }
  return depth === 0 && out.length > 0 ? out : undefined;
}

async function extractKeys(records: DeliveryRecord[], query: string, jq: JqRunner | undefined, failed: FailedRecord[]): Promise<DeliveryRecord[]> {
  const parsed: DeliveryRecord[] = [];
  const inputs: string[] = [];
  for (const record of records) {
    const text = record.data.toString('utf8');
    try {
      // Parsed here so that each record is exactly one JSON value: one input of the jq call.
      JSON.parse(text);
      inputs.push(text);
      parsed.push(record);
    } catch {
      failed.push(extractionFailure(record, 'Non JSON record provided'));
    }
  }
  if (parsed.length === 0) return [];
  if (!jq) {
    for (const record of parsed) failed.push(extractionFailure(record, 'No jq engine is available to run the metadata extraction query.'));
    return [];
  }
  const results = await jq.each(query, inputs);
  const ok: DeliveryRecord[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const record = parsed[i]!;
    const result = results[i]!;
    if (!result.ok) {
      failed.push(extractionFailure(record, result.error));
      continue;
    }
    const value = result.outputs.length === 1 ? result.outputs[0] : undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      failed.push(extractionFailure(record, 'The metadata extraction query did not give one JSON object.'));
      continue;
    }
    const keys: Record<string, string> = {};
    let bad: string | undefined;
    for (const [k, v] of Object.entries(value)) {
      if (v === null || typeof v === 'object') bad = `The partition key ${k} is not a scalar value.`;
      else keys[k] = String(v);
    }
    if (bad) failed.push(extractionFailure(record, bad));
    else ok.push({ ...record, keysFromQuery: keys });
  }
  return ok;
}

function extractionFailure(record: DeliveryRecord, message: string): FailedRecord {
  return { record, errorCode: 'DynamicPartitioning.MetadataExtractionFailed', errorMessage: message, errorOutputType: 'processing-failed', attemptsMade: 1 };
}

/** The members every error record Firehose writes starts with, in its order. */
export function errorRecordFields(failed: FailedRecord, now: number): Record<string, unknown> {
  return {
    attemptsMade: failed.attemptsMade,
    arrivalTimestamp: failed.record.arrival,
    errorCode: failed.errorCode,
    errorMessage: failed.errorMessage,
    attemptEndingTimestamp: now,
    rawData: failed.record.data.toString('base64'),
  };
}

/** The JSON line Firehose writes under the error output prefix for a failed record. */
export function errorRecordLine(failed: FailedRecord, now: number): string {
  const out = errorRecordFields(failed, now);
  // AWS's documentation spells it lambdaArn; the records it writes spell it lambdaARN.
  if (failed.lambdaArn) out.lambdaARN = failed.lambdaArn;
  if (failed.record.kinesis) {
    out.sequenceNumber = failed.record.kinesis.sequenceNumber;
    if (failed.record.kinesis.subsequenceNumber !== undefined) out.subSequenceNumber = failed.record.kinesis.subsequenceNumber;
  }
  return JSON.stringify(out);
}
