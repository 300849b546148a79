/**
 * The worker thread that runs jq-wasm for jq.ts: one message `{id, program, input}` in, one
 * `{id, stdout}` or `{id, error}` out. The jq instance is replaced every INSTANCE_CALLS calls and
 * after any failure; jq-wasm's writes to `process.exitCode` are undone after each call (they land
 * on this thread's process object, never the server's).
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

interface JqInstance {
  raw(input: string, program: string, flags: string[]): Promise<string>;
}

/** Calls one instance serves before a fresh one takes over (instances wear out after about 300). */
const INSTANCE_CALLS = 100;

function serve(): void {
  const port = parentPort;
  if (!port) throw new Error('jq-wasm-worker.js runs as a worker thread');
  // jq-wasm's own entry keeps one instance for the life of the process; its factory makes new ones.
  const factory = createRequire(import.meta.url)('jq-wasm/dist/build/jq.js') as () => Promise<JqInstance>;
  let instance: Promise<JqInstance> | undefined;
  let calls = 0;
  port.on('message', async (message: { id: number; program: string; input: string }) => {
    if (instance === undefined || calls >= INSTANCE_CALLS) {
      instance = factory();
      calls = 0;
    }
    calls++;
    try {
      const stdout = await (await instance).raw(message.input, message.program, ['-c']);
      port.postMessage({ id: message.id, stdout });
    } catch (err) {
      instance = undefined;
      port.postMessage({ id: message.id, error: String((err as Error)?.message ?? err) });
    } finally {
      process.exitCode = undefined;
    }
  });
}

serve();
