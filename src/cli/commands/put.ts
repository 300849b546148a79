/**
 * `tributary put <stream>`: writes records read from stdin or files, one per line or one per file.
 *
 * Records go through the client library's Producer, which batches them into PutRecords calls (at
 * most 500 entries and 5 MiB), retries failed entries with backoff, keeps the order of each
 * partition key, and with --aggregate packs them into KPL aggregated records.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { type Command, Option } from 'commander';
import { Producer } from '../../client/index.js';
import { type ClientOptions, describeError, fail, kinesisClient, positiveNumber, withClientOptions } from '../client-options.js';

interface PutOptions extends ClientOptions {
  file?: string[];
  wholeFile?: boolean;
  partitionKey?: string;
  keyField?: string;
  keyTemplate?: string;
  rate?: number;
  aggregate?: boolean;
}

/** Records put but not yet acknowledged, at most: reading waits below these. */
const MAX_OUTSTANDING_RECORDS = 10_000;
const MAX_OUTSTANDING_BYTES = 32 * 1024 * 1024;

/** The lines of a byte stream, without their "\n" (or "\r\n"); empty lines are left out. */
export async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of stream) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const line = trimCr(buf.subarray(start, nl));
      if (line.length > 0) yield line;
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  }
  if (rest) {
    const line = trimCr(rest);
    if (line.length > 0) yield line;
  }
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The records of every source in turn: "-" is stdin. */
async function* recordsOf(sources: readonly string[], wholeFile: boolean): AsyncGenerator<Buffer> {
  for (const source of sources) {
    if (wholeFile) {
      yield source === '-' ? await readAll(process.stdin) : await readFile(source);
      continue;
    }
    const stream = source === '-' ? process.stdin : createReadStream(source);
    yield* lines(stream as AsyncIterable<Buffer>);
  }
}

/** The value at a dotted path of a JSON document (`customer.id`), as partition-key text. */
export function fieldText(doc: unknown, path: string): string | undefined {
  let v: unknown = doc;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Picks each record's partition key from the options: a fixed key, a JSON field, a template, or random. */
export function keyChooser(opts: Pick<PutOptions, 'partitionKey' | 'keyField' | 'keyTemplate'>): (data: Buffer, n: number) => string {
  if (opts.partitionKey !== undefined) {
    const key = opts.partitionKey;
    return () => key;
  }
  const parse = (data: Buffer, n: number): unknown => {
    try {
      return JSON.parse(data.toString('utf8'));
    } catch {
      throw new Error(`record ${n} is not JSON, so it has no field for its partition key`);
    }
  };
  if (opts.keyField !== undefined) {
    const field = opts.keyField;
    return (data, n) => {
      const key = fieldText(parse(data, n), field);
      if (key === undefined || key === '') throw new Error(`record ${n} has no field ${field} for its partition key`);
      return key;
    };
  }
  if (opts.keyTemplate !== undefined) {
    const template = opts.keyTemplate;
    return (data, n) => {
      let doc: unknown;
      let parsed = false;
      return template.replace(/\{([^{}]+)\}/g, (_, name: string) => {
        if (name === 'n') return String(n);
        if (!parsed) {
          doc = parse(data, n);
          parsed = true;
        }
        const v = fieldText(doc, name);
        if (v === undefined) throw new Error(`record ${n} has no field ${name} for its partition key`);
        return v;
      });
    };
  }
  return () => randomUUID();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function put(stream: string, opts: PutOptions): Promise<void> {
  const sources = opts.file?.length ? opts.file : ['-'];
  for (const source of sources) {
    if (source === '-') continue;
    try {
      await access(source, constants.R_OK);
    } catch (err) {
      console.error(`tributary put: cannot read ${source} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      process.exit(1);
    }
  }
  if (sources.includes('-') && process.stdin.isTTY) console.error('tributary put: reading records from stdin, one per line (end with Ctrl-D)');
  const kinesis = kinesisClient(opts, { maxAttempts: 1 });
  try {
    // Fail at once, on one line, when the stream or the endpoint is not there.
    await kinesis.send(new ListShardsCommand({ StreamName: stream, MaxResults: 1 }));
  } catch (err) {
    fail(err, opts);
  }
  const producer = new Producer({ streamName: stream, kinesisClient: kinesis, aggregation: opts.aggregate === true });
  const chooseKey = keyChooser(opts);
  const started = Date.now();
  let read = 0;
  let records = 0;
  let bytes = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let outstanding = 0;
  let outstandingBytes = 0;
  let drained: (() => void) | undefined;
  const noteFailure = (message: string) => {
    failed++;
    firstFailure ??= message;
  };

  try {
    for await (const data of recordsOf(sources, opts.wholeFile === true)) {
      const n = ++read;
      let key: string;
      try {
        key = chooseKey(data, n);
      } catch (err) {
        noteFailure((err as Error).message);
        continue;
      }
      if (opts.rate !== undefined) {
        const due = started + ((n - 1) / opts.rate) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
      }
      while (outstanding >= MAX_OUTSTANDING_RECORDS || outstandingBytes >= MAX_OUTSTANDING_BYTES) {
        await new Promise<void>((r) => (drained = r));
      }
      outstanding++;
      outstandingBytes += data.length;
      producer.put(key, data).then(
        () => {
          records++;
          bytes += data.length;
        },
        (err: unknown) => noteFailure(`record ${n}: ${describeError(err, opts).replace(/^tributary: /, '')}`),
      ).finally(() => {
        outstanding--;
        outstandingBytes -= data.length;
        drained?.();
        drained = undefined;
      });
    }
  } catch (err) {
    // A file that cannot be read: what was read so far is still sent.
    await producer.close();
    kinesis.destroy();
    console.error(`tributary put: ${(err as Error).message}`);
    process.exit(1);
  }
  await producer.close();
  const metrics = producer.metrics();
  kinesis.destroy();
  const seconds = (Date.now() - started) / 1000;
  const aggregated = opts.aggregate ? `, in ${metrics.recordsPut} Kinesis records` : '';
  const failures = failed ? `, ${failed} failed` : '';
  console.error(`tributary put: ${records} records, ${bytes} bytes in ${seconds.toFixed(2)} s${aggregated}${failures}`);
  if (firstFailure !== undefined) {
    console.error(`tributary put: ${firstFailure}`);
    process.exit(1);
  }
}

export function registerPut(program: Command): void {
  withClientOptions(
    program
      .command('put')
      .description('write records from stdin or files to a stream, one per line (or one per file with --whole-file)'),
  )
    .argument('<stream>', 'the stream')
    .option('-f, --file <file...>', 'read these files in turn ("-" is stdin) instead of stdin')
    .option('--whole-file', 'each file (or all of stdin) is one record, not one record per line')
    .addOption(new Option('--partition-key <text>', 'the partition key of every record (default: a random key per record)').conflicts(['keyField', 'keyTemplate']))
    .addOption(new Option('--key-field <field>', 'take the partition key from this field of each JSON record (a.b for nested)').conflicts('keyTemplate'))
    .option('--key-template <template>', 'build the partition key: {n} is the record number, {a.b} a JSON field')
    .addOption(new Option('--rate <records/s>', 'send at most this many records per second').argParser(positiveNumber))
    .option('--aggregate', 'pack records into KPL aggregated records (read back with de-aggregation, as `tail` does)')
    .addHelpText(
      'after',
      '\nEmpty lines are skipped and a trailing "\\r" is removed. A one-line summary goes to stderr;\n' +
        'the exit status is 1 if any record could not be written.',
    )
    .action((stream: string, opts: PutOptions) => put(stream, opts).catch((err: unknown) => fail(err, opts)));
}
