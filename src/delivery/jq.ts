/**
 * jq for the MetadataExtraction processor: one query over many JSON inputs, one result per input.
 *
 * Two backends run the same program:
 * - `system`: the jq binary (Debian's /usr/bin/jq, 1.6, the engine Firehose names `JQ-1.6`), one
 *   child process per call, the inputs on its stdin one per line, `-c --unbuffered`. A call holds
 *   at most `maxInputBytes` of input (a bigger batch is several calls) and is killed after
 *   `timeoutMs`. Starting a process costs about 100 ms, so batches are what make it cheap.
 * - `wasm`: jq compiled to WebAssembly (jq-wasm), run in a worker thread (jq-wasm-worker.ts) so
 *   that a runaway query can be stopped by terminating the worker and jq-wasm's writes to
 *   `process.exitCode` stay in that thread. The worker takes a fresh jq instance every 100 calls
 *   and after any failure (an instance wears out after a few hundred calls, and a compile error
 *   leaves it unusable); inputs go in chunks of 8 KiB because jq-wasm's cost grows with the
 *   square of a call's input.
 *
 * The query is wrapped so that every input yields exactly one line, `{"ok":[outputs…]}` or
 * `{"err":<error>}`: a runtime error fails its own input only. A call that ends before every input
 * has its line (jq died, or was killed on timeout) gives the input it stopped at that failure and
 * starts again after it; when the call started again stops at its very first input too, the
 * inputs left all take that failure (a query that loops on every input costs two or three
 * timeouts, not one per input). jq-wasm gives its output only at the end of a call, so after a
 * call of several inputs that gave nothing, those inputs are tried one per call to find the one
 * at fault. A compile error fails every input with jq's message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Worker } from 'node:worker_threads';

export type JqBackend = 'system' | 'wasm';

/** One input's result: the query's outputs, or why there are none. */
export type JqResult = { ok: true; outputs: unknown[] } | { ok: false; error: string };

export interface JqRunner {
  readonly backend: JqBackend;
  /** Runs `query` on each input (one JSON text each). */
  each(query: string, inputs: readonly string[]): Promise<JqResult[]>;
  /** Stops the worker or the child processes under way. */
  close(): Promise<void>;
}

export interface JqRunnerOptions {
  /** `system` needs the binary; without a choice, the binary when it is there, else wasm. */
  backend?: JqBackend;
  /** The jq binary (default /usr/bin/jq). */
  jqPath?: string;
  /** A call (one process, or one chunk in the worker) running longer is stopped (default 10 s). */
  timeoutMs?: number;
  /** Input bytes per call (default 1 MiB for the binary, 8 KiB for wasm). */
  maxInputBytes?: number;
}

export const DEFAULT_JQ_PATH = '/usr/bin/jq';
const DEFAULT_TIMEOUT_MS = 10_000;
const SYSTEM_CALL_BYTES = 1024 * 1024;
const WASM_CALL_BYTES = 8 * 1024;

/** Whether the jq binary is there to run. */
export function systemJqAvailable(jqPath = DEFAULT_JQ_PATH): boolean {
  try {
    accessSync(jqPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function createJqRunner(options: JqRunnerOptions = {}): JqRunner {
  const jqPath = options.jqPath ?? DEFAULT_JQ_PATH;
  const backend = options.backend ?? (systemJqAvailable(jqPath) ? 'system' : 'wasm');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const engine = backend === 'system' ? new SystemJq(jqPath, timeoutMs) : new WasmJq(timeoutMs);
  const maxBytes = options.maxInputBytes ?? (backend === 'system' ? SYSTEM_CALL_BYTES : WASM_CALL_BYTES);
  return {
    backend,
    each: (query, inputs) => runEach(engine, query, inputs, maxBytes),
    close: () => engine.close(),
  };
}

/** How one call of a backend ended: its stdout, and the failure that cut it short, if any. */
interface CallOutcome {
  stdout: string;
  failure?: { kind: 'compile' | 'timeout' | 'failed'; message: string };
}

interface Engine {
  /** Whether a call's output shows how far it got before a failure (else it is all or nothing). */
  readonly streams: boolean;
  call(program: string, input: string): Promise<CallOutcome>;
  close(): Promise<void>;
}

/** The user's query inside the wrapper; newlines keep a trailing `# comment` from eating it. */
function wrap(query: string): string {
  return `try ({ok: [\n${query}\n]}) catch {err: .}`;
}

async function runEach(engine: Engine, query: string, inputs: readonly string[], maxBytes: number): Promise<JqResult[]> {
  const program = wrap(query);
  const results: JqResult[] = new Array(inputs.length);
  let next = 0;
  let restarted = false;
  // After a call that gave nothing and cannot tell which input stopped it, its inputs go one per call.
  let singleUntil = 0;
  while (next < inputs.length) {
    // The inputs of this call: at least one, then as many as fit in maxBytes.
    let end = next;
    let bytes = 0;
    do {
      bytes += Buffer.byteLength(inputs[end]!) + 1;
      end++;
    } while (end >= singleUntil && end < inputs.length && bytes + Buffer.byteLength(inputs[end]!) + 1 <= maxBytes);
    const outcome = await engine.call(program, inputs.slice(next, end).join('\n') + '\n');
    const lines = outcome.stdout.split('\n').filter((l) => l !== '');
    if (outcome.failure?.kind === 'compile') {
      for (let i = next; i < inputs.length; i++) results[i] = { ok: false, error: outcome.failure.message };
      return results;
    }
    const done = Math.min(lines.length, end - next);
    for (let i = 0; i < done; i++) results[next + i] = lineResult(lines[i]!);
    if (done === end - next) {
      next = end;
      restarted = false;
      continue;
    }
    if (done === 0 && end - next > 1 && !engine.streams) {
      singleUntil = end;
      restarted = false;
      continue;
    }
    // The call stopped at input next + done.
    const message = outcome.failure?.message || 'jq ended before giving a result for this record';
    if (done === 0 && restarted) {
      for (let i = next; i < inputs.length; i++) results[i] = { ok: false, error: message };
      return results;
    }
    results[next + done] = { ok: false, error: message };
    next += done + 1;
    restarted = true;
  }
  return results;
}

function lineResult(line: string): JqResult {
  let parsed: { ok?: unknown[]; err?: unknown };
  try {
    parsed = JSON.parse(line) as { ok?: unknown[]; err?: unknown };
  } catch {
    return { ok: false, error: `jq gave output that is not JSON: ${line.slice(0, 200)}` };
  }
  if (Array.isArray(parsed.ok)) return { ok: true, outputs: parsed.ok };
  const err = parsed.err;
  return { ok: false, error: typeof err === 'string' ? err : `${JSON.stringify(err)} (not a string)` };
}

/** The jq binary, a process per call. */
class SystemJq implements Engine {
  readonly streams = true;
  private readonly running = new Set<ChildProcess>();

  constructor(
    private readonly jqPath: string,
    private readonly timeoutMs: number,
  ) {}

  call(program: string, input: string): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const child = spawn(this.jqPath, ['-c', '--unbuffered', program], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.running.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let spawnError: Error | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      child.stdout!.on('data', (b: Buffer) => out.push(b));
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      // jq stops reading when it fails to compile or dies: the rest of the input has nowhere to go.
      child.stdin!.on('error', () => {});
      child.on('error', (e) => {
        spawnError = e;
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.running.delete(child);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8').trim();
        if (timedOut) return resolve({ stdout, failure: { kind: 'timeout', message: `the jq query ran longer than ${this.timeoutMs} ms` } });
        if (spawnError) return resolve({ stdout, failure: { kind: 'failed', message: `jq could not be started: ${spawnError.message}` } });
        if (code === 0) return resolve({ stdout });
        const kind = code === 3 || /compile error/.test(stderr) ? 'compile' : 'failed';
        resolve({ stdout, failure: { kind, message: stderr || `jq ended with ${signal ?? `status ${code}`}` } });
      });
      child.stdin!.end(input);
    });
  }

  async close(): Promise<void> {
    for (const child of this.running) child.kill('SIGKILL');
    this.running.clear();
  }
}

interface WorkerReply {
  id: number;
  stdout?: string;
  error?: string;
}

/** jq-wasm in a worker thread; calls go one at a time. */
class WasmJq implements Engine {
  readonly streams = false;
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private closed = false;

  constructor(private readonly timeoutMs: number) {}

  call(program: string, input: string): Promise<CallOutcome> {
    const run = this.queue.then(() => this.callNow(program, input));
    this.queue = run.catch(() => {});
    return run;
  }

  private callNow(program: string, input: string): Promise<CallOutcome> {
    if (this.closed) return Promise.resolve({ stdout: '', failure: { kind: 'failed', message: 'jq is closed' } });
    const worker = (this.worker ??= this.startWorker());
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const finish = (outcome: CallOutcome) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(outcome);
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.id !== id) return;
        if (reply.error === undefined) return finish({ stdout: reply.stdout ?? '' });
        finish({ stdout: '', failure: { kind: /compile error/.test(reply.error) ? 'compile' : 'failed', message: reply.error } });
      };
      const onError = (err: Error) => {
        this.dropWorker(worker);
        finish({ stdout: '', failure: { kind: 'failed', message: `jq failed: ${err.message}` } });
      };
      const onExit = () => {
        this.dropWorker(worker);
        finish({ stdout: '', failure: { kind: 'failed', message: 'jq stopped' } });
      };
      const timer = setTimeout(() => {
        this.dropWorker(worker);
        void worker.terminate();
        finish({ stdout: '', failure: { kind: 'timeout', message: `the jq query ran longer than ${this.timeoutMs} ms` } });
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, program, input });
    });
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./jq-wasm-worker.js', import.meta.url));
    worker.unref();
    return worker;
  }

  private dropWorker(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
